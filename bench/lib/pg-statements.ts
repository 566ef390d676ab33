// What one adapter statement costs PostgreSQL: the gateway's own adapter (src/storage/oidc-adapter.ts) run
// against a fresh schema through a stand-in Db that sends each statement either as pg does today (unnamed:
// parsed and planned every time) or as a named prepared statement (parsed once per connection). The backend
// is pinned to the SUT's CPU and its CPU-seconds are read from /proc. synchronous_commit is off for this
// connection only. When PostgreSQL runs on this host, the named statements run once more over its Unix
// socket: the difference is what the loopback TCP messages cost the backend (the gateway uses TCP).
import pg from 'pg';
import { existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createDb, type Db } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createOidcAdapter } from '../../src/storage/oidc-adapter.ts';
import { cpuSeconds, pin } from './cpu.ts';

export interface StatementCost { ops: number; pgUsPerOp: number; clientUsPerOp: number; wallUsPerOp: number }

function clientDb(c: pg.Client, named: boolean): Db {
  const query = async <R>(text: string, params?: unknown[]) => {
    const r = named
      ? await c.query({ name: `s${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text, values: params as unknown[] })
      : await c.query(text, params as unknown[]);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  };
  return { kind: 'pg', query, transaction: () => { throw new Error('unused'); }, exec: async () => {}, isUnavailable: () => false, ping: async () => {}, poolStats: () => ({ total: 1, idle: 1, waiting: 0 }), close: async () => {} } as Db;
}

const SOCKET_DIR = '/var/run/postgresql';
/** The same database over PostgreSQL's Unix socket, when it is local and has one. */
function socketUrl(url: string): string | undefined {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(u.hostname) || !existsSync(`${SOCKET_DIR}/.s.PGSQL.${u.port || 5432}`)) return undefined;
  return url.replace(`@${u.host}/`, `@${encodeURIComponent(SOCKET_DIR)}:${u.port || 5432}/`);
}

export async function statementCosts(url: string, cpu: number, durationMs: number): Promise<Record<string, StatementCost>> {
  const setup = await createDb({ url, dataDir: '/nonexistent', poolMax: 1 });
  await migrate(setup);
  await setup.close();
  const out: Record<string, StatementCost> = {};
  const payload = { accountId: '0b4a6e4c-6f1c-4c1e-9d1e-3f1e2d3c4b5a', loginTs: 1_700_000_000, amr: ['pwd'], acr: 'urn:gatehouse:pwd', authorizations: { 'bench-web': { sid: randomBytes(16).toString('base64url'), grantId: randomBytes(16).toString('base64url'), persistsLogout: true } }, kind: 'Session' };
  const socket = socketUrl(url);
  const ways = [{ named: false, url, label: 'unnamed' }, { named: true, url, label: 'named' }, ...(socket ? [{ named: true, url: socket, label: 'named, Unix socket' }] : [])];
  for (const { named, url, label } of ways) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    // Not waiting for the WAL flush: this measures what the statement itself costs (parse, plan, execute),
    // which is what naming it changes, and gets enough operations in on a disk that syncs slowly.
    await c.query('SET synchronous_commit = off');
    pin(pid, cpu);
    const Adapter = createOidcAdapter(clientDb(c, named));
    const a = new Adapter('Session');
    const ids: string[] = [];
    for (const op of ['upsert', 'find'] as const) {
      const run = async (ms: number) => {
        const end = performance.now() + ms;
        let n = 0;
        while (performance.now() < end) {
          if (op === 'upsert') { const id = randomBytes(16).toString('base64url'); ids.push(id); await a.upsert(id, { ...payload, jti: id, uid: id }, 3600); }
          else await a.find(ids[n % ids.length]!);
          n++;
        }
        return n;
      };
      await run(Math.min(300, durationMs / 3));
      const p0 = cpuSeconds(pid)!; const c0 = process.cpuUsage(); const t0 = performance.now();
      const n = await run(durationMs);
      const c1 = process.cpuUsage(c0);
      out[`${op} ${label}`] = {
        ops: n, pgUsPerOp: ((cpuSeconds(pid)! - p0) * 1e6) / n, clientUsPerOp: (c1.user + c1.system) / n, wallUsPerOp: ((performance.now() - t0) * 1000) / n,
      };
    }
    await c.end();
  }
  return out;
}
