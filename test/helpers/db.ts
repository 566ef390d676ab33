// Test databases: PostgreSQL when TEST_DATABASE_URL is set (a fresh schema per call), else in-memory PGlite.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDb, type Db } from '../../src/storage/db.ts';
import { listMigrations, migrate } from '../../src/storage/migrate.ts';

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/gatehouse/', import.meta.url));

/**
 * A migrated PGlite data directory as a tarball file, built once per set of migrations and reused by every
 * test file (and by bench/, which unpacks it into a gateway's data directory).
 */
export async function pgliteTemplateFile(): Promise<string> {
  const key = createHash('sha256').update(listMigrations().map((m) => m.sql).join('\0')).digest('hex').slice(0, 16);
  const file = `${CACHE_DIR}pglite-${key}.tar`;
  if (!existsSync(file)) {
    const db = await createDb({ dataDir: ':memory:' });
    await migrate(db);
    const blob = await db.dump!();
    await db.close();
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
    renameSync(tmp, file); // atomic: parallel test processes may race to build it
  }
  return file;
}

const pgliteTemplate = async (): Promise<Blob> => new Blob([readFileSync(await pgliteTemplateFile())]);

export const PG_URL = process.env.TEST_DATABASE_URL || undefined;
export type DbKind = 'pg' | 'pglite';
export const defaultKind: DbKind = PG_URL ? 'pg' : 'pglite';

/** A fresh, empty database. Returns the Db and, for PostgreSQL, the URL pinned to its schema. */
export async function freshDb(kind: DbKind = defaultKind, url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'):
  Promise<{ db: Db; url?: string; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const db = await createDb({ dataDir: ':memory:', pgliteTemplate: await pgliteTemplate() });
    return { db, drop: () => db.close() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const sep = url.includes('?') ? '&' : '?';
  const pinned = `${url}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const db = await createDb({ url: pinned, dataDir: '/nonexistent', poolMax: 25 });
  return {
    db, url: pinned,
    async drop() {
      await db.close().catch(() => {});
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Whether PostgreSQL at the default test URL answers (the adapter contract runs on both when it does). */
export async function pgAvailable(url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try { await c.connect(); await c.end(); return true; } catch { return false; }
}

/**
 * Gate for tests that only PostgreSQL can run: false (with a comment saying why) when it is not reachable,
 * but an error when TEST_DATABASE_URL names it, so CI never skips them silently.
 */
export async function requirePostgres(t: { comment(...args: unknown[]): void }, why: string, url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'): Promise<boolean> {
  if (await pgAvailable(url)) return true;
  if (PG_URL) throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer at ${url}`);
  t.comment(`PostgreSQL not reachable: ${why}`);
  return false;
}

/** PGlite always, PostgreSQL too when it answers (an error when TEST_DATABASE_URL names it and it does not). */
export async function bothKinds(): Promise<DbKind[]> {
  if (await pgAvailable()) return ['pglite', 'pg'];
  if (PG_URL) throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer at ${PG_URL}`);
  return ['pglite'];
}

/** A fresh database of that kind holding one table made by `ddl`, dropped when the test ends. */
export async function withTable(t: { teardown(fn: () => unknown): void }, kind: DbKind, ddl: string) {
  const { db, drop } = await freshDb(kind);
  t.teardown(drop);
  await db.exec(ddl);
  return db;
}
