// Admission control in front of argon2id (src/users/passwords.ts): at most one hash per core runs, the
// rest wait in order, and a check that would wait longer than passwords.maxQueueWaitMs is refused at
// once. At the login form the refusal is a 503 with Retry-After and the form again; it is not an attempt,
// so nothing is audited or throttled, and the same form goes through once the queue has drained.
import t from 'tap';
import { createPasswords, HashingBusyError, limiter } from '../../src/users/passwords.ts';
import { startGateway } from '../helpers/gateway.ts';
import { readForm } from '../helpers/browser.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';

/** Settles every promise: the values of those that resolved, the errors of those that were refused. */
async function outcomes<T>(ps: Promise<T>[]) {
  const all = await Promise.allSettled(ps);
  return {
    done: all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    refused: all.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

t.test('the queue admits what fits in the wait limit and refuses the rest at once', async (t) => {
  // A hash of ≈ 5-15 ms and a 200 ms limit: some of the 100 fit, most do not, on a fast or a stalled machine.
  const passwords = createPasswords({ memoryKiB: 8192, iterations: 2, parallelism: 1, slots: 1, maxQueueWaitMs: 200 });
  const stored = await passwords.hash('pw'); // the first hash teaches the queue how long one takes
  const started = performance.now();
  const burst = Array.from({ length: 100 }, () => passwords.verify(stored, 'pw'));
  t.ok(passwords.queued() > 0, `checks are waiting (${passwords.queued()})`);
  const { done, refused } = await outcomes(burst);
  t.ok(done.length >= 2, `some were admitted (${done.length})`);
  t.ok(refused.length >= 1, `the rest were refused (${refused.length})`);
  t.ok(done.every((ok) => ok === true), 'every admitted check verified');
  for (const e of refused) {
    t.ok(e instanceof HashingBusyError, 'refused as busy');
    const s = (e as HashingBusyError).retryAfterSeconds;
    t.ok(Number.isInteger(s) && s >= 1 && s <= 30, `Retry-After ${s} s`);
  }
  t.equal(passwords.queued(), 0, 'the queue drained');
  t.ok(performance.now() - started < 10_000, 'the refused ones did not wait for the others');
  t.equal(await passwords.verify(stored, 'pw'), true, 'after the burst, a check goes through');
  t.equal(await passwords.verify(stored, 'wrong'), false, 'and a wrong password is still wrong');
});

t.test('a refused first check for an unknown user does not spoil the next ones', async (t) => {
  const passwords = createPasswords({ memoryKiB: 4096, iterations: 2, parallelism: 1, slots: 1, maxQueueWaitMs: 1 });
  const stored = await passwords.hash('pw');
  const { refused } = await outcomes<unknown>([passwords.verify(stored, 'pw'), passwords.verifyDummy('x'), passwords.verifyDummy('y')]);
  t.ok(refused.length >= 1 && refused.every((e) => e instanceof HashingBusyError), 'the dummy checks behind a running hash are refused');
  await passwords.verifyDummy('z');
  t.pass('a later dummy check completes');
});

t.test('0 queues without limit', async (t) => {
  const passwords = createPasswords({ memoryKiB: 1024, iterations: 1, parallelism: 1, slots: 1, maxQueueWaitMs: 0 });
  const stored = await passwords.hash('pw');
  const { done, refused } = await outcomes(Array.from({ length: 40 }, () => passwords.verify(stored, 'pw')));
  t.equal(refused.length, 0);
  t.equal(done.length, 40);
});

t.test('at the login form: 503, Retry-After, the form again, nothing recorded; then the same form goes through', async (t) => {
  // Slow hashes (≈ 100+ ms each) hold the slots for long enough that the POST meets them busy.
  const gw = await startGateway(t, { overrides: { passwords: { memoryKiB: 65536, iterations: 3, parallelism: 1, minLength: 8, maxQueueWaitMs: 1 } } });
  const alice = await addUser(gw);
  const rp = await discover(gw);
  const s = await startAuthorize(gw, rp, { scope: 'openid' });
  const page = await s.res.text();
  const state = async () => ({
    audit: (await gw.services.db.query(`SELECT type, outcome FROM audit_events WHERE type = 'login.password'`)).rows,
    throttle: (await gw.services.db.query(`SELECT key, failures FROM login_throttle`)).rows,
  });
  const before = await state();

  // Every slot busy (the gauge counts what waits; with a 1 ms limit nothing may wait).
  const hold = outcomes(Array.from({ length: 8 }, () => gw.services.passwords.verify(alice.passwordHash, 'x')));
  const res = await submitLogin(s.browser, gw, page, 'alice', 'correct horse battery');
  const again = await res.text();
  t.equal(res.status, 503, 'refused while every slot is busy');
  const retry = Number(res.headers.get('retry-after'));
  t.ok(Number.isInteger(retry) && retry >= 1 && retry <= 30, `Retry-After ${retry}`);
  t.equal(res.headers.get('cache-control'), 'no-store');
  t.match(again, /role="alert" id="error">Many people are signing in right now\. Wait a few seconds and try again\.</);
  t.match(again, /value="alice"/, 'the username is kept');
  t.same(await state(), before, 'not an attempt: no audit row, no throttle failure');
  const line = gw.logs.find((l) => l.includes('GW_LOGIN_BUSY'));
  t.ok(line, 'logged');
  t.notMatch(gw.logs.join('\n'), /correct horse battery/, 'the password is in no log line');
  t.ok((await hold).done.length >= 1, 'the held checks ran');

  const ok = await submitLogin(s.browser, gw, again, 'alice', 'correct horse battery');
  t.equal(ok.status, 303, 'the form it answered with goes through once the queue drained');
  t.notMatch(ok.headers.get('location') ?? '', /error=/);
  const after = await state();
  t.same(after.audit, [{ type: 'login.password', outcome: 'success' }], 'one attempt recorded: the one that ran');
  t.match(await gw.services.metrics.registry.getSingleMetricAsString('gatehouse_password_checks_queued'), /gatehouse_password_checks_queued 0/, 'the queue gauge');
  t.ok(readForm(again, '/login').fields, 'the refused answer carried a usable form');
});

t.test('never more than the slots at once, even for a newcomer that arrives while a slot is handed over', async (t) => {
  const limit = limiter(1, 0);
  let running = 0;
  let most = 0;
  const task = async (hold?: Promise<void>) => {
    running++;
    most = Math.max(most, running);
    await (hold ?? new Promise((r) => setTimeout(r, 5)));
    running--;
  };
  let releaseFirst!: () => void;
  const first = limit(() => task(new Promise<void>((r) => { releaseFirst = r; })));
  const waiting = limit(() => task());
  // The first check finishes, and in the same microtask run (after its slot is released, before the waiter
  // resumes) a newcomer asks for a slot. Counted the old way (released, then taken again by the waiter as
  // it resumed), the newcomer found the slot free and two ran at once.
  // Newcomers at several microtask depths, so that one lands in that window whatever its exact depth.
  releaseFirst();
  const hops = (n: number) => { let p = Promise.resolve(); for (let i = 0; i < n; i++) p = p.then(() => {}); return p; };
  const newcomers = Array.from({ length: 8 }, (_, d) => hops(d).then(() => limit(() => task())));
  await Promise.all([first, waiting, ...newcomers]);
  t.equal(most, 1, 'one at a time');
  t.equal(limit.active(), 0, 'every slot given back');
  t.equal(limit.queued(), 0);
});
