// Drives the authorization code flow with openid-client as the relying party.
import * as client from 'openid-client';
import { Browser, readForm } from './browser.ts';
import type { Gateway } from './gateway.ts';
import { confidentialClient } from './gateway.ts';

export async function discover(gw: Gateway, c: { clientId: string; clientSecret?: string } = confidentialClient) {
  return client.discovery(new URL(gw.url), c.clientId, c.clientSecret, c.clientSecret ? undefined : client.None(), { execute: [client.allowInsecureRequests] });
}

export interface AuthorizeOptions { scope?: string; redirectUri?: string; extra?: Record<string, string>; browser?: Browser }

/**
 * Starts an authorization request; returns the browser at the first Gatehouse page (or the callback).
 * `at` is where the browser is: for a new login that is the authorization URL itself, whose answer is the
 * login form (src/protocols/oidc/login-in-authorize.ts); `interaction` is the page of the interaction the
 * form belongs to (`/interaction/:uid`), when one is shown.
 */
export async function startAuthorize(gw: Gateway, rp: client.Configuration, o: AuthorizeOptions = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const redirectUri = o.redirectUri ?? confidentialClient.redirectUris[0]!;
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: o.scope ?? 'openid profile email groups offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    ...(o.scope?.includes('offline_access') || !o.scope ? { prompt: 'consent' } : {}),
    ...o.extra,
  });
  const browser = o.browser ?? new Browser();
  const first = await browser.get(url);
  const { res, url: at } = await browser.follow(first, url, (u) => u.href.startsWith(redirectUri));
  return { browser, res, at, interaction: interactionOf(at, res.status === 200 ? await res.clone().text() : ''), verifier, state, nonce, redirectUri };
}

/** The page of the interaction a screen belongs to: its form's target, or the page the browser is at. */
export function interactionOf(at: URL, page: string): URL | undefined {
  const uid = /action="\/interaction\/([^"/]+)\//.exec(page)?.[1];
  if (uid) return new URL(`/interaction/${uid}`, at);
  return /^\/interaction\/[^/]+$/.test(at.pathname) ? at : undefined;
}

/** Submits the login form on the current page. */
export async function submitLogin(browser: Browser, gw: Gateway, page: string, username: string, password: string) {
  const form = readForm(page, '/login');
  const res = await browser.post(new URL(form.action, gw.url), { ...form.fields, username, password });
  return res;
}

/** Full login: authorize → login form → (consent) → callback URL with code. */
export async function loginAndGetCallback(gw: Gateway, rp: client.Configuration, username: string, password: string, o: AuthorizeOptions = {}) {
  const s = await startAuthorize(gw, rp, o);
  let { res, at } = s;
  if (!at.href.startsWith(s.redirectUri)) {
    const page = await res.text();
    const posted = await submitLogin(s.browser, gw, page, username, password);
    if (posted.status !== 303) throw new Error(`login failed with ${posted.status}`);
    ({ res, url: at } = await s.browser.follow(posted, new URL(at), (u) => u.href.startsWith(s.redirectUri)));
  }
  return { ...s, callback: at, res };
}

export async function loginAndGetTokens(gw: Gateway, rp: client.Configuration, username: string, password: string, o: AuthorizeOptions = {}) {
  const r = await loginAndGetCallback(gw, rp, username, password, o);
  const tokens = await client.authorizationCodeGrant(rp, r.callback, {
    pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce,
  });
  return { ...r, tokens };
}

export async function addUser(gw: Gateway, username = 'alice', password = 'correct horse battery', extra: Record<string, unknown> = {}) {
  const hash = await gw.services.passwords.hash(password);
  return gw.services.users.add({ username, name: 'Alice Example', email: `${username}@example.com`, emailVerified: true, groups: ['staff', 'admins'], ...extra }, hash);
}

/** A third-party client: the user must consent. */
export const thirdPartyClient = {
  clientId: 'partner-app', clientSecret: 'partner-app-secret-0123456789abcd', name: 'Partner App',
  redirectUris: ['http://127.0.0.1:9998/cb'], postLogoutRedirectUris: ['http://127.0.0.1:9998/bye'],
  grantTypes: ['authorization_code', 'refresh_token'], firstParty: false, mfa: 'off',
};

/**
 * A raw authorization URL for the default client, with a valid S256 challenge unless the test overrides or
 * removes (value `undefined`) a parameter: for the negative cases openid-client would refuse to build.
 */
export function authorizeUrl(gw: Gateway, params: Record<string, string | undefined> = {}, clientId = confidentialClient.clientId): URL {
  const url = new URL('/oidc/auth', gw.url);
  const all: Record<string, string | undefined> = {
    client_id: clientId, redirect_uri: confidentialClient.redirectUris[0], response_type: 'code', scope: 'openid',
    state: 'st-123', nonce: 'n-123', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** The parameters of a redirect to the RP, from the query or (implicit-style modes) the fragment. */
export function redirectParams(location: string | URL): URLSearchParams {
  const u = new URL(location);
  return u.hash.length > 1 ? new URLSearchParams(u.hash.slice(1)) : u.searchParams;
}

/**
 * What a rejected openid-client call carried: the OAuth `error` code and the HTTP status; undefined when the
 * call succeeded (so `t.equal(await oauthFailure(p), …)` fails loudly on an unexpected success).
 */
export async function oauthFailure(p: Promise<unknown>): Promise<{ error?: string; status?: number } | undefined> {
  try { await p; return undefined; } catch (e) {
    const err = e as { error?: string; status?: number; cause?: { status?: number } };
    return { error: err.error, status: err.status ?? err.cause?.status };
  }
}
