// The adapter contract on both databases, and the sweeper that deletes what the adapter let expire.
import t from 'tap';
import type { Test } from 'tap';
import { freshDb, pgAvailable, PG_URL } from '../helpers/db.ts';
import type { Db } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createOidcAdapter, sweepOidcModels } from '../../src/storage/oidc-adapter.ts';
import { adapterContract } from './adapter-contract.ts';

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
  });
}
