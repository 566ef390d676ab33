import t from 'tap';
import { listMigrations } from '../../src/storage/migrate.ts';
import { PG_URL } from '../helpers/db.ts';
import { cliSetup, run } from './helpers.ts';

t.test('migrate applies every migration to an empty database, then finds it up to date', async (t) => {
  const { env, withDb } = await cliSetup(t, { migrated: false });
  const all = listMigrations();
  const label = (m: { version: number; name: string }) => `${String(m.version).padStart(3, '0')}_${m.name}`;
  const kind = PG_URL ? 'PostgreSQL' : 'embedded PGlite';

  const first = await run(env, ['migrate']);
  t.same(first, {
    code: 0, stderr: '',
    stdout: `Applied ${all.length} migration${all.length === 1 ? '' : 's'} (${kind}):\n${all.map((m) => `  ${label(m)}\n`).join('')}`,
  });
  const second = await run(env, ['migrate']);
  t.same(second, { code: 0, stderr: '', stdout: `Database is up to date (${kind}, latest migration ${label(all.at(-1)!)}).\n` });
  const versions = await withDb(async (db) => (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows);
  t.same(versions.map((r) => r.version), all.map((m) => m.version), 'each migration recorded once');
});
