// A unit of work written as one statement (src/storage/one-statement.ts, used by unit-of-work.ts flushUnit):
// the same rows as the statements one by one, all or nothing, a lost one-time write rolls everything back
// and is reported as lost; and the cases it must refuse (and leave to the transaction) are refused.
import t, { type Test } from 'tap';
import { bothKinds, withTable, type DbKind } from '../helpers/db.ts';
import type { Db } from '../../src/storage/db.ts';
import { asOneStatement, writesOf } from '../../src/storage/one-statement.ts';
import { deferOneTime, deferWrite, flushUnit, newUnit, runInUnit } from '../../src/storage/unit-of-work.ts';

const kinds = await bothKinds();

const INSERT = 'INSERT INTO probe (id, v) VALUES ($1, $2)';
const TAKE = 'UPDATE probe SET taken = true WHERE id = $1 AND NOT taken';

t.test('what it refuses, leaving the caller its transaction', async (t) => {
  t.equal(asOneStatement([{ text: 'SELECT 1', params: [] }]), undefined, 'a read');
  t.equal(asOneStatement([{ text: `${INSERT} RETURNING id`, params: [1, 'a'] }]), undefined, 'a write whose result someone reads');
  t.equal(asOneStatement([{ text: INSERT, params: [1, 'a'] }, { text: INSERT, params: [2, 'b'] }]), undefined, 'the same text twice: maybe the same row');
  t.ok(asOneStatement([{ text: INSERT, params: [1, 'a'], distinctRows: true }, { text: INSERT, params: [2, 'b'], distinctRows: true }]), 'unless each adds its own row');
  t.equal(asOneStatement([{ text: 'DELETE FROM probe WHERE id = $1', params: [1] }], [{ text: `${TAKE} RETURNING 1`, params: [1] }]), undefined,
    'a write to the table a one-time write changes: maybe its row');
});

t.test('placeholders are renumbered in order and the writes can be read back', async (t) => {
  const s = asOneStatement([{ text: INSERT, params: [1, 'a'], distinctRows: true }, { text: 'DELETE FROM other WHERE id = $1', params: [9] }], [{ text: `${TAKE} RETURNING 1`, params: [7] }])!;
  t.same(s.params, [7, 1, 'a', 9], 'the one-time write first');
  t.same(writesOf(s.text), [`${TAKE} RETURNING 1`, 'INSERT INTO probe (id, v) VALUES ($2, $3)', 'DELETE FROM other WHERE id = $4']);
  t.equal(writesOf(INSERT), undefined, 'an ordinary statement is not one');
});

t.test('a sequence is built once: the same texts give the same text, with this call\'s parameters; refusals are kept too', async (t) => {
  const seq = (a: unknown, b: unknown) => asOneStatement([{ text: INSERT, params: [a, 'x'], distinctRows: true }, { text: 'DELETE FROM other WHERE id = $1', params: [b] }], [{ text: `${TAKE} RETURNING 1`, params: [a] }])!;
  const first = seq(1, 2); const second = seq(5, 6);
  t.equal(second.text, first.text, 'the same statement text');
  t.same(second.params, [5, 5, 'x', 6], 'this call\'s parameters, in order');
  const twice = [{ text: INSERT, params: [1, 'a'] }, { text: INSERT, params: [2, 'b'] }];
  t.equal(asOneStatement(twice), undefined, 'refused');
  t.equal(asOneStatement(twice), undefined, 'and refused again from the cache');
  t.ok(asOneStatement(twice.map((w) => ({ ...w, distinctRows: true }))), 'the same texts with distinctRows are another sequence');
  t.same(asOneStatement([{ text: INSERT, params: [3, 'c'] }])!.params, [3, 'c'], 'a prefix of a built sequence is its own sequence');
});

const withProbe = (t: Test, kind: DbKind): Promise<Db> =>
  withTable(t, kind, 'CREATE TABLE probe (id int PRIMARY KEY, v text NOT NULL DEFAULT \'\', taken boolean NOT NULL DEFAULT false)');
const ids = async (db: Db) => (await db.query<{ id: number }>('SELECT id FROM probe ORDER BY id')).rows.map((r) => r.id);

for (const kind of kinds) {
  t.test(`${kind}: a unit with a one-time write and two inserts commits as one statement`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query(INSERT, [1, 'one-time']);
    const statements: string[] = [];
    const query = db.query.bind(db);
    (db as { query: Db['query'] }).query = (text, params) => { statements.push(text); return query(text, params); };
    const u = newUnit();
    await runInUnit(u, async () => {
      deferOneTime(u, db, { model: 'probe', id: '1' }, TAKE, [1]);
      await deferWrite(db, INSERT, [2, 'b'], { distinctRows: true });
      await deferWrite(db, INSERT, [3, 'c'], { distinctRows: true });
    });
    t.same(await flushUnit(u), { ok: true, commits: 1 });
    t.equal(statements.length, 1, 'one statement');
    t.ok(writesOf(statements[0]!), 'made by asOneStatement');
    (db as { query: Db['query'] }).query = query;
    t.same(await ids(db), [1, 2, 3]);
    t.equal((await db.query<{ taken: boolean }>('SELECT taken FROM probe WHERE id = 1')).rows[0]!.taken, true);
  });

  t.test(`${kind}: when the one-time write loses, nothing is written and the loss is reported`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query('INSERT INTO probe (id, taken) VALUES (1, true)');
    const u = newUnit();
    await runInUnit(u, async () => {
      deferOneTime(u, db, { model: 'probe', id: '1' }, TAKE, [1]);
      await deferWrite(db, INSERT, [2, 'b'], { distinctRows: true });
    });
    const lostSeen: unknown[] = [];
    t.same(await flushUnit(u, async (_q, lost) => { lostSeen.push(lost); }), { ok: false, lost: { model: 'probe', id: '1' } });
    t.same(lostSeen, [{ model: 'probe', id: '1' }], 'onLost ran');
    t.same(await ids(db), [1], 'the insert behind it rolled back');
  });

  t.test(`${kind}: two one-time writes: one statement when both win; when one loses, nothing is written and the right one is reported`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query('INSERT INTO probe (id) VALUES (1), (2), (3)');
    const statements: string[] = [];
    const query = db.query.bind(db);
    (db as { query: Db['query'] }).query = (text, params) => { statements.push(text); return query(text, params); };
    const unit = async (a: number, b: number, insert: number) => {
      const u = newUnit();
      await runInUnit(u, async () => {
        deferOneTime(u, db, { model: 'probe', id: String(a) }, TAKE, [a]);
        deferOneTime(u, db, { model: 'probe', id: String(b) }, TAKE, [b]);
        await deferWrite(db, INSERT, [insert, 'w'], { distinctRows: true });
      });
      return flushUnit(u);
    };
    t.same(await unit(1, 2, 10), { ok: true, commits: 1 });
    t.equal(statements.length, 1, 'both won: one statement');
    t.same(await unit(3, 2, 11), { ok: false, lost: { model: 'probe', id: '2' } }, 'the second lost: it is the one reported');
    t.same(await unit(1, 3, 12), { ok: false, lost: { model: 'probe', id: '1' } }, 'the first lost');
    (db as { query: Db['query'] }).query = query;
    t.same(await ids(db), [1, 2, 3, 10], 'neither losing unit wrote anything');
    t.equal((await db.query<{ taken: boolean }>('SELECT taken FROM probe WHERE id = 3')).rows[0]!.taken, false, 'the value a losing unit would have taken is still free');
  });

  t.test(`${kind}: any failing write rolls back the others`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query(INSERT, [2, 'taken']);
    const u = newUnit();
    await runInUnit(u, async () => {
      await deferWrite(db, INSERT, [1, 'a'], { distinctRows: true });
      await deferWrite(db, INSERT, [2, 'b'], { distinctRows: true });
    });
    const err = await flushUnit(u).catch((e: { code?: string }) => e);
    t.equal((err as { code?: string }).code, '23505', 'the unique violation is the answer');
    t.same(await ids(db), [2], 'the first insert rolled back');
  });

  t.test(`${kind}: one-time writes race: exactly one unit wins`, async (t) => {
    const db = await withProbe(t, kind);
    await db.query(INSERT, [1, 'one-time']);
    const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const u = newUnit();
      await runInUnit(u, async () => {
        deferOneTime(u, db, { model: 'probe', id: '1' }, TAKE, [1]);
        await deferWrite(db, INSERT, [100 + i, 'w'], { distinctRows: true });
      });
      return flushUnit(u);
    }));
    t.equal(results.filter((r) => r.ok).length, 1, 'one winner');
    t.equal((await ids(db)).length, 2, 'only the winner\'s insert is there');
  });
}
