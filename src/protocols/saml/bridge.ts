// SAML rides the OIDC pipeline (DESIGN.md "One login pipeline"): each SP is an internal, first-party
// client of our own oidc-provider, so login, MFA, amr/acr, single sign-on and logout live in one place.
// /saml/sso makes the authorization request as that client: in-process for a browser with a session
// (inline-authorize.ts), else it parks the AuthnRequest and sends the browser to /oidc/auth. The code is
// redeemed in-process with oidc-provider's models and the token endpoint's checks (exchangeCode:
// one-time, PKCE, client, redirect_uri, grant) and reads sub, amr, acr and auth_time, and the
// gateway session (Session.uid, which single logout needs) from the code itself.
import { createHash } from 'node:crypto';
import { sameText } from '../../platform/same-text.ts';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { Db } from '../../storage/db.ts';
import { revokeReplayedGrant } from '../../storage/oidc-adapter.ts';
import { OIDC_PREFIX } from '../oidc/provider.ts';
import { PATHS } from './constants.ts';
import { SamlError } from './errors.ts';
import type { SamlSp } from './sp-registry.ts';

const secretFor = (box: SecretBox, sp: SamlSp) => box.derive(`saml-client:${sp.entityId}`).toString('base64url');
// Both derived from the parked request id: nothing secret is stored, and only this server can compute them.
const verifierFor = (box: SecretBox, parkedId: string) => box.mac('saml-pkce', parkedId);
const nonceFor = (box: SecretBox, parkedId: string) => box.mac('saml-nonce', parkedId).slice(0, 32);
export const continueUrl = (issuer: string) => `${issuer}${PATHS.continue}`;

/** The internal clients for provider.ts (`extraInternalClients`). */
export function internalClients(sps: readonly SamlSp[], issuer: string, box: SecretBox): ClientMetadata[] {
  return sps.map((sp) => ({
    client_id: sp.clientId,
    client_secret: secretFor(box, sp),
    client_name: sp.name,
    redirect_uris: [continueUrl(issuer)],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
    scope: 'openid',
    'gatehouse:mfa': sp.mfa,
    'gatehouse:first_party': true,
    'gatehouse:access_token_format': 'opaque',
    ...(sp.duoFailMode ? { 'gatehouse:duo_fail_mode': sp.duoFailMode } : {}),
  }));
}

export interface AuthorizeOptions { prompt?: 'login' | 'none'; requireMfa?: boolean }

/** Where /saml/sso sends the browser: the authorization endpoint as the SP's internal client. */
export async function authorizeUrl(issuer: string, box: SecretBox, sp: SamlSp, parkedId: string, o: AuthorizeOptions): Promise<string> {
  const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifierFor(box, parkedId)))).toString('base64url');
  const u = new URL(`${issuer}${OIDC_PREFIX}/auth`);
  u.search = new URLSearchParams({
    client_id: sp.clientId, redirect_uri: continueUrl(issuer), response_type: 'code', scope: 'openid',
    state: parkedId, nonce: nonceFor(box, parkedId), code_challenge: challenge, code_challenge_method: 'S256',
    ...(o.prompt ? { prompt: o.prompt } : {}),
    ...(o.requireMfa ? { acr_values: 'https://refeds.org/profile/mfa' } : {}),
  }).toString();
  return u.href;
}

export interface SignIn { sub: string; amr: string[]; acr?: string; sessionUid: string; authTime: number }

const fail = (why: string) => new SamlError('GW_SAML_AUTHN_FAILED', why);

/**
 * Redeems the code for what it says about the sign-in (sub, amr, acr, auth_time, the gateway session),
 * with oidc-provider's own models and the token endpoint's checks for the authorization_code grant, but
 * without a token request: nothing needs a token. The token endpoint (through Fastify inject) would add
 * an HTTP request through Fastify and Koa, client authentication with a secret only this process knows,
 * an ES256 ID token signed only to be decoded here, and an access token written, read back and deleted.
 * Checks, as lib/actions/grants/authorization_code.js and helpers/grant_source.js make them:
 *  - the code exists (AuthorizationCode.find also drops a code whose session ended: expiresWithSession),
 *    was issued to this SP's internal client, is not expired, and names our redirect_uri;
 *  - PKCE (S256) with the verifier derived from the parked request id, and the nonce derived from it: the
 *    code belongs to the parked request this browser took (sso.ts take), not to another one;
 *  - the grant exists, is not expired, is this client's and this account's;
 *  - the code is consumed once: a code already consumed revokes the grant's tokens and is refused
 *    (grant_source.js consumeGrantSource); otherwise the adapter's atomic UPDATE … WHERE consumed_at IS NULL
 *    decides — inside /saml/continue's unit of work as the first statements of its one commit, where a loser
 *    (a parallel redemption) rolls back, revokes the grant's tokens and answers an error page (routes.ts).
 *    A code issued in-process within this very request (inline-authorize.ts) is dropped from the unit
 *    instead, never written: no one else has seen it (storage/oidc-adapter.ts consume).
 * https://github.com/panva/node-oidc-provider/blob/main/lib/actions/grants/authorization_code.js
 */
export async function exchangeCode(provider: Provider, db: Db, issuer: string, box: SecretBox, sp: SamlSp, codeValue: string, parkedId: string): Promise<SignIn> {
  if (codeValue.length > 512) throw fail('code not found');
  const code = await provider.AuthorizationCode.find(codeValue, { ignoreExpiration: true });
  if (!code) throw fail('code not found');
  if (code.clientId !== sp.clientId) throw fail('code of another client');
  if (code.isExpired) throw fail('code expired');
  if (code.redirectUri !== continueUrl(issuer)) throw fail('code redirect_uri mismatch');
  const challenge = createHash('sha256').update(verifierFor(box, parkedId)).digest('base64url');
  if (code.codeChallengeMethod !== 'S256' || typeof code.codeChallenge !== 'string' || !sameText(code.codeChallenge, challenge)) throw fail('PKCE verification failed');
  if (code.nonce !== nonceFor(box, parkedId)) throw fail('code does not match the exchange');
  const sub = code.accountId;
  if (typeof sub !== 'string' || !sub || !code.sessionUid) throw fail('no account or session behind the code');
  const grant = code.grantId ? await provider.Grant.find(code.grantId, { ignoreExpiration: true }) : undefined;
  if (!grant || grant.isExpired || grant.clientId !== sp.clientId || grant.accountId !== sub) throw fail('grant missing, expired or not this client\'s');
  if ((code as unknown as { consumed?: unknown }).consumed) {
    await revokeReplayedGrant(db, 'AuthorizationCode', codeValue);
    throw fail('code already used');
  }
  try { await code.consume(); } catch { throw fail('code already used'); }
  return {
    sub, sessionUid: code.sessionUid, amr: Array.isArray(code.amr) ? code.amr.map(String) : [],
    ...(typeof code.acr === 'string' ? { acr: code.acr } : {}),
    authTime: typeof code.authTime === 'number' ? code.authTime : Math.floor(Date.now() / 1000),
  };
}

