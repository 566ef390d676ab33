// Development convenience: without GATEHOUSE_SECRET, a random secret is generated once and kept in the
// data directory so restarts keep sessions and can decrypt keys. Production refuses this (validate.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './schema.ts';
import { ConfigError } from './load.ts';

/** The file a generated development secret lives in. */
export const devSecretFile = (config: Config) => join(config.dataDir, 'dev-secret');

/** The config with a master secret: the configured one, or (development only) one generated and kept in dataDir. */
export function withSecret(config: Config): { config: Config; generated: boolean } {
  if (config.secret) return { config, generated: false };
  // loadConfig already refuses this; the check stays here because this is where a secret would be invented.
  if (config.mode === 'production') throw new ConfigError(['/secret (GATEHOUSE_SECRET): is required in production']);
  const file = devSecretFile(config);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return { config: Object.freeze({ ...config, secret: readFileSync(file, 'utf8').trim() }), generated: true };
}
