// The adapter contract on both databases, and the sweeper that deletes what the adapter let expire.
import t from 'tap';
import type { Test } from 'tap';
import { freshDb, pgAvailable, PG_URL } from '../helpers/db.ts';
import type { Db } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createOidcAdapter, sweepOidcModels, SWEEP_SQL } from '../../src/storage/oidc-adapter.ts';
import { adapterContract } from './adapter-contract.ts';
import { newUnit, runInUnit } from '../../src/storage/unit-of-work.ts';
import { ACCOUNT_JSON, USER_JSON, createUsers } from '../../src/users/users.ts';
import { traceDb } from '../helpers/db-trace.ts';
import { takeAnnounced } from '../../src/storage/along.ts';
import { createLoginThrottle } from '../../src/security/login-throttle.ts';
import { createTotpStore, SEED_JSON, SEED_ROW } from '../../src/mfa/totp/totp-store.ts';
import { createSecretBox } from '../../src/platform/secret-box.ts';

/**
 * A Session read inside a unit of work brings its account and the Grants of its authorizations: the
 * lookups oidc-provider makes next cost no statement, and what is gone stays gone (oidc-adapter.ts).
 */
async function sessionPrefetchTest(t: Test, db: Db) {
  const plain = createOidcAdapter(db);
  await new plain('Grant').upsert('g-live', { jti: 'g-live', kind: 'Grant', accountId: 'nobody', clientId: 'c1' }, 600);
  await new plain('Grant').upsert('g-expired', { jti: 'g-expired', kind: 'Grant', accountId: 'nobody', clientId: 'c3' }, 0);
  await new plain('Session').upsert('s-pre', { jti: 's-pre', uid: 's-pre-uid', kind: 'Session', accountId: 'not-a-uuid',
    authorizations: { c1: { sid: 'a', grantId: 'g-live' }, c2: { sid: 'b', grantId: 'g-deleted' }, c3: { sid: 'c', grantId: 'g-expired' } } }, 600);
  const tr = traceDb(db);
  const Adapter = createOidcAdapter(db, { account: ACCOUNT_JSON });
  await runInUnit(newUnit(), async () => {
    const session = await new Adapter('Session').find('s-pre');
    t.equal(session?.accountId, 'not-a-uuid', 'the session itself');
    t.equal(tr.reads, 1, 'one statement');
    const grants = new Adapter('Grant');
    t.match(await grants.find('g-live'), { jti: 'g-live', clientId: 'c1' }, 'a live Grant of the session comes with it');
    t.equal(await grants.find('g-deleted'), undefined, 'a Grant that no longer exists is not found');
    t.equal(await grants.find('g-expired'), undefined, 'nor an expired one');
    t.equal(tr.reads, 1, 'no statement for any of the three');
    t.match(await grants.find('g-live'), { jti: 'g-live' }, 'a second lookup of the same Grant reads it again');
    t.equal(tr.reads, 2);
  });
  await runInUnit(newUnit(), async () => {
    await new Adapter('Grant').upsert('g-live', { jti: 'g-live', kind: 'Grant', accountId: 'nobody', clientId: 'c1', changed: true }, 600);
    await new Adapter('Session').find('s-pre');
    t.match(await new Adapter('Grant').find('g-live'), { changed: true }, 'this request\'s own write to a Grant wins over the prefetched row');
  });
}

/**
 * An Interaction read inside a unit of work brings the Session it belongs to (oidc-provider checks it by
 * uid) and its user row (the MFA screens' signed-in user): neither costs a statement, and a Session that
 * is gone is not found.
 */
async function interactionPrefetchTest(t: Test, db: Db) {
  const users = createUsers(db);
  const bob = await users.add({ username: 'prefetch-bob', email: 'bob@example.org' }, 'hash-of-bob');
  const plain = createOidcAdapter(db);
  await new plain('Session').upsert('s-int', { jti: 's-int', uid: 's-int-uid', kind: 'Session', accountId: bob.id }, 600);
  await new plain('Interaction').upsert('i-mfa', { jti: 'i-mfa', kind: 'Interaction', session: { uid: 's-int-uid', accountId: bob.id } }, 600);
  await new plain('Interaction').upsert('i-gone', { jti: 'i-gone', kind: 'Interaction', session: { uid: 'ended-uid', accountId: bob.id } }, 600);
  const tr = traceDb(db);
  const Adapter = createOidcAdapter(db, { account: ACCOUNT_JSON, user: USER_JSON });
  await runInUnit(newUnit(), async () => {
    t.match(await new Adapter('Interaction').find('i-mfa'), { session: { uid: 's-int-uid' } }, 'the interaction itself');
    t.match(await new Adapter('Session').findByUid('s-int-uid'), { jti: 's-int', accountId: bob.id }, 'its Session by uid came with it');
    const signedIn = await users.findSignedIn(bob.id);
    t.match(signedIn, { id: bob.id, username: 'prefetch-bob', email: 'bob@example.org', passwordHash: 'hash-of-bob', disabled: false }, 'and its user row');
    t.ok(signedIn?.passwordChangedAt instanceof Date && signedIn.passwordChangedAt.getTime() === bob.passwordChangedAt.getTime(), 'the same row findById reads (a Date, not text)');
    t.equal(tr.reads, 1, 'one statement for all three');
    await users.findSignedIn(bob.id);
    t.equal(tr.reads, 2, 'a second lookup of the user reads it again');
  });
  await runInUnit(newUnit(), async () => {
    await new Adapter('Interaction').find('i-gone');
    t.equal(await new Adapter('Session').findByUid('ended-uid'), undefined, 'a Session that no longer exists is not found');
    t.equal(tr.reads, 3, 'without a statement of its own');
  });
}

/**
 * An Interaction read inside a unit of work brings its account's TOTP seed row (accountRows): the factor
 * screen's enrollment check and the code POST's seed lookup cost no statement; an account without a seed
 * is known to have none; a write to the seed in the same request drops the prefetched copy.
 */
async function seedPrefetchTest(t: Test, db: Db) {
  const users = createUsers(db);
  const box = createSecretBox('a-test-master-secret-of-enough-length-000');
  const totp = createTotpStore(db, box);
  const cleo = await users.add({ username: 'seed-cleo' }, 'h');
  const dan = await users.add({ username: 'seed-dan' }, 'h');
  await totp.importConfirmed(cleo.id, 'JBSWY3DPEHPK3PXP');
  const plain = createOidcAdapter(db);
  await new plain('Interaction').upsert('i-seed', { jti: 'i-seed', kind: 'Interaction', result: { login: { accountId: cleo.id } } }, 600);
  await new plain('Interaction').upsert('i-noseed', { jti: 'i-noseed', kind: 'Interaction', result: { login: { accountId: dan.id } } }, 600);
  const Adapter = createOidcAdapter(db, { account: ACCOUNT_JSON, user: USER_JSON, accountRows: { [SEED_ROW]: SEED_JSON } });
  const tr = traceDb(db);
  await runInUnit(newUnit(), async () => {
    await new Adapter('Interaction').find('i-seed');
    t.equal(await totp.isEnrolled(cleo.id), true, 'enrolled, from the seed that came with the interaction');
    t.equal(tr.reads, 1, 'no statement of its own');
    t.same(await totp.find(cleo.id), { secret: 'JBSWY3DPEHPK3PXP', confirmed: true }, 'handed out once: a second lookup reads the row');
    t.equal(tr.reads, 2);
  });
  await runInUnit(newUnit(), async () => {
    await new Adapter('Interaction').find('i-noseed');
    t.equal(await totp.find(dan.id), undefined, 'an account without a seed is known to have none');
    t.equal(tr.reads, 3, 'without a statement');
  });
  await runInUnit(newUnit(), async () => {
    await new Adapter('Interaction').find('i-noseed');
    await totp.savePending(dan.id, 'KRSXG5CTMVRXEZLU');
    t.same(await totp.find(dan.id), { secret: 'KRSXG5CTMVRXEZLU', confirmed: false }, 'after a write in the same request: the row as written, not the prefetched "none"');
  });
}

/**
 * Reads announced ahead (storage/along.ts) come with the unit's next Interaction read: the password POST's
 * throttle check and user lookup cost no statement of their own, are handed out once, and a lookup whose
 * value did not come (nothing announced, another name, the interaction missing) reads as before.
 */
async function announcedReadsTest(t: Test, db: Db) {
  const users = createUsers(db, { accountRows: { [SEED_ROW]: SEED_JSON } });
  const throttle = createLoginThrottle(db, { lockoutThreshold: 2, lockoutSeconds: 60, progressiveDelayMs: 0, ipLimitPerMinute: 100 });
  const box = createSecretBox('a-test-master-secret-of-enough-length-000');
  const eve = await users.add({ username: 'Along-Eve', groups: ['staff'] }, 'hash-of-eve');
  await createTotpStore(db, box).importConfirmed(eve.id, 'JBSWY3DPEHPK3PXP');
  const plain = createOidcAdapter(db);
  await new plain('Interaction').upsert('i-along', { jti: 'i-along', kind: 'Interaction' }, 600);
  const Adapter = createOidcAdapter(db, { account: ACCOUNT_JSON, user: USER_JSON, accountRows: { [SEED_ROW]: SEED_JSON } });
  const tr = traceDb(db);
  const expected = { id: eve.id, username: 'Along-Eve', groups: ['staff'], passwordHash: 'hash-of-eve', disabled: false };

  throttle.announceCheck('along-eve', '192.0.2.1');
  t.equal(takeAnnounced('anything'), undefined, 'outside a unit of work nothing is announced');
  t.match(await users.findByUsername('along-eve'), expected, 'and the lookup reads as before');
  t.equal(tr.reads, 1);

  await runInUnit(newUnit(), async () => {
    throttle.announceCheck('along-eve', '192.0.2.1');
    users.announceFindByUsername('ALONG-EVE');
    await new Adapter('Interaction').find('i-along');
    t.equal(tr.reads, 2, 'the interaction read carries both');
    t.equal(tr.statements.at(-1), 'SELECT oidc_models+[login_throttle, users]');
    t.same(await throttle.check('along-eve', '192.0.2.1'), { ok: true, accountClean: true }, 'the throttle verdict came along');
    const u = await users.findByUsername('along-eve');
    t.match(u, expected, 'the user came along (the name is matched as the database matches it, case-insensitively)');
    t.ok(u!.passwordChangedAt instanceof Date && !Number.isNaN(u!.passwordChangedAt.getTime()), 'its timestamp a Date');
    t.equal(await createTotpStore(db, box).isEnrolled(eve.id), true, 'and its TOTP seed, filed for the screens after it');
    t.equal(tr.reads, 2, 'no statement for any of them');
    t.match(await users.findByUsername('along-eve'), expected, 'handed out once: a second lookup reads');
    t.equal(tr.reads, 3);
  });

  await throttle.fail('along-eve', '192.0.2.1');
  await throttle.fail('along-eve', '192.0.2.1');
  await runInUnit(newUnit(), async () => {
    throttle.announceCheck('along-eve', '192.0.2.1');
    users.announceFindByUsername('nobody-here');
    await new Adapter('Interaction').find('i-along');
    const before = tr.reads;
    t.match(await throttle.check('along-eve', '192.0.2.1'), { ok: false, reason: 'account_locked' }, 'a locked account, as read along');
    t.equal(await users.findByUsername('nobody-here'), undefined, 'an unknown user is known not to exist');
    t.equal(tr.reads, before, 'without a statement');
    t.match(await throttle.check('along-eve', '192.0.2.2'), { ok: false, reason: 'account_locked' }, 'another IP is another check: read');
    t.equal(tr.reads, before + 1);
  });

  await runInUnit(newUnit(), async () => {
    users.announceFindByUsername('along-eve');
    t.equal(await new Adapter('Interaction').find('i-missing'), undefined, 'a missing interaction');
    const before = tr.reads;
    t.match(await users.findByUsername('along-eve'), expected, 'brings nothing along: the lookup reads');
    t.equal(tr.reads, before + 1);
  });
}

/** Inside a request's unit of work a Session is read once and handed out as copies (oidc-adapter.ts). */
async function snapshotTest(t: Test, db: Db) {
  const Session = createOidcAdapter(db);
  const stored = { jti: 'snap', uid: 'snap-uid', kind: 'Session', accountId: 'a1', authorizations: { c1: { sid: 's1', grantId: 'g1' } }, amr: ['pwd', 'otp'],
    ...JSON.parse('{"__proto__": {"polluted": true}}') };
  await new Session('Session').upsert('snap', stored, 600);
  await runInUnit(newUnit(), async () => {
    const a = new Session('Session');
    const first = await a.find('snap');
    const second = await a.find('snap');
    const byUid = await a.findByUid('snap-uid');
    t.same(second, first, 'the second read answers the same payload');
    t.same(byUid, first, 'and so does the read by uid');
    (first!.authorizations as Record<string, { sid: string }>).c1!.sid = 'changed';
    (first!.amr as string[]).push('mutated');
    const third = await a.find('snap');
    t.equal((third!.authorizations as Record<string, { sid: string }>).c1!.sid, 's1', 'a caller changing its copy changes no other read (nested object)');
    t.same(third!.amr, ['pwd', 'otp'], 'nor an array');
    t.equal(Object.getPrototypeOf(third), Object.prototype, 'a "__proto__" key stays data: the copy\'s prototype is untouched');
    t.same(Object.getOwnPropertyDescriptor(third, '__proto__')?.value, { polluted: true }, 'and the key is kept');
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted');
  });
}

async function sweeperTest(t: Test, db: Db) {
  await db.query('DELETE FROM oidc_models'); // the database is shared with the contract run before
  const at = new (createOidcAdapter(db))('AccessToken');
  await at.upsert('live', { jti: 'live', kind: 'AccessToken' }, 600);
  await at.upsert('forever', { jti: 'forever', kind: 'AccessToken' });
  await at.upsert('consumed-live', { jti: 'consumed-live', kind: 'AccessToken' }, 600);
  await at.consume('consumed-live');
  for (const id of ['old-1', 'old-2', 'consumed-old']) await at.upsert(id, { jti: id, kind: 'AccessToken' }, 600);
  await at.consume('consumed-old');
  await db.query(`UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE id IN ('old-1', 'old-2', 'consumed-old')`);

  t.equal(await sweepOidcModels(db), 3, 'returns the number of expired rows removed');
  const left = await db.query<{ id: string }>('SELECT id FROM oidc_models ORDER BY id');
  t.same(left.rows.map((r) => r.id), ['consumed-live', 'forever', 'live'], 'live, non-expiring and consumed-but-live rows stay');
  t.equal(await sweepOidcModels(db), 0, 'a second sweep finds nothing');

  // In batches: a sweep goes on until a batch comes back short, and still takes only expired rows.
  for (let i = 0; i < 7; i++) await at.upsert(`old-${i}`, { jti: `old-${i}`, kind: 'AccessToken' }, 600);
  await db.query(`UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE id LIKE 'old-%'`);
  const statements: string[] = [];
  const watched = { ...db, query: (text: string, params?: unknown[]) => { statements.push(text); return db.query(text, params); } } as Db;
  t.equal(await sweepOidcModels(watched, { batch: 3, pauseMs: 0 }), 7, 'seven expired rows in batches of three');
  t.equal(statements.length, 3, 'three batches: 3 + 3 + 1');
  t.same((await db.query<{ id: string }>('SELECT id FROM oidc_models ORDER BY id')).rows.map((r) => r.id), ['consumed-live', 'forever', 'live'], 'the live rows are still there');

  // The plan the pool's prepared statement ends up with (generic), on a table without statistics: a batch
  // walks the expires_at index. A table scan here made each minute's sweep read every row (bench soak).
  const plan = await db.transaction(async (q) => {
    await q.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await q.query(`PREPARE sweep_plan_check(int) AS ${SWEEP_SQL}`);
    try {
      return JSON.stringify((await q.query('EXPLAIN (FORMAT JSON) EXECUTE sweep_plan_check(500)')).rows);
    } finally { await q.query('DEALLOCATE sweep_plan_check'); }
  });
  t.match(plan, /Index Scan/, 'the batch is read through an index');
  t.notMatch(plan, /Seq Scan/, 'never a scan of the whole table');
}

// Probed before any test starts: a PGlite boot blocks the event loop long enough to time the probe out.
const pg = await pgAvailable();
for (const kind of ['pglite', 'pg'] as const) {
  const label = kind === 'pg' ? 'PostgreSQL' : 'PGlite';
  if (kind === 'pg' && !pg) {
    if (PG_URL) t.fail(`TEST_DATABASE_URL is set but PostgreSQL at ${PG_URL} is not reachable`);
    else t.comment('PostgreSQL not reachable at the default test URL: adapter contract ran on PGlite only');
    continue;
  }
  t.test(label, async (t) => {
    // One database per kind: creating a PGlite instance is the slow part of this file.
    const fresh = await freshDb(kind);
    t.teardown(fresh.drop);
    await migrate(fresh.db);
    await t.test('adapter contract', (t) => adapterContract(t, async () => ({ db: fresh.db, drop: async () => {} })));
    await t.test('sweeper deletes expired rows only', (t) => sweeperTest(t, fresh.db));
    await t.test('a unit of work reads a Session once and hands out independent copies', (t) => snapshotTest(t, fresh.db));
    await t.test('a Session comes with its Grants inside a unit of work', (t) => sessionPrefetchTest(t, fresh.db));
    await t.test('an Interaction comes with its Session and its user inside a unit of work', (t) => interactionPrefetchTest(t, fresh.db));
    await t.test('an Interaction comes with its account\'s TOTP seed inside a unit of work', (t) => seedPrefetchTest(t, fresh.db));
    await t.test('reads announced ahead come with an Interaction read', (t) => announcedReadsTest(t, fresh.db));
  });
}
