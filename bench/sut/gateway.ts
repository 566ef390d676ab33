// Bench-only entry for the gateway under test: what src/main.ts does (config → services → buildApp →
// listen), plus an optional HTTPS listener with the same handler Fastify itself would use for `https`
// options (fastify/lib/server.js: https.createServer(opts, httpHandler)), a counter of database
// statements, and a control channel (IPC) for seeding users and sessions and reading memory.
// Started pinned to one CPU by bench/run.ts; never part of the product.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { lowerPoolPriority } from '../../src/platform/pool-priority.ts';
import { createDb, type Db, type Queryable } from '../../src/storage/db.ts';
import { tableOf, writesOf } from '../../src/storage/one-statement.ts';
import { alongTablesOf } from '../../src/storage/along.ts';
import { createServices } from '../../src/services.ts';
import { buildApp } from '../../src/app.ts';
import { createOidcAdapter } from '../../src/storage/oidc-adapter.ts';
import { serveRpc, emit } from '../lib/proc.ts';
import { profilerRpc } from '../lib/profile.ts';
import { totpSecret, username as userName } from '../lib/fixtures.ts';

export interface GatewaySpec {
  name: string; configFile: string; db: 'pg' | 'pglite'; databaseUrl?: string; port: number;
  /** PGlite: its files go here (the product's default: a data directory on disk). */
  dataDir?: string;
  tls?: { port: number; keyFile: string; certFile: string };
}

const spec = JSON.parse(process.argv[2]!) as GatewaySpec;

/** writesEffective: autocommit writes that changed a row (only those write WAL and wait for its flush). */
interface Counters { reads: number; writes: number; writesEffective: number; transactions: number; writeTransactions: number; statements: Record<string, number> }
const counters: Counters = { reads: 0, writes: 0, writesEffective: 0, transactions: 0, writeTransactions: 0, statements: {} };

const verb = (sql: string) => {
  const v = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
  // A data-modifying CTE (the flush's consume: WITH c AS (UPDATE …) SELECT …) counts as its write.
  return v === 'WITH' ? (/\b(UPDATE|INSERT|DELETE)\b/i.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT') : v;
};
const isWrite = (v: string) => v === 'INSERT' || v === 'UPDATE' || v === 'DELETE' || v === 'UNIT';

/** The Db with every statement counted: autocommit writes and write transactions are durable commits. */
function counted(db: Db): Db {
  // A unit of work written as one statement (src/storage/one-statement.ts) is one autocommit write; its
  // writes are counted one by one in the statement counts. Classified once per statement text: the
  // counting runs inside the measured windows, and the texts are a fixed set.
  const seen = new Map<string, { verb: string; keys: string[] }>();
  const classify = (sql: string) => {
    const parts = writesOf(sql);
    if (parts) return { verb: 'UNIT', keys: parts.map((p) => `${verb(p)} ${tableOf(p)}`) };
    // Reads announced ahead and carried by this one (src/storage/along.ts) count as "(along)".
    return { verb: verb(sql), keys: [`${verb(sql)} ${tableOf(sql)}`, ...alongTablesOf(sql).map((t) => `SELECT ${t} (along)`)] };
  };
  const note = (sql: string) => {
    let c = seen.get(sql);
    if (!c) { c = classify(sql); if (seen.size < 1000) seen.set(sql, c); }
    for (const key of c.keys) counters.statements[key] = (counters.statements[key] ?? 0) + 1;
    return c.verb;
  };
  return {
    ...db,
    kind: db.kind,
    async query<R>(text: string, params?: unknown[]) {
      const v = note(text);
      if (!isWrite(v)) { counters.reads++; return db.query<R>(text, params); }
      counters.writes++;
      const r = await db.query<R>(text, params);
      if (r.rowCount > 0) counters.writesEffective++;
      return r;
    },
    transaction(fn, opts) {
      counters.transactions++;
      let wrote = false;
      return db.transaction((q) => fn({
        query(text, params) { const v = note(text); if (isWrite(v)) wrote = true; return q.query(text, params); },
      } as Queryable), opts).finally(() => { if (wrote) counters.writeTransactions++; });
    },
  };
}

const scheme = spec.tls ? 'https' : 'http';
const issuer = `${scheme}://127.0.0.1:${spec.tls?.port ?? spec.port}`;
const config = loadConfig({
  env: {}, file: spec.configFile,
  overrides: { server: { port: spec.port, issuer }, database: { url: spec.databaseUrl }, dataDir: spec.dataDir ?? ':memory:' },
});
const log = createLogger(config.log.level);
const rawDb = await createDb({
  url: config.database.url, dataDir: config.dataDir, poolMax: config.database.poolMax,
  connectionTimeoutMs: config.database.connectionTimeoutMs, statementTimeoutMs: config.database.statementTimeoutMs,
});
const db = counted(rawDb);
const services = await createServices(config, log, { db });
const app = await buildApp(services, { issuer });
await app.listen({ host: '127.0.0.1', port: spec.port });
// As src/main.ts does; BENCH_POOL_NICE (bench/run.ts) tries another nice value for the pool's threads (0: left as started).
await lowerPoolPriority(process.env.BENCH_POOL_NICE ? Number(process.env.BENCH_POOL_NICE) : undefined);
let tlsServer: https.Server | undefined;
if (spec.tls) {
  tlsServer = https.createServer({ key: readFileSync(spec.tls.keyFile), cert: readFileSync(spec.tls.certFile) }, app.routing);
  tlsServer.keepAliveTimeout = 72_000; // Fastify's default, as on app.server
  await new Promise<void>((r) => tlsServer!.listen(spec.tls!.port, '127.0.0.1', r));
}

const SessionAdapter = createOidcAdapter(db);
const sessionIds: string[] = [];

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) { const i = next++; await fn(i); }
  }));
}

serveRpc({
  /** Users with the bench password (hashed once with the configured argon2id parameters). */
  /** lastUsed: the factor of the user's previous login (a returning user; the MFA step starts from it). */
  async seedUsers(p: { prefix: string; count: number; password: string; totp?: boolean; recovery?: boolean; cheapHash?: boolean; lastUsed?: string }) {
    // cheapHash: argon2id m=1 MiB t=1 (verify ≈ 0.1 ms) — a login whose CPU is almost all non-hash work.
    // The stored hash carries its parameters, so the same gateway verifies both kinds.
    const hash = p.cheapHash
      ? await argon2Hash(p.password, { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 })
      : await services.passwords.hash(p.password);
    let created = 0;
    await pool(p.count, 8, async (i) => {
      const username = userName(p.prefix, i);
      let user = await services.users.findByUsername(username);
      if (!user) {
        user = await services.users.add({ username, name: `Bench User ${i}`, email: `${username}@bench.example`, emailVerified: true, groups: ['staff'] }, hash);
        created++;
      }
      if (p.totp) await services.mfa.totp.importConfirmed(user.id, totpSecret(username));
      if (p.recovery) await services.mfa.recovery.regenerate(user.id);
      if (p.lastUsed) await services.users.setPreferredFactor(user.id, p.lastUsed);
    });
    return { created };
  },
  counters(p: { reset?: boolean } = {}) {
    const out = structuredClone(counters);
    if (p.reset) Object.assign(counters, { reads: 0, writes: 0, writesEffective: 0, transactions: 0, writeTransactions: 0, statements: {} });
    return out;
  },
  memory(p: { gc?: boolean } = {}) {
    if (p.gc && typeof globalThis.gc === 'function') { globalThis.gc(); globalThis.gc(); }
    return process.memoryUsage();
  },
  /** Bytes of every relation (tables, indexes, TOAST) in the gateway's schema, and oidc_models rows per model. */
  async dbSize() {
    // Without the gateway's 5 s statement timeout: after the soak and 100,000 sessions, counting every row
    // on a busy host took longer once (the 23:03 run of 2026-12-07 lost its memory figures to it).
    const [total, tables, models] = await db.transaction(async (q) => {
      await q.query('SET LOCAL statement_timeout = 0');
      return [
        await q.query<{ bytes: string }>(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`),
        await q.query<{ name: string; bytes: string }>(`SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 2 DESC`),
        await q.query<{ model: string; n: string }>('SELECT model, count(*)::text AS n FROM oidc_models GROUP BY model'),
      ] as const;
    });
    return {
      bytes: Number(total.rows[0]!.bytes),
      tables: Object.fromEntries(tables.rows.map((r) => [r.name, Number(r.bytes)])),
      models: Object.fromEntries(models.rows.map((r) => [r.model, Number(r.n)])),
    };
  },
  /**
   * Sessions written through the oidc-provider adapter, shaped like the newest real one (a login must have
   * run first) so that their size is a real session's size.
   */
  async createSessions(p: { count: number }) {
    const row = (await db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM oidc_models WHERE model = 'Session' ORDER BY expires_at DESC NULLS LAST LIMIT 1`)).rows[0];
    const template = row?.payload ?? {};
    const adapter = new SessionAdapter('Session');
    const ttl = config.oidc.sessionTtlSeconds;
    await pool(p.count, 16, async () => {
      const jti = randomBytes(16).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      await adapter.upsert(jti, { ...template, jti, uid: randomBytes(16).toString('base64url'), iat: now, exp: now + ttl, kind: 'Session' }, ttl);
      sessionIds.push(jti);
    });
    return { count: sessionIds.length, templateFromLogin: Boolean(row) };
  },
  /** Every created session looked up through the provider (the path a request with a session cookie takes). */
  async touchSessions() {
    const provider = app.provider.current();
    let found = 0;
    await pool(sessionIds.length, 16, async (i) => {
      const s = await (provider as unknown as { Session: { find(id: string): Promise<unknown> } }).Session.find(sessionIds[i]!);
      if (s) found++;
    });
    return { found };
  },
  ...profilerRpc(),
  info() {
    return { issuer, pid: process.pid, node: process.version, dbKind: db.kind, clients: config.oidc.clients.length, argon2: config.passwords, logLevel: config.log.level };
  },
}, async () => {
  tlsServer?.close();
  await app.close();
  await rawDb.close();
});

emit({ event: 'ready', issuer, port: spec.port, tlsPort: spec.tls?.port });
