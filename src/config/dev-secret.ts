// Development convenience: without GATEHOUSE_SECRET, a random secret is generated once and kept in the
// data directory so restarts keep sessions and can decrypt keys. Production refuses this (validate.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './schema.ts';

export function withSecret(config: Config): { config: Config; generated: boolean } {
  if (config.secret) return { config, generated: false };
  if (config.mode === 'production') throw new Error('GATEHOUSE_SECRET is required in production');
  const file = join(config.dataDir, 'dev-secret');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return { config: Object.freeze({ ...config, secret: readFileSync(file, 'utf8').trim() }), generated: true };
}
