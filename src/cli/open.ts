// Configuration and services for a CLI run, loaded exactly like the server (src/main.ts) does, so the
// CLI sees the same database and the same master secret.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, ConfigError } from '../config/load.ts';
import { withSecret } from '../config/dev-secret.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../platform/logger.ts';
import { createServices } from '../services.ts';
import { isConnectionError } from '../storage/db.ts';
import { listMigrations, migrate } from '../storage/migrate.ts';
import type { Opened } from './command.ts';
import type { CliIo } from './io.ts';
import { failure, usageError } from './errors.ts';

export const CONFIG_HINT = 'See docs/configuration.md, or run `npx gatehouse config check`.';

/** Loads and validates the configuration (with the dev secret), or throws a CliError with exit code 2. */
export function loadCliConfig(io: CliIo): { config: Config; generated: boolean } {
  try {
    return withSecret(loadConfig({ env: io.env }));
  } catch (err) {
    throw usageError(err instanceof ConfigError ? err.message : (err as Error).message, CONFIG_HINT);
  }
}

/**
 * PGlite is a single-process database: a second process opening the same files corrupts them. PGlite
 * keeps a `postmaster.pid` in its directory while open (db.ts puts it under <dataDir>/pglite) and
 * removes it on a clean close, so its presence means a gateway is running, or was killed.
 */
function refuseOpenEmbeddedDb(config: Config) {
  if (config.database.url) return;
  const pid = join(resolve(config.dataDir), 'pglite', 'postmaster.pid');
  if (!existsSync(pid)) return;
  throw failure(`the embedded database in ${resolve(config.dataDir)} is in use by another process (a running gateway?)`,
    'The embedded database (no DATABASE_URL) allows one process at a time: stop the gateway, run the command, start it again.\n' +
    `If no gateway is running (it was killed), start and stop it once, or remove ${pid}.`);
}

/** Opens the services for a command: config, database, pending migrations applied. */
export async function openServices(io: CliIo): Promise<Opened> {
  const { config, generated } = loadCliConfig(io);
  const log = createLogger('warn', io.stderr as { write(msg: string): void });
  if (generated) log.warn({ code: 'GW_DEV_SECRET' }, `development secret generated in ${config.dataDir}; set GATEHOUSE_SECRET for production`);
  refuseOpenEmbeddedDb(config);
  let services;
  try {
    // Migrations run below, not in createServices, so the migrate command can report what it applied.
    services = await createServices(config, log, { migrate: false });
  } catch (err) {
    throw dbError(err);
  }
  try {
    const versions = await migrate(services.db);
    const applied = listMigrations().filter((m) => versions.includes(m.version));
    return { config, services, applied };
  } catch (err) {
    await services.db.close().catch(() => {});
    throw dbError(err);
  }
}

function dbError(err: unknown) {
  const message = (err as Error).message;
  if (isConnectionError(err)) {
    return failure(`cannot reach the database: ${message}`,
      'Is PostgreSQL running at DATABASE_URL? Unset DATABASE_URL to use the embedded database.');
  }
  return failure(`cannot open the database: ${message}`);
}
