// What the load generator does on the wire: an authorization-code login as a browser and a relying party
// do it (authorize → login page → password → [MFA choice → TOTP] → code → token), refresh-token rotation,
// and client-credentials grants.
import { createHash, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { CookieJar, HttpClient, readForm, type Res } from './http.ts';
import { codeAt, stepAt } from '../../src/mfa/totp/totp-code.ts';
import { basic, PASSWORD, REDIRECT, totpSecret, username } from '../lib/fixtures.ts';

const b64url = (b: Buffer) => b.toString('base64url');

export interface LoginTarget { client: { clientId: string; clientSecret: string }; prefix: string; users: number; totp?: boolean; scope?: string }

/** Picks users round-robin; with TOTP, one whose next usable step is within the ±1 window. */
export class UserPicker {
  private next = 0;
  private lastStep = new Map<number, number>();
  private t: LoginTarget;
  constructor(t: LoginTarget) { this.t = t; }
  pick(): { name: string; code?: string } {
    for (let tries = 0; tries < this.t.users; tries++) {
      const i = this.next++ % this.t.users;
      const name = username(this.t.prefix, i);
      if (!this.t.totp) return { name };
      const now = stepAt(Date.now());
      const step = Math.max(now, (this.lastStep.get(i) ?? -1) + 1);
      if (step > now + 1) continue;
      this.lastStep.set(i, step);
      return { name, code: codeAt(totpSecret(name), step) };
    }
    throw new Error('no user with an unused TOTP step: seed more users');
  }
}

function pathOf(location: string, base: URL): string {
  const u = new URL(location, base);
  return `${u.pathname}${u.search}`;
}

export interface LoginOutcome {
  tokens: Record<string, unknown>; requests: number; tokenMs: number;
  /** The longest single request of the flow (ms, from its send to its answer): what "no request over 1 s" is about. */
  slowestMs: number;
  /** The password POST's own time (ms): the request that waits for the hash. */
  passwordMs: number;
}

/** One complete login with a fresh browser; throws on anything unexpected. */
export async function login(http: HttpClient, t: LoginTarget, picker: UserPicker, extraAuth: Record<string, string> = {}): Promise<LoginOutcome> {
  const jar = new CookieJar();
  const user = picker.pick();
  const verifier = b64url(randomBytes(32));
  const q = new URLSearchParams({
    client_id: t.client.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: t.scope ?? 'openid profile email',
    state: b64url(randomBytes(12)), nonce: b64url(randomBytes(12)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256', ...extraAuth,
  });
  let requests = 0;
  let slowestMs = 0; let lastMs = 0;
  const send = async (method: 'GET' | 'POST', path: string, fields?: Record<string, string>): Promise<Res> => {
    requests++;
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = jar.header(path);
    if (cookie) headers.cookie = cookie;
    const t0 = performance.now();
    const res = fields ? await http.form(path, fields, headers) : await http.request(method, path, { headers });
    lastMs = performance.now() - t0;
    slowestMs = Math.max(slowestMs, lastMs);
    jar.store(res.headers['set-cookie']);
    return res;
  };
  let res = await send('GET', `/oidc/auth?${q}`);
  let at = `/oidc/auth`;
  let code: string | undefined;
  let submittedPassword = false; let submittedCode = false; let chose = false; let passwordMs = NaN;
  for (let i = 0; i < 25 && !code; i++) {
    if (res.status >= 300 && res.status < 400) {
      const loc = String(res.headers.location);
      if (loc.startsWith(REDIRECT)) {
        const cb = new URL(loc);
        code = cb.searchParams.get('code') ?? undefined;
        if (!code) throw new Error(`callback without code: ${cb.search}`);
        break;
      }
      at = pathOf(loc, http.base);
      res = await send('GET', at);
      continue;
    }
    if (res.status !== 200) throw new Error(`${res.status} at ${at.split('?')[0]}: ${res.body.slice(0, 200)}`);
    const loginForm = readForm(res.body, '/login');
    if (loginForm && /name="password"/.test(res.body)) {
      if (submittedPassword) throw new Error('login page shown twice');
      submittedPassword = true;
      at = loginForm.action;
      res = await send('POST', at, { ...loginForm.fields, username: user.name, password: PASSWORD });
      passwordMs = lastMs;
      continue;
    }
    const begin = readForm(res.body, '/mfa/begin');
    if (begin && !chose) {
      chose = true;
      at = begin.action;
      res = await send('POST', at, { ...begin.fields, factor: 'totp' });
      continue;
    }
    const totp = readForm(res.body, '/mfa/totp');
    if (totp && user.code && !submittedCode) {
      submittedCode = true;
      at = totp.action;
      res = await send('POST', at, { ...totp.fields, code: user.code });
      continue;
    }
    throw new Error(`unexpected page at ${at.split('?')[0]}: ${/<title>([^<]*)/.exec(res.body)?.[1] ?? res.body.slice(0, 120)}`);
  }
  if (!code) throw new Error('no code after 25 steps');
  const t0 = performance.now();
  const tok = await http.form('/oidc/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
    { authorization: basic(t.client.clientId, t.client.clientSecret) });
  requests++;
  const tokenMs = performance.now() - t0;
  if (tok.status !== 200) throw new Error(`token ${tok.status}: ${tok.body.slice(0, 200)}`);
  const tokens = JSON.parse(tok.body) as Record<string, unknown>;
  if (typeof tokens.id_token !== 'string') throw new Error('no id_token');
  return { tokens, requests, tokenMs, slowestMs: Math.max(slowestMs, tokenMs), passwordMs };
}

/** One refresh-token grant; returns the rotated refresh token. */
export async function refresh(http: HttpClient, client: { clientId: string; clientSecret: string }, rt: string): Promise<string> {
  const res = await http.form('/oidc/token', { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basic(client.clientId, client.clientSecret) });
  if (res.status !== 200) throw new Error(`refresh ${res.status}: ${res.body.slice(0, 200)}`);
  const j = JSON.parse(res.body) as { refresh_token?: string; access_token?: string };
  if (!j.refresh_token || !j.access_token) throw new Error('refresh answer without tokens');
  return j.refresh_token;
}

export async function clientCredentials(http: HttpClient, path: string, authorization: string): Promise<void> {
  const res = await http.request('POST', path, { body: 'grant_type=client_credentials&scope=api', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization } });
  if (res.status !== 200) throw new Error(`token ${res.status}: ${res.body.slice(0, 200)}`);
}

/**
 * `binding`: `redirect` (the default) sends the AuthnRequest in the query; `post-cross-site` posts it as the
 * SP's page on another site makes a browser post it: with Sec-Fetch-Site: cross-site and none of the
 * browser's SameSite=Lax cookies. A page that posts it again (the gateway's first-party resend) is posted
 * as a browser would: from the gateway's origin, with the cookies.
 */
export interface SamlTarget { issuer: string; spEntityId: string; acs: string; prefix: string; users: number; binding?: 'redirect' | 'post-cross-site' }

/**
 * One SP-initiated SAML SSO (unsigned AuthnRequest), following the gateway until its auto-POST page; logs
 * in with the password if the login form shows. `jar` carries the browser's session between calls (a
 * second call is single sign-on).
 */
export async function samlSso(http: HttpClient, t: SamlTarget, picker: UserPicker, jar: CookieJar): Promise<{ requests: number; loggedIn: boolean }> {
  const id = `_${randomBytes(20).toString('hex')}`;
  const xml = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${t.issuer}/saml/sso" AssertionConsumerServiceURL="${t.acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>${t.spEntityId}</saml:Issuer></samlp:AuthnRequest>`;
  let at = '/saml/sso';
  let requests = 0; let loggedIn = false;
  /** `site`: Sec-Fetch-Site; a cross-site request carries none of the jar's (SameSite=Lax) cookies. */
  const send = async (path: string, fields?: Record<string, string>, site?: 'cross-site' | 'same-origin'): Promise<Res> => {
    requests++;
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = site === 'cross-site' ? undefined : jar.header(path);
    if (cookie) headers.cookie = cookie;
    if (site) headers['sec-fetch-site'] = site;
    const res = fields ? await http.form(path, fields, headers) : await http.request('GET', path, { headers });
    jar.store(res.headers['set-cookie']);
    return res;
  };
  let res: Res;
  if (t.binding === 'post-cross-site') {
    res = await send(at, { SAMLRequest: Buffer.from(xml).toString('base64'), RelayState: 'bench' }, 'cross-site');
  } else {
    at = `/saml/sso?SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}&RelayState=bench`;
    res = await send(at);
  }
  for (let i = 0; i < 25; i++) {
    if (res.status >= 300 && res.status < 400) {
      at = pathOf(String(res.headers.location), http.base);
      res = await send(at);
      continue;
    }
    if (res.status !== 200) throw new Error(`${res.status} at ${at.split('?')[0]}: ${res.body.slice(0, 200)}`);
    if (res.body.includes('id="saml-post"')) {
      if (/name="SAMLResponse"/.test(res.body)) return { requests, loggedIn };
      // The gateway's first-party resend of a cross-site post: its script posts it from the gateway's origin.
      const resend = readForm(res.body, '/saml/sso');
      if (!resend) throw new Error('auto-post page without SAMLResponse');
      at = pathOf(resend.action, http.base);
      res = await send(at, resend.fields, 'same-origin');
      continue;
    }
    const form = readForm(res.body, '/login');
    if (form && /name="password"/.test(res.body) && !loggedIn) {
      loggedIn = true;
      at = form.action;
      res = await send(at, { ...form.fields, username: picker.pick().name, password: PASSWORD });
      continue;
    }
    throw new Error(`unexpected page at ${at.split('?')[0]}: ${/<title>([^<]*)/.exec(res.body)?.[1] ?? res.body.slice(0, 120)}`);
  }
  throw new Error('no SAML response after 25 steps');
}
