// The bench database on the local PostgreSQL: created for the run and dropped after it. Each gateway gets
// its own schema and an application_name, so its backends (whose CPU is part of the system under test)
// can be found in pg_stat_activity.
import pg from 'pg';

export const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** One database per run (two runs at once must not drop each other's), dropped at the end. */
export const BENCH_DB = `gatehouse_bench_${process.pid}`;

export interface PgInfo { version: string; settings: Record<string, string> }

export class BenchPg {
  private admin: pg.Client;
  private constructor(admin: pg.Client) { this.admin = admin; }

  static async open(): Promise<BenchPg> {
    const admin = new pg.Client({ connectionString: ADMIN_URL, application_name: 'gatehouse-bench-admin' });
    await admin.connect();
    const b = new BenchPg(admin);
    await b.dropDatabase();
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    return b;
  }

  /** URL of the bench database with a schema of its own (created here) and an application_name. */
  async schemaUrl(name: string): Promise<string> {
    const u = new URL(ADMIN_URL);
    u.pathname = `/${BENCH_DB}`;
    const c = new pg.Client({ connectionString: u.href });
    await c.connect();
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${name}`);
    await c.end();
    u.searchParams.set('application_name', name);
    u.searchParams.set('options', `-c search_path=${name}`);
    return u.href;
  }

  async info(): Promise<PgInfo> {
    const version = (await this.admin.query('SHOW server_version')).rows[0].server_version as string;
    const names = ['synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections', 'full_page_writes', 'commit_delay', 'wal_level', 'autovacuum'];
    const r = await this.admin.query('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names]);
    const settings: Record<string, string> = {};
    for (const row of r.rows) settings[row.name] = row.unit && row.unit !== '8kB' ? `${row.setting} ${row.unit}` : row.unit === '8kB' ? `${Math.round(Number(row.setting) * 8 / 1024)} MB` : row.setting;
    return { version, settings };
  }

  /** Backend pids of one gateway (by application_name). */
  async backends(app: string): Promise<number[]> {
    const r = await this.admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, [BENCH_DB, app]);
    return r.rows.map((x) => x.pid as number);
  }

  /** Commit/rollback counters of the bench database and the cluster-wide WAL counters (PostgreSQL 14+). */
  async counters(): Promise<{ xactCommit: number; xactRollback: number; tupIns: number; tupUpd: number; tupDel: number; wal?: Record<string, number> }> {
    const d = (await this.admin.query(`SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1`, [BENCH_DB])).rows[0];
    let wal: Record<string, number> | undefined;
    try {
      const w = (await this.admin.query('SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal')).rows[0];
      wal = { records: Number(w.wal_records), bytes: Number(w.wal_bytes), writes: Number(w.wal_write), syncs: Number(w.wal_sync) };
    } catch { /* older PostgreSQL */ }
    return { xactCommit: Number(d.xact_commit), xactRollback: Number(d.xact_rollback), tupIns: Number(d.tup_inserted), tupUpd: Number(d.tup_updated), tupDel: Number(d.tup_deleted), wal };
  }

  /** pg_stat_database is updated by backends at transaction end, at most every PGSTAT_MIN_INTERVAL (1 s). */
  async settle(): Promise<void> { await new Promise((r) => setTimeout(r, 1100)); }

  /** Durable single-row commit latency on this disk (context for every write figure). */
  async commitLatency(n = 200): Promise<{ p50: number; p99: number }> {
    const u = new URL(ADMIN_URL); u.pathname = `/${BENCH_DB}`;
    const c = new pg.Client({ connectionString: u.href });
    await c.connect();
    await c.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (id int primary key, v int)');
    const t: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      await c.query('INSERT INTO bench_commit_probe VALUES ($1, 0) ON CONFLICT (id) DO UPDATE SET v = bench_commit_probe.v + 1', [i % 10]);
      t.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    await c.query('DROP TABLE bench_commit_probe');
    await c.end();
    t.sort((a, b) => a - b);
    return { p50: t[Math.floor(n / 2)]!, p99: t[Math.floor(n * 0.99)]! };
  }

  async dropDatabase(): Promise<void> {
    await this.admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [BENCH_DB]);
    await this.admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB}`);
  }

  async close(drop = true): Promise<void> {
    if (drop) await this.dropDatabase().catch(() => {});
    await this.admin.end().catch(() => {});
  }
}
