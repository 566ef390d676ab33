// Process concerns only: configuration, listen, the start-up banner, graceful shutdown.
import { loadConfig, ConfigError } from './config/load.ts';
import { withSecret } from './config/dev-secret.ts';
import { createLogger } from './platform/logger.ts';
import { createServices } from './services.ts';
import { buildApp, closeGracefully, resolveIssuer } from './app.ts';
import { banner } from './platform/banner.ts';
import { lowerPoolPriority } from './platform/pool-priority.ts';

async function main() {
  let loaded;
  try { loaded = withSecret(loadConfig()); } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.stderr.write('See docs/configuration.md, or run `npx gatehouse config check`.\n');
    process.exit(2);
  }
  const { config, generated } = loaded;
  const log = createLogger(config.log.level);
  if (generated) log.warn({ event: 'GW_DEV_SECRET' }, `development secret generated in ${config.dataDir}; set GATEHOUSE_SECRET for production`);
  if (config.mode === 'development' && config.mfa.duo.failMode === 'open') log.warn('mfa.duo.failMode is open: users pass without Duo when it is unreachable');

  const services = await createServices(config, log);
  const issuer = resolveIssuer(config);
  const app = await buildApp(services, { issuer });
  await app.listen({ host: config.server.host, port: config.server.port });
  // Password hashes on libuv's pool yield the CPU to the event loop (platform/pool-priority.ts).
  log.debug({ threads: await lowerPoolPriority() }, 'thread pool priority lowered');
  process.stdout.write(banner(config, issuer, services.db.kind, (await services.users.list()).length));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: readiness off, finishing in-flight requests');
    const deadline = setTimeout(() => { log.error('shutdown deadline passed; exiting'); process.exit(1); }, config.server.shutdownGraceMs);
    deadline.unref();
    await closeGracefully(app);
    await services.db.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Gatehouse could not start: ${(err as Error).message}\n`);
  if ((err as { code?: string }).code === 'ECONNREFUSED') process.stderr.write('Is PostgreSQL running at DATABASE_URL? Unset DATABASE_URL to use the embedded database.\n');
  process.exit(1);
});
