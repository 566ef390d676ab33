// What a refresh's commit costs PostgreSQL and the gateway, written the two ways src/storage/unit-of-work.ts
// can write it: BEGIN, the consume, two upserts and COMMIT pipelined in one round trip (the transaction), or
// one statement of data-modifying CTEs (src/storage/one-statement.ts). The gateway's own Db (one pooled
// connection, named prepared statements), durable commits (synchronous_commit on), the backend pinned to the
// SUT's CPU; the two ways alternate in short blocks so that a noisy machine hits both alike.
import { randomBytes } from 'node:crypto';
import { createDb, type Queryable } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { asOneStatement } from '../../src/storage/one-statement.ts';
import { CONSUME_SQL, orFail } from '../../src/storage/unit-of-work.ts';
import { UPSERT } from '../../src/storage/oidc-adapter.ts';
import { cpuSeconds, pin } from './cpu.ts';

export interface FlushCost { ops: number; pgUsPerOp: number; clientUsPerOp: number; wallUsPerOp: number }

const ORFAIL = orFail(CONSUME_SQL);

export async function flushCosts(url: string, cpu: number, durationMs: number): Promise<Record<'transaction' | 'one statement', FlushCost>> {
  const db = await createDb({ url, dataDir: '/nonexistent', poolMax: 1 });
  await migrate(db);
  const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  pin(pid, cpu);
  const grantId = randomBytes(16).toString('base64url');
  const token = (model: string, id: string) => [model, id, JSON.stringify({ accountId: '0b4a6e4c-6f1c-4c1e-9d1e-3f1e2d3c4b5a', clientId: 'bench-web', grantId, scope: 'openid offline_access', jti: id, kind: model, gty: 'refresh_token', iat: 1_700_000_000, exp: 1_700_086_400 }), grantId, null, null, 3600];
  let live = randomBytes(16).toString('base64url');
  await db.query(UPSERT, token('RefreshToken', live));
  const once = async (mode: 'transaction' | 'one statement') => {
    const next = randomBytes(16).toString('base64url');
    const writes = [{ text: UPSERT, params: token('RefreshToken', next), distinctRows: true }, { text: UPSERT, params: token('AccessToken', randomBytes(16).toString('base64url')), distinctRows: true }];
    if (mode === 'one statement') {
      const s = asOneStatement(writes, [{ text: CONSUME_SQL, params: ['RefreshToken', live] }])!;
      await db.query(s.text, s.params);
    } else {
      await db.transaction(async (q: Queryable) => { await Promise.all([q.query(ORFAIL, ['RefreshToken', live]), ...writes.map((w) => q.query(w.text, w.params))]); }, { oneRoundTrip: true });
    }
    live = next;
  };
  const acc = { transaction: { n: 0, pg: 0, client: 0, wall: 0 }, 'one statement': { n: 0, pg: 0, client: 0, wall: 0 } };
  for (const mode of ['transaction', 'one statement'] as const) for (let i = 0; i < 200; i++) await once(mode); // warm-up
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    for (const mode of ['transaction', 'one statement'] as const) {
      const a = acc[mode];
      const p0 = cpuSeconds(pid)!; const c0 = process.cpuUsage(); const t0 = performance.now();
      for (let i = 0; i < 100; i++) await once(mode);
      const c1 = process.cpuUsage(c0);
      a.n += 100; a.pg += cpuSeconds(pid)! - p0; a.client += (c1.user + c1.system) / 1e6; a.wall += (performance.now() - t0) / 1000;
    }
  }
  await db.close();
  const cost = (a: typeof acc.transaction): FlushCost => ({ ops: a.n, pgUsPerOp: (a.pg * 1e6) / a.n, clientUsPerOp: (a.client * 1e6) / a.n, wallUsPerOp: (a.wall * 1e6) / a.n });
  return { transaction: cost(acc.transaction), 'one statement': cost(acc['one statement']) };
}
