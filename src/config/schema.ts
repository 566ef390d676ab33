// The one configuration schema: defaults, descriptions and types from a single declaration.
// Every key is documented here; docs/configuration.md is generated from it (npm run docs:config).
import { Type, type Static } from '@sinclair/typebox';

const Str = (description: string, opts: object = {}) => Type.String({ description, ...opts });
const Int = (description: string, def: number, opts: object = {}) =>
  Type.Integer({ description, default: def, ...opts });
const Bool = (description: string, def: boolean) => Type.Boolean({ description, default: def });
const Strict = { additionalProperties: false } as const;

export const MfaPolicy = Type.Union(
  [Type.Literal('required'), Type.Literal('optional'), Type.Literal('off')],
  { description: 'MFA policy: required (default), optional (only when the RP asks or the user has a factor), off', default: 'required' },
);
export type MfaPolicy = Static<typeof MfaPolicy>;

export const ClientSchema = Type.Object({
  clientId: Str('OAuth client_id', { minLength: 1, maxLength: 200 }),
  clientSecret: Type.Optional(Str('Client secret (confidential clients). Prefer clientSecretFile.', { minLength: 16, secret: true })),
  clientSecretFile: Type.Optional(Str('File holding the client secret (Docker/Kubernetes secrets)')),
  name: Type.Optional(Str('Display name shown on the consent page')),
  redirectUris: Type.Array(Str('Registered redirect URI (exact match)'), { default: [] }),
  postLogoutRedirectUris: Type.Array(Str('Registered post_logout_redirect_uri'), { default: [] }),
  grantTypes: Type.Array(Type.Union([
    Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials'),
  ]), { default: ['authorization_code', 'refresh_token'], description: 'Allowed grant types' }),
  tokenEndpointAuthMethod: Type.Union([
    Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('none'),
  ], { default: 'client_secret_basic', description: 'none = public client (PKCE still required)' }),
  scopes: Type.Array(Str('Allowed scope'), { default: ['openid', 'profile', 'email', 'groups', 'offline_access'] }),
  firstParty: Bool('First-party clients skip the consent page', false),
  mfa: MfaPolicy,
  accessTokenFormat: Type.Union([Type.Literal('jwt'), Type.Literal('opaque')], { default: 'jwt', description: 'Access token format' }),
  idTokenSigningAlg: Type.Union([Type.Literal('ES256'), Type.Literal('RS256')], { default: 'ES256', description: 'ID token signing algorithm' }),
  backchannelLogoutUri: Type.Optional(Str('Back-channel logout URI')),
  duoFailMode: Type.Optional(Type.Union([Type.Literal('closed'), Type.Literal('open')], { description: 'Per-client override of mfa.duo.failMode' })),
}, { ...Strict, description: 'An OIDC client' });
export type ClientConfig = Static<typeof ClientSchema>;

export const ConfigSchema = Type.Object({
  mode: Type.Union([Type.Literal('development'), Type.Literal('production')], {
    default: 'development',
    description: 'production refuses dev-only values (generated secret, http issuer). NODE_ENV=production implies it.',
  }),
  server: Type.Object({
    host: Str('Listen address', { default: '127.0.0.1' }),
    port: Int('Listen port', 3000, { minimum: 0, maximum: 65535 }),
    issuer: Str('Public base URL; the OIDC issuer and the base of every link', { default: '' }),
    allowHttpIssuer: Bool('Allow an http:// issuer in production (only behind a trusted TLS-terminating proxy on a private network)', false),
    trustProxy: Bool('Trust X-Forwarded-* headers from a reverse proxy', false),
    bodyLimitBytes: Int('Maximum request body size', 262144, { minimum: 1024 }),
    shutdownGraceMs: Int('How long in-flight requests may take to finish on SIGTERM', 10000, { minimum: 0 }),
  }, { ...Strict, default: {} }),
  dataDir: Str('Data directory (embedded database, generated dev secret)', { default: './data' }),
  secret: Type.Optional(Str('Master secret: encrypts keys and seeds at rest, signs cookies. At least 32 characters. Generated in development if unset.', { minLength: 32, secret: true })),
  database: Type.Object({
    url: Type.Optional(Str('PostgreSQL URL. Unset: embedded PGlite under dataDir.', { secret: true })),
    poolMax: Int('Maximum pool connections', 10, { minimum: 1 }),
    connectionTimeoutMs: Int('Connection timeout', 2000, { minimum: 100 }),
    statementTimeoutMs: Int('Statement timeout', 5000, { minimum: 100 }),
    sweepIntervalSeconds: Int('How often expired rows are deleted', 60, { minimum: 1 }),
  }, { ...Strict, default: {} }),
  passwords: Type.Object({
    memoryKiB: Int('argon2id memory cost (OWASP: 19456 = 19 MiB)', 19456, { minimum: 1024 }),
    iterations: Int('argon2id iterations (OWASP: 2)', 2, { minimum: 1 }),
    parallelism: Int('argon2id parallelism', 1, { minimum: 1 }),
    minLength: Int('Minimum password length', 12, { minimum: 8 }),
  }, { ...Strict, default: {} }),
  security: Type.Object({
    lockoutThreshold: Int('Consecutive failures of one account before a temporary lockout', 10, { minimum: 1, maximum: 100 }),
    lockoutSeconds: Int('Temporary lockout duration', 900, { minimum: 1 }),
    progressiveDelayMs: Int('Delay added per consecutive failure (capped at 5 s)', 250, { minimum: 0 }),
    ipLimitPerMinute: Int('Login attempts per client IP per minute', 30, { minimum: 1 }),
  }, { ...Strict, default: {} }),
  oidc: Type.Object({
    clients: Type.Array(ClientSchema, { default: [], description: 'Registered OIDC clients' }),
    accessTokenTtlSeconds: Int('Access token lifetime', 600, { minimum: 30 }),
    idTokenTtlSeconds: Int('ID token lifetime', 600, { minimum: 30 }),
    refreshTokenTtlSeconds: Int('Refresh token lifetime', 14 * 86400, { minimum: 60 }),
    sessionTtlSeconds: Int('SSO session lifetime', 12 * 3600, { minimum: 60 }),
    interactionTtlSeconds: Int('How long a login may take', 900, { minimum: 60 }),
    keyRotationGraceSeconds: Int('How long a retired signing key stays published', 86400, { minimum: 0 }),
  }, { ...Strict, default: {} }),
  mfa: Type.Object({
    factors: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('duo')]), {
      default: ['totp'], minItems: 1, uniqueItems: true,
      description: 'Enabled second factors in display order (at least one)',
    }),
    freshSeconds: Int('How recent a second factor must be for sensitive account actions', 300, { minimum: 30 }),
    totp: Type.Object({
      issuer: Str('Issuer label shown in authenticator apps', { default: 'Gatehouse' }),
      maxAttempts: Int('Wrong codes allowed per challenge', 5, { minimum: 1, maximum: 10 }),
    }, { ...Strict, default: {} }),
    duo: Type.Object({
      clientId: Type.Optional(Str('Duo Client ID (Integration key), 20 characters', { minLength: 20, maxLength: 20 })),
      clientSecret: Type.Optional(Str('Duo Client Secret (Secret key), 40 characters', { minLength: 40, maxLength: 40, secret: true })),
      apiHost: Type.Optional(Str('Duo API hostname, e.g. api-XXXXXXXX.duosecurity.com (no scheme, no path)', { pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$' })),
      failMode: Type.Union([Type.Literal('closed'), Type.Literal('open')], { default: 'closed', description: 'What happens when Duo is unreachable before the redirect' }),
      bypassPolicy: Type.Union([Type.Literal('mfa'), Type.Literal('single-factor'), Type.Literal('deny')], { default: 'single-factor', description: 'How a Duo bypass (allow without prompt) counts' }),
      usernameSource: Type.Union([Type.Literal('username'), Type.Literal('lowercase'), Type.Literal('email'), Type.Literal('alias')], { default: 'lowercase', description: 'Which value is sent to Duo as the username' }),
      caFile: Type.Optional(Str('Extra CA (PEM) trusted for the Duo API connection (TLS-inspecting proxy, emulator)')),
      timeoutMs: Int('Deadline for every Duo call', 5000, { minimum: 100 }),
      healthCacheSeconds: Int('How long a health-check result is reused', 10, { minimum: 0 }),
    }, { ...Strict, default: {} }),
  }, { ...Strict, default: {} }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'Log level' }),
    auditRetentionDays: Int('Days audit events are kept in the database', 90, { minimum: 1 }),
  }, { ...Strict, default: {} }),
  metrics: Type.Object({
    enabled: Bool('Serve Prometheus metrics at /metrics', true),
    token: Type.Optional(Str('Bearer token required for /metrics', { secret: true })),
  }, { ...Strict, default: {} }),
  ui: Type.Object({
    productName: Str('Product name on the pages', { default: 'Gatehouse' }),
    primaryColor: Str('Accent colour (#rrggbb)', { default: '#1f5fbf', pattern: '^#[0-9a-fA-F]{6}$' }),
  }, { ...Strict, default: {} }),
}, { ...Strict, description: 'Gatehouse configuration' });

export type Config = Static<typeof ConfigSchema>;
