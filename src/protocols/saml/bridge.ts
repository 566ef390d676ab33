// SAML rides the OIDC pipeline (DESIGN.md "One login pipeline"): each SP is an internal, first-party
// client of our own oidc-provider, so login, MFA, amr/acr, single sign-on and logout live in one place.
// /saml/sso parks the AuthnRequest and sends the browser to /oidc/auth as that client; /saml/continue
// exchanges the code at the real token endpoint in-process (Fastify inject: no network, no TLS, the same
// client authentication and PKCE checks as any RP) and reads sub, amr and acr from the ID token, and the
// gateway session (Session.uid, which single logout needs) from the access token issued with it.
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { decodeJwt } from 'jose';
import type { SecretBox } from '../../platform/secret-box.ts';
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

/** Redeems the code at the token endpoint (in-process) and returns what the ID token says. */
export async function exchangeCode(app: FastifyInstance, provider: Provider, issuer: string, box: SecretBox, sp: SamlSp, code: string, parkedId: string): Promise<SignIn> {
  const res = await app.inject({
    method: 'POST', url: `${OIDC_PREFIX}/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: continueUrl(issuer),
      code_verifier: verifierFor(box, parkedId), client_id: sp.clientId, client_secret: secretFor(box, sp),
    }).toString(),
  });
  let body: { id_token?: string; access_token?: string; error?: string };
  try { body = JSON.parse(res.body); } catch { body = {}; }
  if (res.statusCode !== 200 || !body.id_token) throw new SamlError('GW_SAML_AUTHN_FAILED', `token endpoint ${res.statusCode} ${body.error ?? ''}`);
  // The token came straight from our own token endpoint in this process: its signature adds nothing,
  // but the binding to this exchange (issuer, audience, nonce) is still checked.
  const t = decodeJwt(body.id_token);
  if (t.iss !== issuer || t.aud !== sp.clientId || t.nonce !== nonceFor(box, parkedId) || typeof t.sub !== 'string') {
    throw new SamlError('GW_SAML_AUTHN_FAILED', 'ID token does not match the exchange');
  }
  // The access token is of no use to SAML; it only says which session signed in. Spent at once.
  const at = body.access_token ? await provider.AccessToken.find(body.access_token) : undefined;
  if (!at?.sessionUid || at.accountId !== t.sub) throw new SamlError('GW_SAML_AUTHN_FAILED', 'no session behind the access token');
  const sessionUid = at.sessionUid;
  await at.destroy();
  return {
    sub: t.sub, sessionUid, amr: Array.isArray(t.amr) ? t.amr.map(String) : [],
    ...(typeof t.acr === 'string' ? { acr: t.acr } : {}),
    authTime: typeof t.auth_time === 'number' ? t.auth_time : Math.floor(Date.now() / 1000),
  };
}
