// Account portal test helpers: a gateway with TOTP users, and a browser that signs in to /account through
// the real login pipeline (password → factor choice → TOTP), answering whatever page comes next.
import type { Test } from 'tap';
import { Browser, readForm } from '../helpers/browser.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { enrollTotp, freshTotp, isChoicePage, isLoginPage, PASSWORD } from '../helpers/mfa.ts';
import type { User } from '../../src/users/users.ts';

export { PASSWORD };

/** A gateway plus a user "alice" with an authenticator app (and recovery codes). */
export async function portalGateway(t: Test, opts: GatewayOptions = {}): Promise<{ gw: Gateway; user: User; secret: string; recoveryCodes: string[] }> {
  const gw = await startGateway(t, opts);
  const user = await addUser(gw);
  const { secret, recoveryCodes } = await enrollTotp(gw, user.id);
  return { gw, user, secret, recoveryCodes };
}

/** Where a walk stopped: the URL, its status and its body ('' for a redirect the walk was told to stop at). */
export interface Stop { url: URL; status: number; page: string; res: Response }

export interface Answers {
  username?: string; password?: string;
  /** The second factor to use on the choice page, and its code (default: TOTP with `secret`). */
  factor?: string; code?: () => Promise<string>;
  /** Called with every URL visited; returning true stops there (before it is fetched). */
  stopAt?: (u: URL) => boolean;
  /** Collects the path of every form the walk submits. */
  submitted?: string[];
}

const isCodePage = (page: string) => /action="\/interaction\/[^"]+\/mfa\/(totp|recovery|bypass)"/.test(page);

/**
 * Follows `res` as a browser would and answers the sign-in pages on the way (login, factor choice, code),
 * until a page that is none of them (normally back under /account) or a URL `stopAt` selects.
 */
export async function walk(b: Browser, res: Response, from: URL, a: Answers & { secret?: string }): Promise<Stop> {
  let url = from;
  for (let i = 0; i < 30; i++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url);
      if (a.stopAt?.(url)) return { url, status: res.status, page: '', res };
      res = await b.get(url);
      continue;
    }
    const page = await res.text();
    let form: { action: string; fields: Record<string, string> };
    let fields: Record<string, string>;
    if (isLoginPage(page) && /\/login"/.test(page)) {
      form = readForm(page, '/login');
      fields = { ...form.fields, username: a.username ?? 'alice', password: a.password ?? PASSWORD };
    } else if (isChoicePage(page)) {
      form = readForm(page, '/mfa/begin');
      fields = { ...form.fields, factor: a.factor ?? 'totp' };
    } else if (isCodePage(page)) {
      form = readForm(page, '/mfa/');
      fields = { ...form.fields, code: a.code ? await a.code() : await freshTotp(a.secret!) };
    } else {
      return { url, status: res.status, page, res };
    }
    url = new URL(form.action, url);
    a.submitted?.push(url.pathname);
    res = await b.post(url, fields);
  }
  throw new Error(`too many steps, last at ${url.href}`);
}

/** Opens `path` (default /account) in `b` and signs in as needed; returns the page reached. */
export async function open(gw: Gateway, b: Browser, path: string, a: Answers & { secret?: string } = {}): Promise<Stop> {
  const url = new URL(path, gw.url);
  return walk(b, await b.get(url), url, a);
}

/** A browser signed in to the portal (password + TOTP), looking at /account. */
export async function signedInBrowser(gw: Gateway, secret: string, a: Answers = {}): Promise<{ b: Browser; home: Stop }> {
  const b = new Browser();
  const home = await open(gw, b, '/account', { secret, ...a });
  if (home.url.pathname !== '/account' || home.status !== 200) throw new Error(`not at /account: ${home.url.href} ${home.status} ${home.page.slice(0, 300)}`);
  return { b, home };
}

/** Submits the first form on `page` whose action includes `action`, with extra fields; returns the raw answer. */
export async function submit(gw: Gateway, b: Browser, page: string, action: string, extra: Record<string, string> = {}): Promise<Response> {
  const form = readForm(page, action);
  return b.post(new URL(form.action, gw.url), { ...form.fields, ...extra });
}

/** Makes the portal session's second factor look `age` seconds old (as if the user had been idle). */
export async function ageMfa(gw: Gateway, userId: string, age: number): Promise<void> {
  await gw.services.db.query(
    `UPDATE account_sessions SET data = jsonb_set(data, '{mfaAt}', to_jsonb(floor(extract(epoch FROM now()))::bigint - $2)) WHERE user_id = $1`,
    [userId, age]);
}

/** Current value of gatehouse_account_changes_total for these labels. */
export async function accountCount(gw: Gateway, action: string, result: string): Promise<number> {
  const m = await gw.services.metrics.account.get();
  return m.values.filter((v) => v.labels.action === action && v.labels.result === result).reduce((s, v) => s + v.value, 0);
}

/** The user's audit events of one type, oldest first. */
export async function auditOf(gw: Gateway, userId: string, type: string) {
  const r = await gw.services.db.query<{ outcome: string; reason: string | null; client_id: string | null; detail: unknown }>(
    'SELECT outcome, reason, client_id, detail FROM audit_events WHERE user_id = $1 AND type = $2 ORDER BY id', [userId, type]);
  return r.rows.map((row) => ({ ...row, detail: typeof row.detail === 'string' ? JSON.parse(row.detail) as unknown : row.detail }));
}

/** The rules every portal page follows (as the sign-in pages do): lang, no inline script or style, labels. */
export function checkPageRules(t: Test, page: string, what: string) {
  t.match(page, /<html lang="en">/, `${what}: has lang`);
  t.notMatch(page, /<script|\sstyle=|\son[a-z]+=/i, `${what}: no inline script, style or event handlers`);
  for (const m of page.matchAll(/<input([^>]*)>/g)) {
    const attrs = m[1]!;
    if (/type="hidden"|\shidden\b/.test(attrs)) continue;
    const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
    t.ok(id && page.includes(`<label for="${id}"`), `${what}: input ${id ?? attrs} has a label`);
  }
}
