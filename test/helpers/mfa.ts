// MFA test helpers: enroll TOTP directly, compute codes, and walk a real login through the factor pages
// (password → choice → factor → back at the relying party) one page at a time, so tests can stop anywhere.
import type { Test } from 'tap';
import * as client from 'openid-client';
import { codeAt, generateSecret, stepAt, STEP_SECONDS } from '../../src/mfa/totp/totp-code.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/mfa/amr.ts';
import { readForm, type Browser } from './browser.ts';
import { confidentialClient, type Gateway } from './gateway.ts';
import { startAuthorize, submitLogin, type AuthorizeOptions } from './oidc.ts';

export { ACR_MFA, ACR_PASSWORD };
export const PASSWORD = 'correct horse battery';
export const AMR_TOTP = ['pwd', 'otp', 'mfa'];

export async function enrollTotp(gw: Gateway, userId: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const secret = generateSecret();
  await gw.services.mfa.totp.importConfirmed(userId, secret);
  const recoveryCodes = await gw.services.mfa.recovery.regenerate(userId);
  return { secret, recoveryCodes };
}

/** The code for the current step, or a neighbouring one (offset in steps). */
export const totpNow = (secret: string, offset = 0) => codeAt(secret, stepAt(Date.now()) + offset);

/** A six-digit code that matches no step near now (so it stays wrong even if a step boundary passes). */
export function wrongCode(secret: string): string {
  const now = stepAt(Date.now());
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((o) => codeAt(secret, now + o)));
  for (let i = 0; ; i++) {
    const c = String((123456 + i * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

const lastStep = new Map<string, number>();
/**
 * A valid code whose step this secret has not used yet in this process: the gateway accepts each step once
 * (RFC 6238 §5.2), so a second login inside the same 30 s uses the next step (the ±1 window allows it).
 */
export async function freshTotp(secret: string): Promise<string> {
  for (;;) {
    const now = stepAt(Date.now());
    const step = Math.max(now, (lastStep.get(secret) ?? -1) + 1);
    if (step <= now + 1) { lastStep.set(secret, step); return codeAt(secret, step); }
    await sleep(1000);
  }
}

/** Waits until at least `margin` seconds remain in the current TOTP step, for boundary-sensitive checks. */
export async function steadyStep(margin = 8): Promise<void> {
  const into = (Date.now() / 1000) % STEP_SECONDS;
  if (STEP_SECONDS - into < margin) await sleep((STEP_SECONDS - into) * 1000 + 200);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An OIDC client registered with the given MFA policy (first party: no consent page). */
export function policyClient(mfa: 'off' | 'optional' | 'required', clientId = `app-${mfa}`, extra: Record<string, unknown> = {}) {
  const port = 9000 + [...clientId].reduce((a, ch) => a + ch.charCodeAt(0), 0) % 900;
  return {
    ...confidentialClient, clientId, name: clientId, mfa,
    redirectUris: [`http://127.0.0.1:${port}/cb`], postLogoutRedirectUris: [`http://127.0.0.1:${port}/bye`], ...extra,
  };
}

/** One login in progress: the browser, the RP's PKCE/state values and the page it is looking at. */
export interface Flow {
  gw: Gateway; rp: client.Configuration; browser: Browser;
  verifier: string; state: string; nonce: string; redirectUri: string;
  /** Current URL; `page` is its body when it was fetched (empty when we stopped at a redirect). */
  url: URL; status: number; page: string;
}

/** Where a flow stops following redirects: back at the RP, or leaving the gateway (e.g. to Duo). */
const stopAt = (f: Pick<Flow, 'gw' | 'redirectUri'>) => (u: URL) => u.href.startsWith(f.redirectUri) || u.origin !== new URL(f.gw.url).origin;

/** Follows a gateway answer as a browser would, up to the next page, the RP or a foreign host. */
export async function advance(f: Flow, res: Response, from: URL = f.url): Promise<Flow> {
  const { res: last, url } = await f.browser.follow(res, from, stopAt(f));
  f.url = url;
  f.status = last.status;
  f.page = last.status >= 300 && last.status < 400 ? '' : await last.text();
  return f;
}

export type LoginClient = { clientId: string; clientSecret?: string; redirectUris: string[] };

/** Starts an authorization request for `c` and, if the login page shows, submits the password. */
export async function login(gw: Gateway, c: LoginClient, username: string, o: AuthorizeOptions & { password?: string } = {}): Promise<Flow> {
  const rp = await client.discovery(new URL(gw.url), c.clientId, c.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  const s = await startAuthorize(gw, rp, { scope: 'openid profile', redirectUri: c.redirectUris[0], ...o });
  const f: Flow = { gw, rp, browser: s.browser, verifier: s.verifier, state: s.state, nonce: s.nonce, redirectUri: s.redirectUri, url: s.at, status: s.res.status, page: '' };
  if (atClient(f) || !isGateway(f)) return f;
  f.page = await s.res.text();
  if (!isLoginPage(f.page)) return f;
  const action = new URL(readForm(f.page, '/login').action, gw.url);
  const posted = await submitLogin(f.browser, gw, f.page, username, o.password ?? PASSWORD);
  // A page in the POST's answer (a failed attempt, or the MFA step's first screen) is at the form's URL.
  if (posted.status !== 303) { f.url = action; f.status = posted.status; f.page = await posted.text(); return f; }
  return advance(f, posted, action);
}

/** The page of the interaction the flow is in (`/interaction/:uid`), e.g. to reload its current screen. */
export function interactionPage(f: Flow): URL {
  const path = /^\/interaction\/[^/]+/.exec(f.url.pathname)?.[0];
  if (!path) throw new Error(`not in an interaction: ${f.url.href}`);
  return new URL(path, f.gw.url);
}

export const atClient = (f: Flow) => f.url.href.startsWith(f.redirectUri) && f.url.searchParams.has('code');
export const isGateway = (f: Flow) => f.url.origin === new URL(f.gw.url).origin;
export const isLoginPage = (page: string) => /name="password"/.test(page);
export const isChoicePage = (page: string) => /action="\/interaction\/[^"]+\/mfa\/begin"/.test(page);
/** The factor buttons on a choice page: id → usable. */
export function choiceButtons(page: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of page.matchAll(/<button type="submit" name="factor" value="([^"]+)"([^>]*)>/g)) out[m[1]!] = !/\bdisabled\b/.test(m[2]!);
  return out;
}
/** The alert text of a page (reason shown to the user), if any. */
export const alertText = (page: string) => /<div class="alert" role="alert" id="error">([^<]*)<\/div>/.exec(page)?.[1];

export const isCodePage = (page: string, factor = 'totp') => new RegExp(`<form method="post" action="/interaction/[^"]+/mfa/${factor}"`).test(page);

/**
 * Clicks a factor button on the choice page. When the gateway shows a code form instead (the last used TOTP
 * is served in place of the choice), that is the factor's form already, or "Use another method" leads to
 * the choice first, as a user would go.
 */
export async function chooseFactor(f: Flow, factor: string): Promise<Flow> {
  if (!isChoicePage(f.page)) {
    if (isCodePage(f.page, factor)) return f;
    const another = /<a href="([^"]+)" id="use-another">/.exec(f.page);
    if (another) {
      const to = new URL(another[1]!.replace(/&amp;/g, '&'), f.gw.url);
      await advance(f, await f.browser.get(to), to);
    }
  }
  const form = readForm(f.page, '/mfa/begin');
  const res = await f.browser.post(new URL(form.action, f.gw.url), { ...form.fields, factor });
  return advance(f, res, new URL(form.action, f.gw.url));
}

/** Submits a code on the current code page (TOTP, recovery, enrollment); returns the raw answer too. */
export async function submitCode(f: Flow, code: string, action = '/mfa/'): Promise<{ res: Response; flow: Flow }> {
  const form = readForm(f.page, action);
  const target = new URL(form.action, f.gw.url);
  const res = await f.browser.post(target, { ...form.fields, code });
  f.status = res.status;
  if (res.status >= 300 && res.status < 400) { await advance(f, res, target); return { res, flow: f }; }
  f.page = await res.text();
  return { res, flow: f };
}

/** The ID token claims for a flow that reached the RP (code exchanged with openid-client). */
export async function idClaims(f: Flow): Promise<client.IDToken> {
  if (!atClient(f)) throw new Error(`not at the client: ${f.url.href} (${f.status}) ${alertText(f.page) ?? ''}`);
  const tokens = await client.authorizationCodeGrant(f.rp, f.url, { pkceCodeVerifier: f.verifier, expectedState: f.state, expectedNonce: f.nonce });
  return tokens.claims()!;
}

export interface AuditRow { type: string; outcome: string; factor: string | null; reason: string | null; detail: Record<string, unknown> | null; client_id: string | null }

/** Audit rows of a user (oldest first), optionally of one type. */
export async function auditRows(gw: Gateway, userId: string, type?: string): Promise<AuditRow[]> {
  const r = await gw.services.db.query<AuditRow>(
    `SELECT type, outcome, factor, reason, detail, client_id FROM audit_events WHERE user_id = $1 AND ($2::text IS NULL OR type = $2) ORDER BY id`,
    [userId, type ?? null]);
  return r.rows.map((row) => ({ ...row, detail: typeof row.detail === 'string' ? JSON.parse(row.detail) as Record<string, unknown> : row.detail }));
}

/** Current value of gatehouse_mfa_outcomes_total for these labels (0 when never counted). */
export async function mfaCount(gw: Gateway, labels: { factor: string; result: string; reason?: string }): Promise<number> {
  const m = await gw.services.metrics.mfa.get();
  return m.values.filter((v) => v.labels.factor === labels.factor && v.labels.result === labels.result
    && (labels.reason === undefined || v.labels.reason === labels.reason)).reduce((a, v) => a + v.value, 0);
}

/** tap's match lets an array have extra items; this also pins the count (e.g. "exactly one audit row"). */
export function matchAll(t: Test, actual: readonly unknown[], expected: readonly unknown[], message = 'exactly these'): void {
  t.equal(actual.length, expected.length, `${message}: ${expected.length} item(s)`);
  t.match(actual, expected, message);
}
