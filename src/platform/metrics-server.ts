// /metrics on its own listener (metrics.port): Prometheus scrapes a port the public proxy never routes,
// so the figures need no token and cannot leak through the public name. It follows the main app's
// life: it listens once the app listens and closes when the app closes.
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import metricsRoute from './metrics-route.ts';
import type { Metrics } from './metrics.ts';

export interface MetricsListener { port: number; host: string; token?: string }

export function attachMetricsServer(app: FastifyInstance, o: MetricsListener & { metrics: Metrics; log: Logger }) {
  const server = Fastify({ loggerInstance: o.log.child({ listener: 'metrics' }), disableRequestLogging: true, forceCloseConnections: true });
  void server.register(metricsRoute, { metrics: o.metrics, token: o.token });
  app.addHook('onListen', async () => {
    await server.listen({ host: o.host, port: o.port });
    o.log.info({ event: 'GW_METRICS_LISTENING', host: o.host, port: o.port }, 'metrics listening on their own port');
  });
  app.addHook('onClose', async () => { await server.close(); });
  return server;
}
