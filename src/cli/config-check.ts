// `gatehouse config check`: validates a configuration exactly as start-up does (production rules included)
// without opening the database or listening, so a deployment can be checked before it is rolled out.
import { existsSync } from 'node:fs';
import { loadConfig, ConfigError } from '../config/load.ts';
import { devSecretFile } from '../config/dev-secret.ts';
import type { Config } from '../config/schema.ts';

/** Where the command writes; process.stdout and process.stderr fit. */
export interface Output { write(text: string): unknown }

/** A short summary that is safe to paste anywhere: no secret and no database URL, only facts about them. */
export function summarize(config: Config, file: string | undefined): string[] {
  // Same fallback as resolveIssuer in src/app.ts, repeated to keep this command free of the HTTP stack.
  const issuer = config.server.issuer
    ? config.server.issuer.replace(/\/$/, '')
    : `http://localhost:${config.server.port} (development default; set ISSUER for production)`;
  const clients = config.oidc.clients;
  return [
    `  mode:      ${config.mode}`,
    `  file:      ${file ?? '(none: defaults and environment only)'}`,
    `  issuer:    ${issuer}`,
    `  database:  ${config.database.url ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`}`,
    `  secret:    ${config.secret ? 'set' : `not set; development uses ${devSecretFile(config)}${existsSync(devSecretFile(config)) ? '' : ' (created on first start)'}`}`,
    `  clients:   ${clients.length}${clients.length ? ` (${clients.map((c) => c.clientId).join(', ')})` : ''}`,
    `  MFA:       ${config.mfa.factors.join(', ')}`,
  ];
}

/** Runs the check; returns the process exit code: 0 when valid, 2 when the configuration has problems. */
export function configCheck(env: NodeJS.ProcessEnv, out: Output, err: Output): number {
  const file = env.GATEHOUSE_CONFIG || undefined;
  try {
    const config = loadConfig({ env });
    out.write(['Configuration OK', ...summarize(config, file), ''].join('\n'));
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`${e.message}\nSee docs/configuration.md for every setting and its environment variables.\n`);
    return 2;
  }
}
