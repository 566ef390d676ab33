// Migrations: applied once, in order, atomically, and safely when two instances start at the same moment.
import t from 'tap';
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { freshDb, pgAvailable, PG_URL, type DbKind } from '../helpers/db.ts';
import { createDb, type Db } from '../../src/storage/db.ts';
import { listMigrations, migrate, migrationsApplied, type Migration } from '../../src/storage/migrate.ts';

// Probed before any test starts: a PGlite boot blocks the event loop long enough to time the probe out.
const pg = await pgAvailable();
const MIGRATIONS = listMigrations();
const VERSIONS = MIGRATIONS.map((m) => m.version);
// Tables of 001_core; later migrations add more, so this is a floor, not the whole list.
const CORE_TABLES = ['audit_events', 'login_throttle', 'oidc_models', 'signing_keys', 'users'];

/** An empty database. PGlite gets an empty schema in a template copy (a cold PGlite start takes ~8 s). */
async function emptyDb(t: Test, kind: DbKind): Promise<{ db: Db; url?: string }> {
  const fresh = await freshDb(kind);
  t.teardown(fresh.drop);
  if (kind === 'pglite') {
    const schema = `m_${randomBytes(4).toString('hex')}`;
    await fresh.db.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`); // one connection: sticks
  }
  return fresh;
}

const applied = async (db: Db) =>
  (await db.query<{ version: number; name: string; applied_at: Date }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).rows;
const tables = async (db: Db) =>
  (await db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY 1`)).rows.map((r) => r.t);

t.test('the migration files are numbered uniquely and in order', async (t) => {
  t.ok(MIGRATIONS.length >= 1, 'at least one migration');
  t.same(VERSIONS, [...new Set(VERSIONS)].sort((a, b) => a - b), 'versions are unique and ascending');
  t.equal(VERSIONS[0], 1, 'numbering starts at 001');
});

async function lifecycle(t: Test, kind: DbKind) {
  const { db } = await emptyDb(t, kind);
  t.equal(await migrationsApplied(db), false, 'an empty database is not migrated');
  t.same(await tables(db), [], 'and has no tables');

  t.same(await migrate(db), VERSIONS, 'the first run applies every migration, in order');
  const first = await applied(db);
  t.same(first.map((r) => [r.version, r.name]), MIGRATIONS.map((m) => [m.version, m.name]), 'schema_migrations lists each one by version and name');
  const created = await tables(db);
  t.same(CORE_TABLES.filter((name) => !created.includes(name)), [], 'the core tables exist');
  t.equal(await migrationsApplied(db), true, 'migrationsApplied is true afterwards');

  t.same(await migrate(db), [], 'a second run applies nothing');
  t.same(await applied(db), first, 'and leaves schema_migrations unchanged');

  const newer: Migration = { version: 999, name: 'from_a_newer_build', sql: 'SELECT 1' };
  t.equal(await migrationsApplied(db, [...MIGRATIONS, newer]), false, 'not ready when the build knows a migration the database lacks');

  // Forward-only and atomic: a failing migration leaves nothing behind, not even the ones before it in the batch.
  const good: Migration = { version: 998, name: 'good', sql: 'CREATE TABLE good_one (x int)' };
  const bad: Migration = { version: 999, name: 'bad', sql: 'CREATE TABLE bad_one (x int); SELECT 1/0' };
  await t.rejects(migrate(db, [...MIGRATIONS, good, bad]), /division by zero/, 'a failing migration rejects');
  t.same(await applied(db), first, 'no version of the failed batch is recorded');
  t.same(await tables(db), created, 'and no table of it exists');
}

t.test('PGlite: fresh → migrated → idempotent → atomic', (t) => lifecycle(t, 'pglite'));

if (!pg && PG_URL) t.fail(`TEST_DATABASE_URL is set but PostgreSQL at ${PG_URL} is not reachable`);
if (!pg) t.comment('PostgreSQL not reachable at the default test URL: PostgreSQL migration tests skipped');

if (pg) {
  t.test('PostgreSQL: fresh → migrated → idempotent → atomic', (t) => lifecycle(t, 'pg'));

  t.test('PostgreSQL: two instances migrating one fresh schema at once apply each migration exactly once', async (t) => {
    for (let round = 0; round < 3; round++) {
      const { db: a, url } = await emptyDb(t, 'pg');
      const b = await createDb({ url, dataDir: '/nonexistent' }); // a second pool: another "instance"
      t.teardown(() => b.close());
      await Promise.all([a.ping(), b.ping()]); // connect both first so the two runs really overlap
      const results = await Promise.allSettled([migrate(a), migrate(b)]);
      t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled'], `round ${round}: both instances start`);
      const versions = results.flatMap((r) => r.status === 'fulfilled' ? r.value : []);
      t.same(versions.sort((x, y) => x - y), VERSIONS, `round ${round}: each migration applied by exactly one instance`);
      t.same((await applied(a)).map((r) => r.version), VERSIONS, `round ${round}: recorded once each`);
      t.equal(await migrationsApplied(b), true, `round ${round}: both see a migrated database`);
    }
  });

  t.test('PostgreSQL: the request statement_timeout does not abort a migration or the wait for the lock', async (t) => {
    const { db: a, url } = await emptyDb(t, 'pg');
    const b = await createDb({ url, dataDir: '/nonexistent', statementTimeoutMs: 200 });
    t.teardown(() => b.close());
    const slow: Migration = { version: 999, name: 'slow', sql: 'SELECT pg_sleep(0.5)' };
    await Promise.all([a.ping(), b.ping()]);
    // Whichever instance wins the lock, b either runs the 0.5 s migration or waits ~0.5 s for it: both exceed 200 ms.
    const results = await Promise.allSettled([migrate(a, [...MIGRATIONS, slow]), migrate(b, [...MIGRATIONS, slow])]);
    t.same(results.map((r) => r.status === 'rejected' ? String((r.reason as Error).message) : r.status), ['fulfilled', 'fulfilled'], 'both instances migrate');
    t.same((await applied(a)).map((r) => r.version), [...VERSIONS, 999], 'each migration recorded once');
    await t.rejects(b.query('SELECT pg_sleep(0.5)'), /statement timeout/, 'the pool keeps its statement_timeout for everything else');
  });
}
