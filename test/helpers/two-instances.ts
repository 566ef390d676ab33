// Two gateway instances over one database, for tests of what must hold across instances.
import type { Test } from 'tap';
import { PG_URL, freshDb } from './db.ts';
import { startGateway, type Gateway } from './gateway.ts';

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
  const a = await startGateway(t, { sharedDb: shared.db, overrides });
  const b = await startGateway(t, { sharedDb: shared.db, overrides, issuer: a.url });
  // Both instances close (close is idempotent) before the database they share.
  t.teardown(async () => { await a.close(); await b.close(); await shared.drop(); });
  return [a, b];
}

/** The port instance B really listens on (its `url` is A's public one). */
export const portOf = (gw: Gateway): string => String((gw.app.server.address() as { port: number }).port);
