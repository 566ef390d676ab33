// One database interface over a pg Pool (DATABASE_URL) or embedded PGlite (files under the data directory).
// Modules receive a Db and never know which one it is; the same SQL runs on both.
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface QueryResult<R> { rows: R[]; rowCount: number }
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}
export interface TransactionOptions {
  /**
   * One round trip: BEGIN, fn's statements and COMMIT leave together. fn must issue every statement before
   * its first await (a later one is refused) and must reject only because a statement failed — a failed
   * statement aborts the transaction on the server, so the COMMIT behind it rolls everything back.
   */
  oneRoundTrip?: boolean;
}

export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** Runs fn on one connection inside BEGIN/COMMIT (ROLLBACK on throw). */
  transaction<T>(fn: (q: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Multi-statement SQL without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** True when the last connection-level failure is recent: requests should get 503. */
  isUnavailable(): boolean;
  ping(): Promise<void>;
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball. */
  dump?(): Promise<Blob>;
}

export interface DbOptions {
  url?: string; dataDir: string; poolMax?: number;
  /** PGlite only: start from a dumped data directory (tests use a migrated template: 1 s instead of 6 s). */
  pgliteTemplate?: Blob;
  connectionTimeoutMs?: number; statementTimeoutMs?: number;
}

/** Errors that mean "the database is not there", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300'].includes(e.code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(e.message ?? '');
}

/** Marks recent connection failures so the HTTP layer can answer 503 instead of 500. */
function createOutageTracker() {
  let lastFailure = 0;
  return {
    observe(err: unknown) { if (isConnectionError(err)) lastFailure = Date.now(); },
    ok() { lastFailure = 0; },
    isUnavailable: () => lastFailure !== 0 && Date.now() - lastFailure < 5000,
  };
}

export async function createDb(opts: DbOptions): Promise<Db> {
  return opts.url ? createPgDb(opts) : createPgliteDb(opts);
}

function createPgDb(opts: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 2000,
    statement_timeout: opts.statementTimeoutMs ?? 5000,
    idleTimeoutMillis: 30000,
    // Queries issued on one client without waiting for each other go out together (each with its own Sync,
    // so each still succeeds or fails on its own): a unit of work's flush sends its statements in one round
    // trip (storage/unit-of-work.ts). A client used one query at a time behaves exactly as before.
    pipeline: true,
  } as pg.PoolConfig);
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  const outage = createOutageTracker();
  // Parameterised statements go out as named prepared statements: PostgreSQL parses and plans each once per
  // connection instead of on every call (bench: about a third less PostgreSQL CPU per adapter statement).
  // Gatehouse's statement texts are a fixed set (with the few combinations storage/one-statement.ts makes of
  // them, one per kind of request); the cap only guards against a caller building texts.
  const names = new Map<string, string>();
  const prepared = (text: string, params?: unknown[]): pg.Query => {
    // A Query built from the text (not from a config object): pg copies a config object property by
    // property descriptor on every call (utils.js cloneQueryConfig, ≈ 2 µs each, 2 % of a login's
    // main-thread CPU in a profile), and a Query instance is taken as it is.
    // https://github.com/brianc/node-postgres/blob/master/packages/pg/lib/utils.js (normalizeQueryConfig)
    const q = new pg.Query(text, params);
    if (!params?.length) return q;
    let name = names.get(text);
    if (name === undefined && names.size < 500) { name = `gh${names.size}`; names.set(text, name); }
    if (name !== undefined) (q as pg.Query & { name?: string }).name = name;
    return q;
  };
  // A Query instance passed to query() is answered through its callback only (no promise of pg's own).
  const send = (on: pg.Pool | pg.PoolClient, q: pg.Query) => new Promise<pg.QueryResult>((resolve, reject) => {
    (on.query as unknown as (q: pg.Query, cb: (err: Error | undefined, r: pg.QueryResult) => void) => void).call(on, q, (err, r) => (err ? reject(err) : resolve(r)));
  });
  const track = async <T>(p: Promise<T>): Promise<T> => {
    try { const r = await p; outage.ok(); return r; } catch (err) { outage.observe(err); throw err; }
  };
  return {
    kind: 'pg',
    async query<R>(text: string, params?: unknown[]) {
      const r = await track(send(pool, prepared(text, params)));
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async transaction<T>(fn: (q: Queryable) => Promise<T>, opts: TransactionOptions = {}) {
      const client = await track(pool.connect());
      let broken = false;
      // A checked-out client has no pool listener: a connection lost mid-transaction would emit an unheard
      // 'error' and crash the process. The pending query fails too, so marking the client is enough here.
      const lost = (err: Error) => { broken = true; outage.observe(err); };
      client.on('error', lost);
      let sealed = false; // oneRoundTrip: the COMMIT has been sent
      const q: Queryable = {
        async query<R>(text: string, params?: unknown[]) {
          if (sealed) throw new Error('GW_ERR_TX_ONE_ROUND_TRIP: a statement after the COMMIT was sent');
          const r = await send(client, prepared(text, params));
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
      };
      try {
        if (opts.oneRoundTrip) return await oneRoundTrip(client, () => fn(q), () => { sealed = true; });
        await client.query('BEGIN');
        const out = await fn(q);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        outage.observe(err);
        broken = isConnectionError(err);
        await client.query('ROLLBACK').catch(() => { broken = true; });
        throw err;
      } finally {
        client.removeListener('error', lost);
        client.release(broken);
      }
    },
    async exec(sql: string) { await track(pool.query(sql)); },
    isUnavailable: outage.isUnavailable,
    async ping() { await track(pool.query('select 1')); },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}

/**
 * BEGIN, fn's statements and COMMIT in one write (the pool runs in pipeline mode, and the socket is corked
 * until all are queued): one round trip and one wake-up of the backend instead of three. If a statement
 * fails, the transaction is aborted on the server, the statements after it fail (25P02) and the COMMIT
 * answers ROLLBACK: nothing is written, and the first failure is what fn rejects with.
 */
async function oneRoundTrip<T>(client: pg.PoolClient, run: () => Promise<T>, seal: () => void): Promise<T> {
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  stream?.cork?.();
  let begin: Promise<pg.QueryResult>; let out: Promise<T>; let commit: Promise<pg.QueryResult>;
  try {
    begin = client.query('BEGIN');
    out = run();
    seal();
    commit = client.query('COMMIT');
  } finally {
    stream?.uncork?.();
  }
  const [b, o, c] = await Promise.allSettled([begin, out, commit]);
  if (b.status === 'rejected') throw b.reason;
  if (o.status === 'rejected') throw o.reason;
  if (c.status === 'rejected') throw c.reason;
  // fn resolved although a statement failed (it caught the error itself): the COMMIT rolled back.
  if (c.value.command !== 'COMMIT') throw new Error('GW_ERR_TX_ROLLED_BACK: a statement of the transaction failed');
  return o.value;
}

async function createPgliteDb(opts: DbOptions): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = opts.dataDir === ':memory:' ? undefined : join(opts.dataDir, 'pglite');
  if (dir) mkdirSync(dir, { recursive: true });
  const lite = dir ? new PGlite(dir) : new PGlite(opts.pgliteTemplate ? { loadDataDir: opts.pgliteTemplate } : {});
  await lite.waitReady;
  // PGlite is one connection: a transaction must not interleave with other queries, so queue them.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => {});
    return next;
  };
  const run = async <R>(text: string, params?: unknown[]): Promise<QueryResult<R>> => {
    // Without parameters use the simple protocol, like pg does, so multi-statement SQL works on both.
    const r = params?.length ? await lite.query<R>(text, params) : (await lite.exec(text)).at(-1) as { rows: R[]; affectedRows?: number } | undefined;
    if (!r) return { rows: [], rowCount: 0 };
    return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
  };
  let closed = false;
  return {
    kind: 'pglite',
    query: <R>(text: string, params?: unknown[]) => serial(() => run<R>(text, params)),
    transaction: <T>(fn: (q: Queryable) => Promise<T>) => serial(async () => {
      await lite.exec('BEGIN');
      try {
        const out = await fn({ query: run });
        await lite.exec('COMMIT');
        return out;
      } catch (err) {
        await lite.exec('ROLLBACK');
        throw err;
      }
    }),
    exec: (sql: string) => serial(async () => { await lite.exec(sql); }),
    isUnavailable: () => closed,
    ping: () => serial(async () => { await lite.query('select 1'); }),
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    dump: () => serial(async () => lite.dumpDataDir('none') as Promise<Blob>),
    async close() { closed = true; await chain; await lite.close(); },
  };
}
