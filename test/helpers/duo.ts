// The Duo emulator for gateway tests: started per test file, its CA written to a temp file so the gateway
// trusts it through the real config path (mfa.duo.caFile), exactly as an operator would configure a proxy CA.
import https from 'node:https';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Gateway } from './gateway.ts';
import { advance, chooseFactor, isChoicePage, login, type Flow, type LoginClient } from './mfa.ts';
import { startDuoEmulator, type DuoEmulator, type DuoEmulatorOptions } from '../../tools/duo-emulator/emulator.ts';

export interface DuoSettings {
  factors?: ('duo' | 'totp')[];
  failMode?: 'open' | 'closed';
  bypassPolicy?: 'mfa' | 'single-factor' | 'deny';
  usernameSource?: 'username' | 'lowercase' | 'email' | 'alias';
  timeoutMs?: number;
}

export interface TestDuo {
  emulator: DuoEmulator;
  caFile: string;
  /** Gateway config overrides enabling Duo against this emulator (health never cached). */
  overrides(s?: DuoSettings): { mfa: Record<string, unknown> };
}

/** Starts an emulator for the test (closed at teardown) and writes its CA to a temp file. */
export async function startDuo(t: Test, opts: DuoEmulatorOptions = {}): Promise<TestDuo> {
  const emulator = await startDuoEmulator({ port: 0, ...opts });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-duo-'));
  const caFile = join(dir, 'duo-ca.pem');
  writeFileSync(caFile, emulator.caPem);
  t.teardown(async () => { await emulator.close(); rmSync(dir, { recursive: true, force: true }); });
  return {
    emulator, caFile,
    overrides: (s = {}) => ({
      mfa: {
        factors: s.factors ?? ['duo', 'totp'],
        duo: {
          clientId: emulator.clientId, clientSecret: emulator.clientSecret, apiHost: emulator.apiHost, caFile,
          timeoutMs: s.timeoutMs ?? 5000, healthCacheSeconds: 0,
          ...(s.failMode ? { failMode: s.failMode } : {}),
          ...(s.bypassPolicy ? { bypassPolicy: s.bypassPolicy } : {}),
          ...(s.usernameSource ? { usernameSource: s.usernameSource } : {}),
        },
      },
    }),
  };
}

export interface Hop { status: number; location?: string; body: string }

/** The browser's visit to Duo: one GET trusting the emulator CA, without following the redirect back. */
export function visitDuo(url: string | URL, caPem: string): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: caPem, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('error', reject);
  });
}

/** Decoded claims of the `request` JWT in a Duo authorize URL (what the gateway asked Duo for). */
export function authorizeRequest(url: string | URL): Record<string, unknown> {
  const jwt = new URL(url).searchParams.get('request') ?? '';
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Waits until the emulator accepts connections again (after `setFault('down')` was lifted); a bare TCP probe, so
 * the emulator's request log stays clean. */
export async function duoReachable(emulator: DuoEmulator): Promise<void> {
  const port = Number(emulator.apiHost.split(':').at(-1));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the Duo emulator did not come back up');
}

/** Emulator requests to one endpoint (health_check, authorize, token). */
export const duoCalls = (emulator: DuoEmulator, endpoint: 'health_check' | 'authorize' | 'token') =>
  emulator.requests.filter((r) => r.path === `/oauth/v1/${endpoint}`);

/** Logs in; a user without another factor goes straight to Duo, one with TOTP chooses Duo on the choice. */
export async function toDuo(gw: Gateway, c: LoginClient, username: string): Promise<Flow> {
  const f = await login(gw, c, username);
  if (isChoicePage(f.page)) await chooseFactor(f, 'duo');
  if (!f.url.pathname.endsWith('/oauth/v1/authorize')) throw new Error(`expected the Duo prompt, got ${f.status} ${f.url.href}`);
  return f;
}

/** The browser's visit to Duo: the callback URL Duo sends it back to (not opened yet). */
export async function duoAnswer(f: Flow, d: TestDuo): Promise<URL> {
  const hop = await visitDuo(f.url, d.emulator.caPem);
  if (hop.status !== 302 || !hop.location) throw new Error(`Duo answered ${hop.status}: ${hop.body.slice(0, 200)}`);
  return new URL(hop.location);
}

/** Opens a URL in the flow's browser and follows the gateway to the next page or the RP. */
export async function openUrl(f: Flow, url: URL): Promise<Flow> {
  return advance(f, await f.browser.get(url), url);
}
