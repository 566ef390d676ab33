// Signing in to the portal as an OIDC relying party of our own provider: authorization URL (PKCE S256,
// state, nonce; for a step-up also max_age=0 and the REFEDS MFA acr), then the code exchanged at the real
// token endpoint in-process (Fastify inject: the same client authentication, PKCE and one-time checks as
// any RP, without network or TLS), and the ID token verified with jose against the provider's JWKS.
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import type { SecretBox } from '../platform/secret-box.ts';
import { OIDC_PREFIX } from '../protocols/oidc/provider.ts';
import { ACR_MFA } from '../mfa/amr.ts';
import { ACCOUNT_CLIENT_ID, accountClientSecret, callbackUrl } from './client.ts';
import type { PendingSignIn } from './session.ts';

/** The part of Fastify's inject the portal uses. */
export type Inject = (o: { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: string }) =>
  Promise<{ statusCode: number; body: string }>;

export interface SignInDeps { issuer: string; box: SecretBox; inject: Inject; provider: () => Provider }

/** What the portal learns from a completed sign-in. */
export interface SignedIn { sub: string; amr: string[]; authTime: number; idToken: string; sessionUid?: string }

export class SignInError extends Error {
  readonly reason: string;
  constructor(reason: string) { super(`GW_ERR_ACCOUNT_SIGNIN: ${reason}`); this.reason = reason; }
}

const random = () => randomBytes(32).toString('base64url');

export function newPending(returnTo: string, stepUp: boolean): { state: string; pending: PendingSignIn } {
  return { state: random(), pending: { nonce: random(), verifier: random(), returnTo, stepUp, startedAt: Math.floor(Date.now() / 1000) } };
}

export function authorizationUrl(issuer: string, state: string, p: PendingSignIn, loginHint?: string): string {
  const u = new URL(`${issuer}${OIDC_PREFIX}/auth`);
  u.search = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID, redirect_uri: callbackUrl(issuer), response_type: 'code', scope: 'openid',
    state, nonce: p.nonce, code_challenge: createHash('sha256').update(p.verifier).digest('base64url'), code_challenge_method: 'S256',
    // Step-up: authenticate again now (max_age=0 re-runs the login prompt, which resets amr to pwd, so the
    // MFA prompt runs too) and say that MFA is what is wanted.
    ...(p.stepUp ? { max_age: '0', acr_values: ACR_MFA } : {}),
    ...(loginHint ? { login_hint: loginHint } : {}),
  }).toString();
  return u.href;
}

async function jwks(inject: Inject): Promise<ReturnType<typeof createLocalJWKSet>> {
  const res = await inject({ method: 'GET', url: `${OIDC_PREFIX}/jwks` });
  if (res.statusCode !== 200) throw new SignInError(`jwks ${res.statusCode}`);
  return createLocalJWKSet(JSON.parse(res.body) as JSONWebKeySet);
}

/** Redeems the code and verifies the ID token; throws SignInError when anything does not match. */
export async function completeSignIn(d: SignInDeps, code: string, p: PendingSignIn): Promise<SignedIn> {
  const basic = Buffer.from(`${encodeURIComponent(ACCOUNT_CLIENT_ID)}:${encodeURIComponent(accountClientSecret(d.box))}`).toString('base64');
  const res = await d.inject({
    method: 'POST', url: `${OIDC_PREFIX}/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
    payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callbackUrl(d.issuer), code_verifier: p.verifier }).toString(),
  });
  let body: { id_token?: string; access_token?: string; error?: string };
  try { body = JSON.parse(res.body) as typeof body; } catch { body = {}; }
  if (res.statusCode !== 200 || !body.id_token) throw new SignInError(`token endpoint ${res.statusCode} ${body.error ?? ''}`.trim());
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(body.id_token, await jwks(d.inject), {
      issuer: d.issuer, audience: ACCOUNT_CLIENT_ID, algorithms: ['ES256'], requiredClaims: ['sub', 'auth_time', 'nonce'],
    }));
  } catch (err) {
    throw new SignInError(`id token: ${(err as Error).message}`);
  }
  if (claims.nonce !== p.nonce || typeof claims.auth_time !== 'number') throw new SignInError('id token does not match this sign-in');
  // The access token only tells which gateway session signed in (kept by a password change); spent at once.
  const at = body.access_token ? await d.provider().AccessToken.find(body.access_token) : undefined;
  if (at) await at.destroy();
  return {
    sub: claims.sub!, idToken: body.id_token, authTime: claims.auth_time,
    amr: Array.isArray(claims.amr) ? claims.amr.map(String) : [],
    ...(at?.sessionUid && at.accountId === claims.sub ? { sessionUid: at.sessionUid } : {}),
  };
}
