// Shared test helpers: an emulator per test file, real SDK clients that trust
// its CA, and a tiny "browser" that follows the authorize URL one hop at a time.
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Client } from '@duosecurity/duo_universal';
import { SignJWT } from 'jose';
import { startDuoEmulator } from '../emulator.ts';
import type { DuoEmulator, DuoEmulatorOptions } from '../emulator.ts';

export const REDIRECT_URL = 'https://gw.example/duo/callback';

/** What a client needs to know about an emulator (also satisfied by the CLI's printout). */
export type Target = Pick<DuoEmulator, 'apiHost' | 'caPem' | 'clientId' | 'clientSecret'>;

/** The minimal part of a tap Test these helpers need. */
interface Teardownable {
  teardown(fn: () => unknown): void;
}

export async function startEmulator(t: Teardownable, opts: DuoEmulatorOptions = {}): Promise<DuoEmulator> {
  const emu = await startDuoEmulator({ port: 0, ...opts });
  t.teardown(() => emu.close());
  return emu;
}

export interface ClientOpts {
  clientId?: string;
  clientSecret?: string;
  apiHost?: string;
  redirectUrl?: string;
  useDuoCodeAttribute?: boolean;
  /** axios timeout in ms (the SDK sets none). */
  timeout?: number;
}

/** A real, unmodified SDK client whose private axios instance trusts the emulator CA (§13). */
export function makeClient(emu: Target, o: ClientOpts = {}): Client {
  const client = new Client({
    clientId: o.clientId ?? emu.clientId,
    clientSecret: o.clientSecret ?? emu.clientSecret,
    apiHost: o.apiHost ?? emu.apiHost,
    redirectUrl: o.redirectUrl ?? REDIRECT_URL,
    ...(o.useDuoCodeAttribute !== undefined ? { useDuoCodeAttribute: o.useDuoCodeAttribute } : {}),
  });
  // Private field of the SDK (an axios instance); typed locally so the tests do
  // not depend on axios, which is only a transitive dependency.
  const ax = (client as unknown as { axios: { defaults: { httpsAgent?: unknown; timeout?: number } } }).axios;
  ax.defaults.httpsAgent = new https.Agent({ ca: emu.caPem });
  ax.defaults.timeout = o.timeout ?? 5000;
  // axios honours HTTPS_PROXY; the emulator is on loopback, so never tunnel to it.
  (ax.defaults as { proxy?: false }).proxy = false;
  return client;
}

export interface Hop {
  status: number;
  headers: IncomingHttpHeaders;
  location: string | undefined;
  body: string;
}

/** One browser hop: GET (or form POST) without following redirects. */
export function fetchOnce(
  emu: Target,
  url: string,
  form?: Record<string, string>,
): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const req = https.request(
      url,
      {
        method: form ? 'POST' : 'GET',
        ca: emu.caPem,
        agent: false,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, location: res.headers.location, body: data }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** createAuthUrl + GET it; returns the state and the first hop. */
export async function startLogin(emu: Target, client: Client, username: string) {
  const state = client.generateState();
  const authUrl = await client.createAuthUrl(username, state);
  const hop = await fetchOnce(emu, authUrl);
  return { state, authUrl, hop };
}

/** Full allow-style login: returns the code from the callback. */
export async function loginForCode(emu: Target, client: Client, username: string, param = 'duo_code') {
  const { state, hop } = await startLogin(emu, client, username);
  if (hop.status !== 302 || !hop.location) throw new Error(`expected 302, got ${hop.status}: ${hop.body}`);
  const cb = new URL(hop.location);
  const code = cb.searchParams.get(param);
  if (!code) throw new Error(`no ${param} in ${hop.location}`);
  return { code, state, callback: cb };
}

/** Message of the DuoException (or any error) a promise rejects with. */
export async function rejection(p: Promise<unknown>): Promise<Error & { inner?: Error & { code?: string } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { inner?: Error & { code?: string } };
  }
  throw new Error('expected a rejection');
}

/** POST a hand-made form to the emulator (for assertions the SDK cannot produce). */
export async function postForm(emu: DuoEmulator, path: string, form: Record<string, string>) {
  const hop = await fetchOnce(emu, `https://${emu.apiHost}${path}`, form);
  return { status: hop.status, json: JSON.parse(hop.body) as Record<string, unknown> };
}

/**
 * A hand-made client assertion like the SDK's (HS512, iss=sub=client id, aud
 * = endpoint URL, iat/exp = now/now+300, random jti), with claim overrides;
 * a claim set to undefined is dropped. For checks the SDK cannot trigger.
 */
export async function makeAssertion(
  emu: DuoEmulator,
  endpoint: 'health_check' | 'token',
  over: Record<string, unknown> = {},
  o: { alg?: 'HS512' | 'HS256'; secret?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: emu.clientId,
    sub: emu.clientId,
    aud: `https://${emu.apiHost}/oauth/v1/${endpoint}`,
    jti: randomBytes(18).toString('hex'),
    iat: now,
    exp: now + 300,
    ...over,
  };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'HS512' })
    .sign(new TextEncoder().encode(o.secret ?? emu.clientSecret));
}

/** POST /oauth/v1/health_check with a given assertion. */
export function rawHealth(emu: DuoEmulator, assertion: string, clientId: string = emu.clientId) {
  return postForm(emu, '/oauth/v1/health_check', { client_id: clientId, client_assertion: assertion });
}

/**
 * A hand-made authorize URL whose request JWT looks like the SDK's, with
 * claim and query overrides (undefined drops an entry).
 */
export async function makeAuthorizeUrl(
  emu: DuoEmulator,
  claims: Record<string, unknown> = {},
  query: Record<string, string | undefined> = {},
  secret: string = emu.clientSecret,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const c: Record<string, unknown> = {
    response_type: 'code',
    scope: 'openid',
    exp: now + 300,
    client_id: emu.clientId,
    redirect_uri: REDIRECT_URL,
    state: randomBytes(18).toString('hex'),
    duo_uname: 'alice',
    iss: emu.clientId,
    aud: `https://${emu.apiHost}`,
    use_duo_code_attribute: true,
    ...claims,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  const request = await new SignJWT(c).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(secret));
  const q: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: emu.clientId,
    request,
    redirect_uri: typeof c.redirect_uri === 'string' ? c.redirect_uri : undefined,
    scope: 'openid',
    ...query,
  };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
  return `https://${emu.apiHost}/oauth/v1/authorize?${params}`;
}
