// /metrics in Prometheus text format; optionally behind a bearer token (metrics.token).
import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { Metrics } from './metrics.ts';

export default async function metricsRoute(app: FastifyInstance, opts: { metrics: Metrics; token?: string }) {
  const expected = opts.token ? Buffer.from(`Bearer ${opts.token}`) : undefined;
  app.get('/metrics', async (req, reply) => {
    if (expected) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', code: 'GW_METRICS_TOKEN' });
      }
    }
    return reply.header('cache-control', 'no-store').type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
}
