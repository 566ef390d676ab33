// `gatehouse config check` as a function: exit code, the summary, the problem list, and no secret anywhere.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configCheck } from '../../src/cli/config-check.ts';
import { SECRET } from './fixtures.ts';

function run(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = configCheck(env, { write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
  return { code, out: out.join(''), err: err.join('') };
}

const DEV = fileURLToPath(new URL('../../config/dev.yaml', import.meta.url));

t.test('a valid development configuration: exit 0 and a summary', async (t) => {
  const data = join(t.testdir({}), 'data');
  const r = run({ GATEHOUSE_CONFIG: DEV, GATEHOUSE_DATA_DIR: data });
  t.equal(r.code, 0);
  t.equal(r.err, '');
  t.equal(r.out, [
    'Configuration OK',
    '  mode:      development',
    `  file:      ${DEV}`,
    '  issuer:    http://localhost:3000 (development default; set ISSUER for production)',
    `  database:  embedded PGlite in ${data}`,
    `  secret:    not set; development uses ${join(data, 'dev-secret')} (created on first start)`,
    '  clients:   1 (demo-app)',
    '  MFA:       totp',
    '',
  ].join('\n'));
  t.notMatch(r.out, 'dev-only-demo-app', 'the client secret is not shown');
});

t.test('production with secrets: the summary names PostgreSQL, never its URL, and no secret', async (t) => {
  const dir = t.testdir({ duo: 'D'.repeat(40) });
  const env = {
    NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, ISSUER: 'https://sso.example.com/',
    DATABASE_URL: 'postgres://gatehouse:db-password-PLANTED@db.internal:5432/gatehouse',
    GATEHOUSE_MFA__FACTORS: 'duo,totp', DUO_CLIENT_ID: 'DIAAAAAAAAAAAAAAAAAA', DUO_CLIENT_SECRET_FILE: join(dir, 'duo'), DUO_API_HOST: 'api-12345678.duosecurity.com',
    GATEHOUSE_METRICS__TOKEN: 'metrics-token-PLANTED',
  };
  const r = run(env);
  t.equal(r.code, 0);
  t.match(r.out, '  mode:      production\n');
  t.match(r.out, '  file:      (none: defaults and environment only)\n');
  t.match(r.out, '  issuer:    https://sso.example.com\n');
  t.match(r.out, '  database:  PostgreSQL (DATABASE_URL)\n');
  t.match(r.out, '  secret:    set\n');
  t.match(r.out, '  clients:   0\n');
  t.match(r.out, '  MFA:       duo, totp\n');
  for (const secret of [SECRET, 'db-password-PLANTED', 'db.internal', 'D'.repeat(40), 'metrics-token-PLANTED']) {
    t.notOk(r.out.includes(secret), `${secret.slice(0, 12)}… not shown`);
  }
});

t.test('an invalid configuration: exit 2, every problem on stderr, nothing on stdout, no secret', async (t) => {
  const r = run({
    NODE_ENV: 'production', GATEHOUSE_SECRET: 'short-PLANTED-secret', DUO_CLIENT_SECRET: 'duo-PLANTED-secret', PORT: 'x',
    DATABASE_URL: 'postgres://u:db-PLANTED@h/d',
  });
  t.equal(r.code, 2);
  t.equal(r.out, '');
  t.equal(r.err, [
    'Configuration is invalid (4 problems):',
    '  - /server/port (PORT): must be a whole number',
    '  - /secret (GATEHOUSE_SECRET): must be at least 32 characters',
    '  - /mfa/duo/clientSecret (DUO_CLIENT_SECRET or GATEHOUSE_MFA__DUO__CLIENT_SECRET): must be exactly 40 characters',
    '  - /server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): production needs the public https:// URL of the gateway (the issuer of every token)',
    'See docs/configuration.md for every setting and its environment variables.',
    '',
  ].join('\n'));
  t.notMatch(r.err, 'PLANTED');
});

t.test('the check has no side effect: no development secret is generated', async (t) => {
  const data = join(t.testdir({}), 'data');
  t.equal(run({ GATEHOUSE_DATA_DIR: data }).code, 0);
  t.notOk(existsSync(data), 'the data directory was not created');
});

t.test('an existing development secret is reported as in use', async (t) => {
  const data = t.testdir({ 'dev-secret': 'x'.repeat(64) });
  t.match(run({ GATEHOUSE_DATA_DIR: data }).out, `  secret:    not set; development uses ${join(data, 'dev-secret')}\n`);
});
