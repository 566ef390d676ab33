// A migrated PGlite data directory, built once per set of migrations (cached under node_modules/.cache,
// like the test suite's template) and unpacked into each PGlite gateway's data directory, so a bench run
// does not spend a minute in initdb and migrations. The gateway then opens it as `npm start` would.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createDb } from '../../src/storage/db.ts';
import { listMigrations, migrate } from '../../src/storage/migrate.ts';
import { ROOT } from './proc.ts';

export async function pgliteTemplate(): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', 'gatehouse-bench');
  const key = createHash('sha256').update(listMigrations().map((m) => m.sql).join('\0')).digest('hex').slice(0, 16);
  const file = join(dir, `pglite-${key}.tar`);
  if (existsSync(file)) return file;
  const db = await createDb({ dataDir: ':memory:' });
  await migrate(db);
  const blob = await db.dump!();
  await db.close();
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
  renameSync(tmp, file);
  return file;
}

/** A data directory for the gateway (`dataDir`), with PGlite's files under dataDir/pglite as createDb expects. */
export function unpackInto(template: string, dataDir: string): void {
  const target = join(dataDir, 'pglite');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xf', template, '-C', target], { stdio: 'ignore' });
}
