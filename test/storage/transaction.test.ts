// Db.transaction with { oneRoundTrip: true } (what a unit of work's flush uses): BEGIN, the statements and
// COMMIT leave in one write, and a failed statement still rolls back everything, on PostgreSQL (pipeline
// mode) and on PGlite (where the option changes nothing).
import t, { type Test } from 'tap';
import { bothKinds, withTable, type DbKind } from '../helpers/db.ts';
import type { Db } from '../../src/storage/db.ts';

const kinds = await bothKinds();
const withProbe = (t: Test, kind: DbKind): Promise<Db> => withTable(t, kind, 'CREATE TABLE tx_probe (id int PRIMARY KEY, v text NOT NULL)');
const rows = async (db: Db) => (await db.query<{ id: number }>('SELECT id FROM tx_probe ORDER BY id')).rows.map((r) => r.id);

for (const kind of kinds) {
  t.test(`${kind}: all statements commit together`, async (t) => {
    const db = await withProbe(t, kind);
    const out = await db.transaction(async (q) => {
      const sent = [1, 2, 3].map((i) => q.query('INSERT INTO tx_probe (id, v) VALUES ($1, $2)', [i, `v${i}`]));
      return (await Promise.all(sent)).map((r) => r.rowCount);
    }, { oneRoundTrip: true });
    t.same(out, [1, 1, 1]);
    t.same(await rows(db), [1, 2, 3]);
  });

  t.test(`${kind}: one failing statement rolls back the ones before and after it`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query('INSERT INTO tx_probe (id, v) VALUES (2, $1)', ['taken']);
    const err = await db.transaction(async (q) => {
      const sent = [1, 2, 3].map((i) => q.query('INSERT INTO tx_probe (id, v) VALUES ($1, $2)', [i, `v${i}`]));
      const settled = await Promise.allSettled(sent);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }, { oneRoundTrip: true }).catch((e: { code?: string }) => e);
    t.equal((err as { code?: string }).code, '23505', 'the first failure is the answer (unique violation)');
    t.same(await rows(db), [2], 'nothing of the transaction was written');
    await db.query('INSERT INTO tx_probe (id, v) VALUES (9, $1)', ['after']);
    t.same(await rows(db), [2, 9], 'the connection is usable afterwards');
  });

  t.test(`${kind}: a failure the function swallowed still writes nothing`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query('INSERT INTO tx_probe (id, v) VALUES (2, $1)', ['taken']);
    const done = db.transaction(async (q) => {
      await Promise.allSettled([1, 2, 3].map((i) => q.query('INSERT INTO tx_probe (id, v) VALUES ($1, $2)', [i, `v${i}`])));
    }, { oneRoundTrip: true });
    if (kind === 'pg') await t.rejects(done, /GW_ERR_TX_ROLLED_BACK/, 'and says so');
    else await done.catch(() => undefined); // PGlite runs them one by one; its COMMIT rolls back as well
    t.same(await rows(db), [2], 'the COMMIT rolled back');
  });
}

if (kinds.includes('pg')) {
  t.test('pg: a statement issued after an await is refused, not run outside the transaction', async (t) => {
    const db = await withProbe(t, 'pg');
    const done = db.transaction(async (q) => {
      await q.query('INSERT INTO tx_probe (id, v) VALUES (1, $1)', ['first']);
      await q.query('INSERT INTO tx_probe (id, v) VALUES (2, $1)', ['late']);
    }, { oneRoundTrip: true });
    await t.rejects(done, /GW_ERR_TX_ONE_ROUND_TRIP/, 'the caller broke the contract and is told');
    t.same(await rows(db), [1], 'the late statement never ran (what was issued in time committed)');
  });
}
