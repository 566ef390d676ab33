// Environment overlay: short names from the public contract, plus GATEHOUSE_<SECTION>__<KEY> for every key.
// Any of them may be given as <NAME>_FILE instead, holding the value in a file (Docker/Kubernetes secrets).
import { readFileSync } from 'node:fs';

/** Short variable names (DESIGN.md public contract) → config path. */
export const ENV_ALIASES: Record<string, string[]> = {
  PORT: ['server', 'port'],
  HOST: ['server', 'host'],
  ISSUER: ['server', 'issuer'],
  DATABASE_URL: ['database', 'url'],
  GATEHOUSE_DATA_DIR: ['dataDir'],
  GATEHOUSE_SECRET: ['secret'],
  GATEHOUSE_MODE: ['mode'],
  LOG_LEVEL: ['log', 'level'],
  DUO_CLIENT_ID: ['mfa', 'duo', 'clientId'],
  DUO_CLIENT_SECRET: ['mfa', 'duo', 'clientSecret'],
  DUO_API_HOST: ['mfa', 'duo', 'apiHost'],
};
const PREFIX = 'GATEHOUSE_';
const RESERVED = new Set(['GATEHOUSE_CONFIG']);

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Maps a variable name to its config path, or undefined when it is not a config variable. */
export function envPath(name: string): string[] | undefined {
  if (ENV_ALIASES[name]) return ENV_ALIASES[name];
  if (!name.startsWith(PREFIX) || RESERVED.has(name)) return undefined;
  return name.slice(PREFIX.length).split('__').map(camel);
}

export interface EnvEntry { name: string; path: string[]; value: string }

/** Reads the config-relevant variables; `_FILE` variants are read from disk (errors collected). */
export function readEnv(env: NodeJS.ProcessEnv, errors: string[]): EnvEntry[] {
  const plain: EnvEntry[] = [];
  const files: EnvEntry[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name.endsWith('_FILE')) {
      const base = name.slice(0, -'_FILE'.length);
      const path = envPath(base);
      if (!path) continue;
      try {
        files.push({ name, path, value: readFileSync(value, 'utf8').replace(/\r?\n$/, '') });
      } catch (err) {
        errors.push(`${name}: cannot read file ${value} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      continue;
    }
    const path = envPath(name);
    if (path) plain.push({ name, path, value });
  }
  // *_FILE wins over the plain variable: secrets mounted as files are the production way.
  return [...plain, ...files];
}
