// Environment variable names for config paths, both ways. Two spellings exist: the short names of the public
// contract (DESIGN.md) and GATEHOUSE_<SECTION>__<KEY> for every setting, derived mechanically from the path.
import { ConfigSchema } from './schema.ts';

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

export const ENV_PREFIX = 'GATEHOUSE_';
/** GATEHOUSE_ variables that are not settings (read before the config exists). */
export const RESERVED_ENV = new Set(['GATEHOUSE_CONFIG']);

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
// A word break before each capitalised word: allowHttpIssuer → ALLOW_HTTP_ISSUER, memoryKiB → MEMORY_KIB.
const snake = (s: string) => s.replace(/([a-z0-9])(?=[A-Z][a-z])/g, '$1_').toUpperCase();
const squash = (s: string) => s.replace(/_/g, '').toLowerCase();

type Node = { type?: string; properties?: Record<string, Node> };

/** Resolves one SNAKE_CASE segment against the keys of a section, ignoring case and underscores. */
function keyFor(node: Node | undefined, segment: string): string {
  const keys = node?.type === 'object' ? Object.keys(node.properties ?? {}) : [];
  return keys.find((k) => squash(k) === squash(segment)) ?? camel(segment);
}

/** The GATEHOUSE_<SECTION>__<KEY> name of a path: ['server', 'allowHttpIssuer'] → GATEHOUSE_SERVER__ALLOW_HTTP_ISSUER. */
export function longEnvName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(snake).join('__');
}

/** Every variable that sets this path, the short alias first. */
export function envNamesFor(path: readonly string[]): string[] {
  const key = path.join('.');
  const aliases = Object.keys(ENV_ALIASES).filter((n) => ENV_ALIASES[n]!.join('.') === key);
  return [...new Set([...aliases, longEnvName(path)])];
}

/** Maps a variable name to the path it would set, or undefined when the name is not a config variable. */
export function envPath(name: string): string[] | undefined {
  if (ENV_ALIASES[name]) return ENV_ALIASES[name];
  if (!name.startsWith(ENV_PREFIX) || RESERVED_ENV.has(name)) return undefined;
  let node: Node | undefined = ConfigSchema as Node;
  return name.slice(ENV_PREFIX.length).split('__').map((segment) => {
    const key = keyFor(node, segment);
    node = node?.properties && Object.hasOwn(node.properties, key) ? node.properties[key] : undefined;
    return key;
  });
}
