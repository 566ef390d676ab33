// /healthz: the process is alive (no dependencies). /readyz: the database answers, migrations are applied
// and the instance is not draining; otherwise 503 naming the failing check.
import type { FastifyInstance } from 'fastify';
import type { Db } from '../storage/db.ts';
import { migrationsApplied } from '../storage/migrate.ts';

export default async function health(app: FastifyInstance, opts: { db: Db; isDraining: () => boolean }) {
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    if (opts.isDraining()) return reply.code(503).send({ status: 'unavailable', failed: 'shutdown' });
    try {
      await withTimeout(opts.db.ping(), 2000);
    } catch {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', failed: 'database' });
    }
    if (!(await migrationsApplied(opts.db))) return reply.code(503).send({ status: 'unavailable', failed: 'migrations' });
    return { status: 'ready' };
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); })])
    .finally(() => clearTimeout(timer));
}
