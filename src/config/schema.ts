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
  accessTokenFormat: Type.Union([Type.Literal('jwt'), Type.Literal('opaque')], {
    default: 'jwt', description: 'Format of access tokens for the API resource <issuer>/api (client credentials, or resource= in the code flow); userinfo tokens are always opaque',
  }),
  accessTokenAudience: Type.Union([Type.Literal('userinfo'), Type.Literal('api')], {
    default: 'userinfo', description: 'Code flow without resource=: userinfo (an opaque token for the userinfo endpoint) or api (a token for <issuer>/api, no userinfo)',
  }),
  idTokenSigningAlg: Type.Union([Type.Literal('ES256'), Type.Literal('RS256')], { default: 'ES256', description: 'ID token signing algorithm' }),
  backchannelLogoutUri: Type.Optional(Str('Back-channel logout URI')),
  duoFailMode: Type.Optional(Type.Union([Type.Literal('closed'), Type.Literal('open')], { description: 'Per-client override of mfa.duo.failMode' })),
}, { ...Strict, description: 'An OIDC client' });
export type ClientConfig = Static<typeof ClientSchema>;

const SamlAttribute = Type.Object({
  name: Str('Attribute Name in the assertion (e.g. urn:oid:0.9.2342.19200300.100.1.3 or "email")', { minLength: 1, maxLength: 512 }),
  friendlyName: Type.Optional(Str('FriendlyName shown alongside the Name')),
  nameFormat: Type.Union([Type.Literal('uri'), Type.Literal('basic'), Type.Literal('unspecified')], { default: 'uri', description: 'Attribute NameFormat' }),
  source: Type.Union(['id', 'username', 'email', 'name', 'groups', 'emailVerified'].map((v) => Type.Literal(v)), { description: 'User field the value comes from (groups is multi-valued)' }),
}, { ...Strict, description: 'One attribute released to the SP' });

export const SamlSpSchema = Type.Object({
  entityId: Type.Optional(Str('SP entity ID. Read from the metadata when metadataFile/metadataXml is set (and must then agree).', { minLength: 1, maxLength: 1024 })),
  name: Type.Optional(Str('Display name on the sign-in page')),
  metadataFile: Type.Optional(Str('SP metadata XML file: entity ID, ACS and SLO endpoints, certificates')),
  metadataXml: Type.Optional(Str('SP metadata XML, inline (instead of metadataFile)')),
  acs: Type.Array(Type.Object({
    url: Str('AssertionConsumerService URL (HTTP-POST binding)', { minLength: 1 }),
    index: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'Index an AuthnRequest may name instead of the URL' })),
    isDefault: Bool('Used when the AuthnRequest names no ACS', false),
  }, Strict), { default: [], description: 'ACS endpoints (in addition to those in the metadata)' }),
  sloUrl: Type.Optional(Str('SingleLogoutService URL')),
  sloResponseUrl: Type.Optional(Str('Where LogoutResponses go, when not sloUrl')),
  sloBinding: Type.Union([Type.Literal('redirect'), Type.Literal('post')], { default: 'redirect', description: 'Binding of sloUrl' }),
  signingCerts: Type.Array(Str('Certificate (PEM or base64 DER) the SP signs requests with; two during a rotation'), { default: [] }),
  signingCertFiles: Type.Array(Str('File holding a signing certificate (PEM)'), { default: [] }),
  encryptionCert: Type.Optional(Str('Certificate (PEM or base64 DER) assertions are encrypted to')),
  encryptionCertFile: Type.Optional(Str('File holding the encryption certificate (PEM)')),
  nameIdFormat: Type.Union(['persistent', 'emailAddress', 'transient', 'unspecified'].map((v) => Type.Literal(v)), { default: 'persistent', description: 'NameID format' }),
  nameIdSource: Type.Union(['id', 'pairwise', 'username', 'email'].map((v) => Type.Literal(v)), { default: 'id', description: 'NameID value: user id, a per-SP pairwise id, username or email (transient ignores it)' }),
  attributes: Type.Array(SamlAttribute, { default: [], description: 'Attributes released to the SP' }),
  requireSignedRequests: Bool('AuthnRequests must be signed (LogoutRequests always must)', false),
  sign: Type.Union([Type.Literal('response'), Type.Literal('assertion'), Type.Literal('both')], { default: 'both', description: 'What the IdP signs (RSA-SHA256)' }),
  encryptAssertion: Bool('Encrypt the assertion (AES-256-GCM, key transport RSA-OAEP) to the encryption certificate', false),
  mfa: MfaPolicy,
  duoFailMode: Type.Optional(Type.Union([Type.Literal('closed'), Type.Literal('open')], { description: 'Per-SP override of mfa.duo.failMode' })),
  allowIdpInitiated: Bool('Allow IdP-initiated login at /saml/init?sp=<entityID>', false),
  idpInitiatedRelayState: Type.Optional(Str('RelayState sent with IdP-initiated responses (e.g. the SP start page)', { maxLength: 1024 })),
}, { ...Strict, description: 'A SAML service provider' });
export type SamlSpConfig = Static<typeof SamlSpSchema>;

export const ConfigSchema = Type.Object({
  mode: Type.Union([Type.Literal('development'), Type.Literal('production')], {
    default: 'development',
    description: 'production refuses dev-only values: a generated secret, a missing or http:// issuer (unless server.allowHttpIssuer), values starting with "dev-only". NODE_ENV=production implies it.',
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
    maxQueueWaitMs: Int('Longest expected wait for a hashing slot (at most one hash per core runs at a time). A password check that would wait longer is refused at once with 503 and Retry-After, so a login flood cannot queue without bound; 0 = queue without limit.', 5000, { minimum: 0 }),
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
      // Lower case only: the SDK uses the string verbatim in `aud` and compares Duo's `iss` to it exactly.
      apiHost: Type.Optional(Str('Duo API hostname, e.g. api-xxxxxxxx.duosecurity.com (no scheme, no path; a :port only for a test emulator)', {
        pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$',
        hint: 'a bare host name such as api-xxxxxxxx.duosecurity.com, in lower case, without https:// or a path',
      })),
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
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Serve /metrics on this port only (its own listener, not on the public port); unset: on the public port' })),
    host: Type.Optional(Str('Address the metrics port listens on; unset: the same as server.host', { minLength: 1 })),
  }, { ...Strict, default: {} }),
  ui: Type.Object({
    productName: Str('Product name on the pages', { default: 'Gatehouse' }),
    primaryColor: Str('Accent colour (#rrggbb)', { default: '#1f5fbf', pattern: '^#[0-9a-fA-F]{6}$', hint: 'a colour written #rrggbb, such as #1f5fbf' }),
    logoFile: Type.Optional(Str('Logo shown at the top of every page instead of the product name (which becomes its alt text): an SVG or PNG file of at most 16 KiB, read at start and inlined in the pages (no request, nothing external)', { minLength: 1 })),
  }, { ...Strict, default: {} }),
  saml: Type.Object({
    enabled: Bool('Serve the SAML 2.0 identity provider under /saml', true),
    entityId: Str('IdP entity ID; empty: <issuer>/saml/metadata', { default: '' }),
    keyFile: Type.Optional(Str('IdP signing key (PEM, RSA 2048+). Unset: generated on first start and stored encrypted in the database.')),
    certFile: Type.Optional(Str('Certificate (PEM) for keyFile')),
    extraCertFiles: Type.Array(Str('Another signing certificate (PEM) to publish, e.g. the next one during a rotation'), { default: [] }),
    signMetadata: Bool('Sign /saml/metadata', false),
    metadataValidSeconds: Int('validUntil of the metadata, from the time it is served', 7 * 86400, { minimum: 3600 }),
    keyRotationGraceSeconds: Int('How long a rotated-out IdP certificate stays in the metadata', 14 * 86400, { minimum: 0 }),
    assertionTtlSeconds: Int('NotOnOrAfter of assertions and subject confirmations', 300, { minimum: 30, maximum: 3600 }),
    clockSkewSeconds: Int('Clock skew tolerated in both directions', 60, { minimum: 0, maximum: 600 }),
    requestMaxAgeSeconds: Int('How old an inbound IssueInstant may be', 300, { minimum: 30, maximum: 3600 }),
    maxMessageBytes: Int('Largest inbound SAML message after base64 and inflate', 65536, { minimum: 4096, maximum: 1048576 }),
    maxRelayStateBytes: Int('Longest RelayState accepted (the bindings spec says 80; many SPs send more)', 1024, { minimum: 80, maximum: 8192 }),
    schemaTimeoutMs: Int('Deadline for the XML Schema validation of one inbound SAML message; past it the answer is 503 GW_SAML_SCHEMA_UNAVAILABLE', 2000, { minimum: 1, maximum: 30000 }),
    sps: Type.Array(SamlSpSchema, { default: [], description: 'Registered SAML service providers' }),
  }, { ...Strict, default: {} }),
  account: Type.Object({
    enabled: Bool('Serve the self-service account portal at /account (password change, factors, sign-in history)', true),
    mfa: Type.Union([Type.Literal('required'), Type.Literal('optional'), Type.Literal('off')], {
      default: 'required',
      description: 'MFA policy for signing in to the portal. Sensitive actions always ask for a second factor completed within mfa.freshSeconds.',
    }),
    idleTimeoutSeconds: Int('A portal session ends after this long without a request', 900, { minimum: 60, maximum: 86400 }),
    recentSignIns: Int('How many recent sign-in events the portal lists', 20, { minimum: 1, maximum: 200 }),
  }, { ...Strict, default: {} }),
}, { ...Strict, description: 'Gatehouse configuration' });

export type Config = Static<typeof ConfigSchema>;
