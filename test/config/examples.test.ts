// The shipped config files load: the production example (with the environment it documents) and dev.yaml.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { problemsOf, SECRET } from './fixtures.ts';

const EXAMPLE = fileURLToPath(new URL('../../config/gatehouse.example.yaml', import.meta.url));
const DEV = fileURLToPath(new URL('../../config/dev.yaml', import.meta.url));
const SECRET_PATH = '/run/secrets/intranet-client-secret';

/** The example, with its one secret file moved into a test directory (the test cannot write /run/secrets). */
function example(t: Test) {
  const text = readFileSync(EXAMPLE, 'utf8');
  t.equal(text.split(SECRET_PATH).length, 2, `the example names ${SECRET_PATH} once`);
  const dir = t.testdir({ 'intranet-client-secret': 'intranet-client-secret-0123456789\n', master: `${SECRET}\n`, 'database-url': 'postgres://gatehouse:pw@db:5432/gatehouse\n' });
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, text.replace(SECRET_PATH, join(dir, 'intranet-client-secret')));
  return { file, env: { GATEHOUSE_CONFIG: file, GATEHOUSE_SECRET_FILE: join(dir, 'master'), DATABASE_URL_FILE: join(dir, 'database-url') } };
}

t.test('config/gatehouse.example.yaml loads with the environment it documents', async (t) => {
  const { env } = example(t);
  const c = loadConfig({ env });
  t.equal(c.mode, 'production');
  t.equal(c.server.issuer, 'https://sso.example.com');
  t.equal(c.secret, SECRET, 'the master secret from GATEHOUSE_SECRET_FILE');
  t.equal(c.database.url, 'postgres://gatehouse:pw@db:5432/gatehouse');
  t.same(c.oidc.clients.map((x) => [x.clientId, x.tokenEndpointAuthMethod, x.firstParty]), [['intranet', 'client_secret_basic', true], ['dashboard-spa', 'none', false]]);
  t.equal(c.oidc.clients[0]!.clientSecret, 'intranet-client-secret-0123456789', 'the confidential client\'s secret from its file');
  t.equal(c.oidc.clients[1]!.clientSecret, undefined, 'the SPA is public');
  t.same(c.mfa.factors, ['totp']);
});

t.test('the example documents every section of the schema', async (t) => {
  const doc = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  t.same(Object.keys(doc).sort(), Object.keys(ConfigSchema.properties).filter((k) => k !== 'secret').sort(),
    'every top-level key but the secret, which never belongs in a file');
});

t.test('the example\'s commented Duo settings work once given', async (t) => {
  const { env } = example(t);
  const duo = { GATEHOUSE_MFA__FACTORS: 'duo,totp', DUO_CLIENT_ID: 'DIXXXXXXXXXXXXXXXXXX', DUO_CLIENT_SECRET: 'x'.repeat(40), DUO_API_HOST: 'api-xxxxxxxx.duosecurity.com' };
  t.same(loadConfig({ env: { ...env, ...duo } }).mfa.factors, ['duo', 'totp']);
  // The values written in the comments are the same shapes.
  const text = readFileSync(EXAMPLE, 'utf8');
  t.match(text, /# clientId: DIXXXXXXXXXXXXXXXXXX /);
  t.match(text, /# apiHost: api-xxxxxxxx\.duosecurity\.com /);
});

t.test('the example refuses to start without its secrets', async (t) => {
  const { env } = example(t);
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: env.GATEHOUSE_CONFIG } }).map((p) => p.split(':')[0]), ['/secret (GATEHOUSE_SECRET)']);
});

t.test('config/dev.yaml: a working development setup with one first-party client', async (t) => {
  const c = loadConfig({ env: { GATEHOUSE_CONFIG: DEV } });
  t.equal(c.mode, 'development');
  t.equal(c.oidc.clients.length, 1);
  const demo = c.oidc.clients[0]!;
  t.equal(demo.clientId, 'demo-app');
  t.same(demo.redirectUris, ['http://localhost:3001/callback']);
  t.equal(demo.firstParty, true);
  t.equal(demo.tokenEndpointAuthMethod, 'client_secret_basic', 'confidential');
  t.match(demo.clientSecret, /^dev-only-/, 'its published secret is marked dev-only');
});

t.test('config/dev.yaml is refused in production', async (t) => {
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: DEV, NODE_ENV: 'production' } }), [
    '/mode (GATEHOUSE_MODE): is development, but NODE_ENV=production; remove one of the two (production mode refuses dev-only values)',
  ]);
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: DEV, GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: SECRET, ISSUER: 'https://sso.example.com' } }), [
    '/oidc/clients/0/clientSecret: holds a published development value (it starts with "dev-only"); production needs a real secret',
  ]);
});
