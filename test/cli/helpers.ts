// Runs the CLI in-process against a database of its own, reached the way an installation reaches it:
// DATABASE_URL of a fresh PostgreSQL schema (TEST_DATABASE_URL set), or a PGlite data directory on disk.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { createDb, type Db } from '../../src/storage/db.ts';
import { listMigrations, migrate } from '../../src/storage/migrate.ts';
import { createPasswords } from '../../src/users/passwords.ts';
import { runCli } from '../../src/cli/main.ts';
import type { CliInput } from '../../src/cli/io.ts';
import { freshDb, PG_URL } from '../helpers/db.ts';
import { TEST_SECRET } from '../helpers/gateway.ts';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The argon2 parameters the env below selects: cheap, so the suite stays fast. */
export const cheapPasswords = createPasswords({ memoryKiB: 1024, iterations: 1, parallelism: 1 });

export interface CliSetup {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Runs fn on a connection of the test's own (PGlite: only between CLI runs, it is one process at a time). */
  withDb<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/gatehouse/', import.meta.url));
const PGLITE_VERSION = JSON.parse(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')).version;

/**
 * A PGlite data directory (migrated or empty), built once per PGlite version and set of migrations and
 * copied by each test: a copy takes a fraction of a second, creating one takes seconds.
 */
async function cachedPgliteDir(migrated: boolean): Promise<string> {
  const key = createHash('sha256').update([PGLITE_VERSION, migrated, ...listMigrations().map((m) => m.sql)].join('\0')).digest('hex').slice(0, 16);
  const dir = `${CACHE_DIR}cli-pglite-${key}`;
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}`;
  const db = await createDb({ dataDir: tmp }); // db.ts keeps PGlite files under <dataDir>/pglite
  if (migrated) await migrate(db);
  await db.close();
  try {
    renameSync(join(tmp, 'pglite'), dir); // atomic: test files running in parallel may race to build it
  } catch (err) {
    if (!existsSync(dir)) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** A database and an environment for CLI runs; `migrated: false` leaves the database empty. */
export async function cliSetup(t: Test, opts: { migrated?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliSetup> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_PASSWORDS__MEMORY_KI_B: '1024', GATEHOUSE_PASSWORDS__ITERATIONS: '1', ...opts.env,
  };
  if (PG_URL) {
    const fresh = await freshDb('pg');
    t.teardown(() => fresh.drop());
    if (opts.migrated !== false) await migrate(fresh.db);
    return { env: { ...env, DATABASE_URL: fresh.url }, dataDir, withDb: (fn) => fn(fresh.db) };
  }
  cpSync(await cachedPgliteDir(opts.migrated !== false), join(dataDir, 'pglite'), { recursive: true });
  return {
    env, dataDir,
    async withDb(fn) {
      const db = await createDb({ dataDir });
      try { return await fn(db); } finally { await db.close(); }
    },
  };
}

export interface RunResult { code: number; stdout: string; stderr: string }

export interface RunOptions {
  /** Piped stdin text, or a stream (a fake terminal). */
  stdin?: string | CliInput;
  /** Sees every stderr write as it happens (a fake terminal answers prompts here). */
  onStderr?(text: string): void;
}

/** Runs `gatehouse ...argv` in this process and collects its output. */
export async function run(env: NodeJS.ProcessEnv, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const res = { code: -1, stdout: '', stderr: '' };
  const stdin = typeof opts.stdin === 'object' ? opts.stdin : Readable.from(opts.stdin === undefined ? [] : [opts.stdin]);
  res.code = await runCli(argv, {
    stdin, env,
    stdout: { write: (s: string) => { res.stdout += s; } },
    stderr: { write: (s: string) => { res.stderr += s; opts.onStderr?.(s); } },
  });
  return res;
}
