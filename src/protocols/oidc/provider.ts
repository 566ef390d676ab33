// oidc-provider configured as Gatehouse's OpenID Connect provider. Everything protocol-level is here;
// HTTP mounting is in mount.ts and the login screens in src/interaction/.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import type { Db } from '../../storage/db.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { PrivateJwk } from '../../storage/signing-keys.ts';
import { ACCOUNT_JSON, USER_JSON, type Users } from '../../users/users.ts';
import { SEED_JSON, SEED_ROW } from '../../mfa/totp/totp-store.ts';
import { createOidcAdapter } from '../../storage/oidc-adapter.ts';
import { ACR_VALUES } from '../../mfa/amr.ts';
import { CLAIMS, createFindAccount } from './claims.ts';
import { toClientMetadata, EXTRA_CLIENT_METADATA, clientPolicy } from './clients.ts';
import { buildPolicy } from './interaction-policy.ts';
import { createOidcPages } from './pages.ts';
import { ownTokensOnly } from './token-access.ts';
import { createOutboundFetch } from './outbound-fetch.ts';
import { applyOutage } from './mount.ts';
import { currentUnit, discardUnit, flushUnit, newUnit, runInUnit } from '../../storage/unit-of-work.ts';
import { revokeReplayedGrant } from '../../storage/oidc-adapter.ts';
import type { Theme } from '../../views/layout.ts';
import { EXTERNAL_SIGNING_ACK, withInlineSigning } from './inline-signing-keys.ts';
import { loginInAuthorizeAnswer } from './login-in-authorize.ts';
import type { LoginScreen } from '../../interaction/login-screen.ts';

export const OIDC_PREFIX = '/oidc';
/** The resource server that client-credentials tokens are for unless the client asks for another. */
export const apiResource = (issuer: string) => `${issuer.replace(/\/$/, '')}/api`;

/**
 * Cookie names. On an https issuer the session cookie (Path=/) takes the `__Host-` prefix, so no
 * subdomain or plain-http page can plant or overwrite it; the interaction cookies are scoped by
 * oidc-provider to their own paths (`/interaction/<uid>`, the resume URL), which `__Host-` forbids,
 * so they take `__Secure-`. On http the library's names stay (development and tests).
 */
export function cookieNames(https: boolean) {
  return https
    ? { session: '__Host-gh_session', interaction: '__Secure-gh_interaction', resume: '__Secure-gh_interaction_resume' }
    : { session: '_session', interaction: '_interaction', resume: '_interaction_resume' };
}

/**
 * Koa middleware (outermost of those added with provider.use; it also turns a 5xx caused by a database
 * outage into 503, mount.ts applyOutage): every oidc-provider request is one unit of
 * work (storage/unit-of-work.ts), written in one commit after oidc-provider has built the answer and before
 * Koa sends it. On the token endpoint the code's or refresh token's consume joins that commit; when a
 * parallel request consumed it first, the answer becomes invalid_grant (and the grant is revoked, as on
 * any reuse), so the tokens built here are never sent.
 */
function unitOfWork(db: Db, theme: Theme, onError: (ctx: KoaContextWithOIDC, err: unknown) => void) {
  const tokenPath = `${OIDC_PREFIX}/token`;
  const isUnavailable = () => db.isUnavailable();
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    // An authorization request made in-process by a SAML request joins that request's unit: its commit
    // writes both (saml/inline-authorize.ts).
    if (currentUnit()?.guest === ctx.req) {
      await next();
      applyOutage(ctx, isUnavailable, theme);
      return;
    }
    const unit = newUnit({ deferConsume: ctx.method === 'POST' && ctx.path === tokenPath });
    await runInUnit(unit, next);
    // A 5xx because the database is out: 503 (one middleware layer instead of a separate one).
    applyOutage(ctx, isUnavailable, theme);
    // A failed request writes nothing it queued (as platform/request-unit.ts).
    if (ctx.status >= 500) { discardUnit(unit); return; }
    let r;
    try {
      r = await flushUnit(unit, (q, lost) => revokeReplayedGrant(q, lost.model, lost.id));
    } catch (err) {
      onError(ctx, err);
      ctx.remove('set-cookie');
      ctx.remove('location');
      ctx.status = 500;
      ctx.type = 'application/json';
      ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
      applyOutage(ctx, isUnavailable, theme);
      return;
    }
    if (!r.ok) {
      ctx.remove('set-cookie');
      ctx.status = 400;
      ctx.type = 'application/json';
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
    }
  };
}

export interface ProviderDeps {
  config: Config; issuer: string; db: Db; box: SecretBox; users: Users; keys: PrivateJwk[];
  extraPrompts?: Parameters<typeof buildPolicy>[0];
  extraInternalClients?: Configuration['clients'];
  /** When given, a new login interaction's form is the authorization endpoint's answer (login-in-authorize.ts). */
  loginScreen?: LoginScreen;
}

export function createProvider(d: ProviderDeps): Provider {
  const { config } = d;
  const o = config.oidc;
  const pages = createOidcPages(config.ui);
  const clientFormat = (ctx: KoaContextWithOIDC) => (ctx.oidc.client ? clientPolicy(ctx.oidc.client).accessTokenFormat : 'jwt');
  const configuration: Configuration = {
    adapter: createOidcAdapter(d.db, { account: ACCOUNT_JSON, user: USER_JSON, accountRows: { [SEED_ROW]: SEED_JSON } }),
    clients: [...config.oidc.clients.map(toClientMetadata), ...(d.extraInternalClients ?? [])],
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA },
    // EC keys sign on the event loop, RSA keys through WebCrypto's pool (inline-signing-keys.ts).
    jwks: { keys: withInlineSigning(d.keys) as never },
    findAccount: createFindAccount(d.users),
    claims: CLAIMS as unknown as Configuration['claims'],
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    acrValues: [...ACR_VALUES],
    responseTypes: ['code'],                       // implicit and hybrid are off
    pkce: { required: () => true },                // S256 only (oidc-provider 9 supports nothing weaker)
    rotateRefreshToken: true,
    cookies: {
      keys: [d.box.derive('cookie-keys').toString('base64url')],
      names: cookieNames(d.issuer.startsWith('https:')),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    routes: {
      authorization: `${OIDC_PREFIX}/auth`, token: `${OIDC_PREFIX}/token`, userinfo: `${OIDC_PREFIX}/me`,
      jwks: `${OIDC_PREFIX}/jwks`, revocation: `${OIDC_PREFIX}/token/revocation`,
      introspection: `${OIDC_PREFIX}/token/introspection`, end_session: `${OIDC_PREFIX}/session/end`,
      registration: `${OIDC_PREFIX}/reg`, pushed_authorization_request: `${OIDC_PREFIX}/request`,
      code_verification: `${OIDC_PREFIX}/device`, device_authorization: `${OIDC_PREFIX}/device/auth`,
      backchannel_authentication: `${OIDC_PREFIX}/backchannel`, challenge: `${OIDC_PREFIX}/challenge`,
    },
    features: {
      devInteractions: { enabled: false },
      externalSigningSupport: { enabled: true, ack: EXTERNAL_SIGNING_ACK },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      resourceIndicators: {
        enabled: true,
        // Client credentials get a token for the gateway's API resource by default; the code flow keeps an
        // opaque token usable at userinfo unless a resource is asked or the client's accessTokenAudience is
        // 'api'. That default is applied only where the grant is made (the authorization request: no
        // grant_type): a token request without resource= takes what its code or refresh token was granted
        // for (useGrantedResource), so changing the setting never strands tokens already issued.
        defaultResource: (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          const grantType = ctx.oidc.params?.grant_type;
          if (grantType === 'client_credentials') return apiResource(d.issuer);
          if (grantType === undefined && client && clientPolicy(client).accessTokenAudience === 'api') return apiResource(d.issuer);
          return undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (resource !== apiResource(d.issuer)) throw new errors.InvalidTarget();
          const jwt = clientFormat(ctx) === 'jwt';
          return {
            scope: 'api', audience: resource, accessTokenTTL: o.accessTokenTtlSeconds,
            accessTokenFormat: jwt ? 'jwt' : 'opaque', ...(jwt ? { jwt: { sign: { alg: 'ES256' } } } : {}),
          };
        },
      },
    },
    ttl: {
      AccessToken: o.accessTokenTtlSeconds, AuthorizationCode: 60, IdToken: o.idTokenTtlSeconds,
      RefreshToken: o.refreshTokenTtlSeconds, ClientCredentials: o.accessTokenTtlSeconds,
      Session: o.sessionTtlSeconds, Interaction: o.interactionTtlSeconds, Grant: o.refreshTokenTtlSeconds,
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: buildPolicy(d.extraPrompts),
    },
    // First-party clients never see a consent page: their grant is created on the fly.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!clientPolicy(ctx.oidc.client!).firstParty) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope(ctx.oidc.client!.scope ?? 'openid');
      await grant.save();
      return grant;
    },
    renderError: pages.renderError,
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((u) => new URL(u).origin === origin) ?? false,
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
      requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'HS256'],
    },
    conformIdTokenClaims: false,
    fetch: createOutboundFetch(config.oidc.clients.flatMap((c) => (c.backchannelLogoutUri ? [c.backchannelLogoutUri] : []))),
  };
  const provider = new Provider(d.issuer, configuration);
  provider.use(unitOfWork(d.db, config.ui, (ctx, err) => provider.emit('server_error', ctx, err)));
  if (d.loginScreen) provider.use(loginInAuthorizeAnswer(d.loginScreen)); // inside the unit: runs before its commit
  // Always: mount.ts pins X-Forwarded-Host/Proto/For to the issuer and to the address Fastify computed
  // under server.trustProxy, so every link follows the issuer and never a request header.
  provider.proxy = true;
  return provider;
}
