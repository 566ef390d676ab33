// Brute-force limits across two instances on one database (PostgreSQL with TEST_DATABASE_URL, else one
// in-memory PGlite shared in this process): wrong passwords alternating between instance A and B count
// together, so the account lockout comes after `security.lockoutThreshold` failures in total and the per-IP
// limit after `security.ipLimitPerMinute`, not per instance. The refusal is the same on both instances and
// the same for an unknown account (status, headers, page text apart from ids and the echoed username).
// Single-instance behaviour (delay, reset on success, the lock's end, X-Forwarded-For) is
// test/interaction/throttle.test.ts.
import t, { type Test } from 'tap';
import { confidentialClient, type Gateway } from '../helpers/gateway.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, discover, startAuthorize } from '../helpers/oidc.ts';
import { PASSWORD } from '../helpers/mfa.ts';
import { portOf, twoInstances } from '../helpers/two-instances.ts';

const LOCKED = 'Too many failed attempts for this account. Wait a few minutes and try again, or contact your administrator.';
const IP_LIMITED = 'Too many sign-in attempts from your network. Wait a minute and try again.';
const WRONG = 'The username or password is incorrect.';

type Via = 'A' | 'B';
interface Answer { via: Via; status: number; alert?: string; retryAfter: number | null; headers: string[]; page: string }

/** Two instances with these limits, and an `attempt` that runs one whole login (authorize, form, POST) on one of them. */
async function pair(t: Test, security: Record<string, number>) {
  const [a, b] = await twoInstances(t, { oidc: { clients: [confidentialClient] }, security });
  const ports: Record<Via, string> = { A: new URL(a.url).port, B: portOf(b) };
  t.not(ports.A, ports.B, 'two listeners');
  const rp = await discover(a);
  const attempt = async (via: Via, username: string, password: string): Promise<Answer> => {
    const browser = Object.assign(new Browser(), { rewrite: (u: URL) => { if (u.port === ports.A) u.port = ports[via]; return u; } });
    const s = await startAuthorize(a, rp, { scope: 'openid', browser });
    const form = readForm(await s.res.text(), '/login');
    const res = await browser.post(new URL(form.action, a.url), { ...form.fields, username, password });
    const html = res.status === 303 ? '' : await res.text();
    const uid = form.action.split('/')[2]!;
    return {
      via, status: res.status,
      alert: /role="alert" id="error">([^<]*)</.exec(html)?.[1]?.replace(/&#39;/g, "'"),
      retryAfter: res.headers.has('retry-after') ? Number(res.headers.get('retry-after')) : null,
      headers: [...res.headers.keys()].filter((h) => h !== 'date').sort(),
      // What may differ between two answers: the interaction's ids, its authorization request (each attempt's
      // own state, nonce and PKCE challenge, in the restart field) and the username the user typed.
      page: html.replaceAll(uid, '{uid}').replaceAll(form.fields.csrf!, '{csrf}').replace(/name="restart" value="[^"]*"/, 'name="restart" value="{restart}"')
        .replace(/name="username"([^>]*)value="[^"]*"/, 'name="username"$1value="{username}"'),
    };
  };
  /** The login POSTs each instance served, by status (from its own request log). */
  const served = (gw: Gateway) => gw.logs.map((l) => JSON.parse(l) as { req?: { method: string; url: string }; status?: number })
    .filter((l) => l.req?.method === 'POST' && /^\/interaction\/[^/]+\/login$/.test(l.req.url)).map((l) => l.status);
  return { a, b, attempt, served };
}

/** Same status, alert, header names and page (apart from ids), Retry-After within the window. */
function sameAnswer(t: Test, x: Answer, y: Answer, window: number, what: string) {
  t.equal(x.status, y.status, `${what}: same status`);
  t.equal(x.alert, y.alert, `${what}: same message`);
  t.same(x.headers, y.headers, `${what}: same headers`);
  t.equal(x.page, y.page, `${what}: same page apart from ids`);
  for (const r of [x, y]) t.ok(r.retryAfter !== null && r.retryAfter > 0 && r.retryAfter <= window, `${what}: Retry-After in (0, ${window}] on ${r.via} (${r.retryAfter})`);
}

/** The password audit rows for a name, oldest first (refusals while locked carry no user id). */
async function passwordAudit(gw: Gateway, username: string) {
  return (await gw.services.db.query<{ outcome: string; reason: string | null; user_id: string | null; detail: unknown }>(
    `SELECT outcome, reason, user_id, detail FROM audit_events WHERE type = 'login.password' AND username = $1 ORDER BY id`, [username])).rows;
}

const alternate = (i: number): Via => (i % 2 ? 'B' : 'A');

t.test('account lockout: failures on A and B count together; the lock is the same on both and for an unknown name', async (t) => {
  const THRESHOLD = 4;
  const { a, b, attempt, served } = await pair(t, { lockoutThreshold: THRESHOLD, lockoutSeconds: 60, ipLimitPerMinute: 10_000 });
  const alice = await addUser(a, 'alice');
  await addUser(a, 'bob');

  // Control: one failure short of the threshold (two on each instance would be under a per-instance limit
  // too, so this only proves the limit is not reached early); the right password still works.
  for (let i = 0; i < THRESHOLD - 1; i++) t.equal((await attempt(alternate(i), 'bob', 'wrong password')).status, 401, `bob: failure ${i + 1} on ${alternate(i)}`);
  t.equal((await attempt('B', 'bob', PASSWORD)).status, 303, `bob: ${THRESHOLD - 1} failures in total do not lock`);

  const wrong: Answer[] = [];
  for (let i = 0; i < THRESHOLD; i++) {
    const r = await attempt(alternate(i), 'alice', 'wrong password');
    t.equal(r.status, 401, `alice: failure ${i + 1} on ${r.via}: 401`);
    t.equal(r.alert, WRONG);
    wrong.push(r);
  }
  // Each instance saw THRESHOLD / 2 failures: a per-instance counter would let the right password through.
  t.same(served(a).slice(-2), [401, 401], 'A answered two of them');
  t.same(served(b).slice(-2), [401, 401], 'B answered the other two');
  const lockedA = await attempt('A', 'alice', PASSWORD);
  const lockedB = await attempt('B', 'alice', PASSWORD);
  for (const r of [lockedA, lockedB]) {
    t.equal(r.status, 429, `locked on ${r.via}, even with the right password`);
    t.equal(r.alert, LOCKED);
  }
  sameAnswer(t, lockedA, lockedB, 60, 'A and B');

  // An unknown name, failures alternating the other way round: the same answers at the same counts.
  for (let i = 0; i < THRESHOLD; i++) {
    const r = await attempt(alternate(i + 1), 'ghost', 'wrong password');
    t.equal(r.status, 401, `ghost: failure ${i + 1} on ${r.via}: 401`);
    t.equal(r.page, wrong[i]!.page, `ghost: failure ${i + 1} looks exactly like alice's`);
  }
  const ghostA = await attempt('A', 'ghost', 'anything at all');
  const ghostB = await attempt('B', 'ghost', 'anything at all');
  sameAnswer(t, ghostA, ghostB, 60, 'unknown name, A and B');
  sameAnswer(t, lockedA, ghostA, 60, 'existing vs unknown account');

  const rows = await passwordAudit(a, 'alice');
  t.same(rows.map((r) => `${r.outcome}:${r.reason}`), [...Array<string>(THRESHOLD).fill('failure:wrong_password'), 'denied:account_locked', 'denied:account_locked'],
    'audit: the failures from both instances, then the refusals (no password checked while locked)');
  t.ok(rows.slice(0, THRESHOLD).every((r) => r.user_id === alice.id), 'the failures are attributed to alice');
  t.same(rows.map((r) => (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail)?.locked ?? false), [false, false, false, true, false, false],
    'the fourth failure (on B) locked the account');
  t.same((await passwordAudit(a, 'ghost')).map((r) => `${r.outcome}:${r.reason}`), [...Array<string>(THRESHOLD).fill('failure:unknown_user'), 'denied:account_locked', 'denied:account_locked'],
    'the unknown name: the same sequence');
});

t.test('per-IP limit: failures on A and B count together; the limit is the same on both and for every name', async (t) => {
  const LIMIT = 4;
  const { a, attempt } = await pair(t, { ipLimitPerMinute: LIMIT, lockoutThreshold: 100 });
  await addUser(a, 'alice');
  const names = ['ghost', 'alice', 'nobody', 'carol'];

  // LIMIT - 1 failures over both instances and several names, then a success: not limited yet.
  for (let i = 0; i < LIMIT - 1; i++) t.equal((await attempt(alternate(i), names[i]!, 'wrong password')).status, 401, `failure ${i + 1} on ${alternate(i)}`);
  t.equal((await attempt('A', 'alice', PASSWORD)).status, 303, `${LIMIT - 1} failures from this address: the right password still works`);
  t.equal((await attempt('B', 'nobody', 'wrong password')).status, 401, `failure ${LIMIT} on B`);

  // A success does not reset the address's count; each instance saw LIMIT / 2 failures.
  const known = { A: await attempt('A', 'alice', PASSWORD), B: await attempt('B', 'alice', PASSWORD) };
  const unknown = { A: await attempt('A', 'ghost', 'wrong password'), B: await attempt('B', 'ghost', 'wrong password') };
  for (const r of [known.A, known.B, unknown.A, unknown.B]) {
    t.equal(r.status, 429, `limited on ${r.via}`);
    t.equal(r.alert, IP_LIMITED);
  }
  sameAnswer(t, known.A, known.B, 60, 'A and B');
  sameAnswer(t, known.A, unknown.B, 60, 'existing account with its password vs unknown name');
  const denied = await a.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'login.password' AND reason = 'ip_limited'`);
  t.equal(denied.rows[0]!.n, 4, 'the four refusals audited as ip_limited');
});
