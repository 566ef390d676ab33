// Applies migrations/NNN_name.sql in order, forward-only, inside one transaction that holds an advisory
// lock: a second instance starting at the same moment waits, then finds nothing left to do.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 7_414_243_101; // arbitrary, constant: "gatehouse migrations"

export interface Migration { version: number; name: string; sql: string }

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.slice(4, -4), sql: readFileSync(dir + f, 'utf8') }));
}

/** Applies pending migrations; returns the versions applied by this call. */
export async function migrate(db: Db, migrations = listMigrations()): Promise<number[]> {
  return db.transaction(async (q) => {
    // The pool's statement_timeout (5 s by default) is for requests: waiting behind another instance's migration
    // and slow DDL on big tables must not abort a start. Scoped to this transaction only.
    await q.query('SET LOCAL statement_timeout = 0');
    await q.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await q.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await q.query(m.sql);
      await q.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** Readiness: true when every migration this build knows is applied. */
export async function migrationsApplied(db: Db, migrations = listMigrations()): Promise<boolean> {
  try {
    const r = await db.query<{ n: string }>('SELECT max(version)::text AS n FROM schema_migrations');
    return Number(r.rows[0]?.n ?? 0) >= Math.max(0, ...migrations.map((m) => m.version));
  } catch { return false; }
}
