// Two gateway instances over one database, for tests of what must hold across instances.
import type { Test } from 'tap';
import { PG_URL, freshDb } from './db.ts';
import { TEST_SECRET, captureStream, deepMerge, freePort, startGateway, type Gateway } from './gateway.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createServices } from '../../src/services.ts';
import { buildApp } from '../../src/app.ts';

/**
 * Two gateway instances over one database, B published under A's URL. With TEST_DATABASE_URL the database is
 * a fresh PostgreSQL schema reached through each instance's own pool; otherwise one in-memory PGlite that both
 * instances (each with its own services, provider and caches) use in this process: either way the database is
 * the only thing the two share.
 */
export async function twoInstances(t: Test, overrides: Record<string, unknown>): Promise<[Gateway, Gateway]> {
  if (PG_URL) {
    const shared = await freshDb('pg', PG_URL);
    await shared.db.close();
    t.teardown(() => shared.drop());
    const a = await startGateway(t, { databaseUrl: shared.url, overrides });
    return [a, await startGateway(t, { databaseUrl: shared.url, overrides, issuer: a.url })];
  }
  const shared = await freshDb('pglite');
  const start = async (issuer?: string): Promise<Gateway> => {
    const port = await freePort();
    const own = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      env: {},
      overrides: deepMerge({
        secret: TEST_SECRET, server: { host: '127.0.0.1', port, issuer: issuer ?? own },
        passwords: { memoryKiB: 1024, iterations: 1, parallelism: 1, minLength: 8 }, security: { progressiveDelayMs: 0 },
        dataDir: ':memory:',
      }, overrides),
    });
    const logs: string[] = [];
    const services = await createServices(config, createLogger('info', captureStream(logs)), { db: shared.db });
    const app = await buildApp(services, { issuer: issuer ?? own });
    await app.listen({ host: '127.0.0.1', port });
    return { url: issuer ?? own, app, services, config, logs, close: () => app.close() };
  };
  const a = await start();
  const b = await start(a.url);
  t.teardown(async () => { await a.close(); await b.close(); await shared.drop(); });
  return [a, b];
}

/** The port instance B really listens on (its `url` is A's public one). */
export const portOf = (gw: Gateway): string => String((gw.app.server.address() as { port: number }).port);
