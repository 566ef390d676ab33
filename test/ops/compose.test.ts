// The compose file is checked statically (no Docker engine here): every variable it gives the gateway is
// one the configuration knows, secrets come from files, and PostgreSQL has a volume and a health check.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envPath } from '../../src/config/env-names.ts';
import { schemaAt } from '../../src/config/coerce.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { ROOT } from '../helpers/process.ts';

type Service = { environment?: Record<string, string>; healthcheck?: unknown; volumes?: string[]; secrets?: string[]; depends_on?: unknown };
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: object; secrets?: Record<string, { file: string }> };

/** Variables of ours: the config names, their `_FILE` forms, and GATEHOUSE_CONFIG. */
function known(name: string): boolean {
  if (name === 'GATEHOUSE_CONFIG') return true;
  const setting = (n: string) => { const p = envPath(n); return !!p && !!schemaAt(ConfigSchema, p); };
  return setting(name) || (name.endsWith('_FILE') && setting(name.slice(0, -'_FILE'.length)));
}

t.test('every gateway variable is a known setting', async (t) => {
  const gw = compose.services.gateway!;
  const env = gw.environment ?? {};
  t.ok(Object.keys(env).length >= 4);
  for (const name of Object.keys(env)) t.ok(known(name), `${name} is a configuration variable`);
  // The commented Duo lines must be valid too, once uncommented.
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  for (const m of text.matchAll(/^\s*#\s*([A-Z][A-Z0-9_]+):/gm)) t.ok(known(m[1]!), `${m[1]} (commented) is a configuration variable`);
});

t.test('secrets are files; nothing secret is written inline', async (t) => {
  const env = compose.services.gateway!.environment ?? {};
  t.notOk('GATEHOUSE_SECRET' in env || 'DUO_CLIENT_SECRET' in env || 'DATABASE_URL' in env, 'no inline secret variables');
  t.equal(env.GATEHOUSE_SECRET_FILE, '/run/secrets/gatehouse_secret');
  for (const s of compose.services.gateway!.secrets ?? []) t.ok(compose.secrets?.[s]?.file, `secret ${s} comes from a file`);
});

t.test('PostgreSQL has a volume and a health check; the gateway waits for it and checks /readyz', async (t) => {
  const pg = compose.services.postgres!;
  t.ok(pg.healthcheck, 'postgres health check');
  t.ok(pg.volumes?.some((v) => v.startsWith('pgdata:')), 'data on a named volume');
  t.ok(compose.volumes && 'pgdata' in compose.volumes);
  t.match(JSON.stringify(compose.services.gateway!.healthcheck), /readyz/);
  t.match(JSON.stringify(compose.services.gateway!.depends_on), /service_healthy/);
});

t.test('the compose environment loads as a production configuration', async (t) => {
  const env: Record<string, string> = { NODE_ENV: 'production' };
  for (const [k, v] of Object.entries(compose.services.gateway!.environment ?? {})) {
    if (k.endsWith('_FILE') || k === 'GATEHOUSE_CONFIG') continue; // files exist only in the container
    env[k] = String(v);
  }
  env.GATEHOUSE_SECRET = 'x'.repeat(48);
  const config = loadConfig({ env });
  t.equal(config.mode, 'production');
  t.equal(config.server.trustProxy, true);
  t.equal(config.server.issuer, 'https://sso.example.com');
});
