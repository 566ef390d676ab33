// Brute-force defence: a progressive delay and a temporary lockout per account (unknown usernames alike),
// a per-IP limit that a forged X-Forwarded-For cannot dodge, and a success that clears the account counter.
import t from 'tap';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { readForm } from '../helpers/browser.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';

const LOCKED = 'Too many failed attempts for this account. Wait a few minutes and try again, or contact your administrator.';
const IP_LIMITED = 'Too many sign-in attempts from your network. Wait a minute and try again.';

/** One login attempt in a fresh browser: status, alert, Retry-After and how long the answer took. */
async function attempt(gw: Gateway, username: string, password: string, headers: Record<string, string> = {}) {
  const rp = await discover(gw);
  const s = await startAuthorize(gw, rp, { scope: 'openid' });
  const page = await s.res.text();
  const started = performance.now();
  let res: Response;
  if (Object.keys(headers).length) {
    const form = readForm(page, '/login');
    res = await s.browser.request(new URL(form.action, gw.url), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ ...form.fields, username, password }),
    });
  } else {
    res = await submitLogin(s.browser, gw, page, username, password);
  }
  const ms = performance.now() - started;
  const html = res.status === 303 ? '' : await res.text();
  return { status: res.status, ms, retryAfter: res.headers.get('retry-after'), alert: /role="alert" id="error">([^<]*)</.exec(html)?.[1]?.replace(/&#39;/g, "'") };
}

t.test('per-account lockout', async (t) => {
  const gw = await startGateway(t, { overrides: { security: { lockoutThreshold: 3, lockoutSeconds: 60, progressiveDelayMs: 100, ipLimitPerMinute: 1000 } } });
  await addUser(gw);
  await addUser(gw, 'bob', 'bob password 1234');

  t.test('progressive delay, then a lockout that even the right password cannot pass', async (t) => {
    for (let i = 1; i <= 3; i++) {
      const a = await attempt(gw, 'alice', 'wrong password');
      t.equal(a.status, 401, `failure ${i}: 401`);
      t.ok(a.ms >= i * 100 - 5, `failure ${i}: delayed by at least ${i * 100} ms (took ${a.ms.toFixed(0)} ms)`);
    }
    const locked = await attempt(gw, 'alice', 'correct horse battery');
    t.equal(locked.status, 429, 'locked: 429 with the right password');
    t.equal(locked.alert, LOCKED);
    const retry = Number(locked.retryAfter);
    t.ok(Number.isInteger(retry) && retry > 0 && retry <= 60, `Retry-After within the lockout (${locked.retryAfter})`);
    t.equal((await attempt(gw, 'ALICE', 'correct horse battery')).status, 429, 'the lock ignores case');
  });

  t.test('an unknown username locks the same way (no existence leak)', async (t) => {
    for (let i = 1; i <= 3; i++) t.equal((await attempt(gw, 'ghost', 'wrong password')).status, 401, `failure ${i}`);
    const locked = await attempt(gw, 'ghost', 'anything at all');
    t.equal(locked.status, 429);
    t.equal(locked.alert, LOCKED, 'the same message as for a real account');
    t.ok(Number(locked.retryAfter) > 0, 'with Retry-After');
  });

  t.test('a successful login resets the account counter', async (t) => {
    for (let i = 0; i < 2; i++) t.equal((await attempt(gw, 'bob', 'wrong password')).status, 401);
    t.equal((await attempt(gw, 'bob', 'bob password 1234')).status, 303, 'success below the threshold');
    for (let i = 0; i < 2; i++) t.equal((await attempt(gw, 'bob', 'wrong password')).status, 401, 'counting starts again');
    t.equal((await attempt(gw, 'bob', 'bob password 1234')).status, 303, 'four failures in all, but never three in a row');
  });

  t.test('the lock ends by itself', async (t) => {
    t.equal((await attempt(gw, 'alice', 'correct horse battery')).status, 429, 'still locked');
    // Time passes (rather than sleeping through lockoutSeconds).
    await gw.services.db.query(`UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE key = 'acct:alice'`);
    t.equal((await attempt(gw, 'alice', 'correct horse battery')).status, 303, 'the right password works again');
  });
});

t.test('per-IP limit', async (t) => {
  const gw = await startGateway(t, { overrides: { security: { ipLimitPerMinute: 1, lockoutThreshold: 100 } } });
  await addUser(gw);
  t.equal((await attempt(gw, 'someone', 'wrong password')).status, 401, 'the one allowed failure');
  const limited = await attempt(gw, 'alice', 'correct horse battery');
  t.equal(limited.status, 429, 'then 429, whatever the account');
  t.equal(limited.alert, IP_LIMITED);
  const retry = Number(limited.retryAfter);
  t.ok(retry > 0 && retry <= 60, `Retry-After within the minute (${limited.retryAfter})`);
  // trustProxy is off: a forged X-Forwarded-For is not a new client.
  const forged = await attempt(gw, 'alice', 'correct horse battery', { 'x-forwarded-for': '203.0.113.7' });
  t.equal(forged.status, 429, 'X-Forwarded-For does not reset the limit');
});
