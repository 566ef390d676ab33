// No secret value is ever printed: distinctive values are planted in every secret-bearing setting, through
// every channel (file, variable, *_FILE, clientSecretFile) and through the usual mistakes, inside
// configurations that are invalid on purpose; the error text must contain none of them.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSettings } from '../../src/config/settings.ts';
import { scrub } from '../../src/config/redact.ts';
import { messageOf, problemsOf } from './fixtures.ts';

const plant = (name: string, length = 0) => {
  const v = `PLANTED-${name}-`;
  return length ? v.padEnd(length, 'x') : `${v}7f3a9c`;
};
const S = {
  master: plant('master'),                                  // too short for /secret (32)
  dbUrl: `postgres://gatehouse:${plant('dbpass')}@db:5432/gh`,
  duo: plant('duo', 41),                                    // one character too many
  client: plant('client', 24),
  metrics: plant('metrics'),
};
const ALL = Object.values(S);

function assertClean(t: Test, message: string, planted: string[], minProblems: number) {
  const count = Number(/\((\d+) problems?\)/.exec(message)?.[1]);
  t.ok(count >= minProblems, `the configuration is rejected with ${count} problems (at least ${minProblems})`);
  for (const s of planted) {
    t.notOk(message.includes(s), `${s.slice(0, 20)}… is not printed`);
    t.notOk(message.includes(s.slice(-14)), 'nor its tail');
  }
}

t.test('the plan covers every secret-bearing setting of the schema', async (t) => {
  // A new `secret: true` setting must be added to the scenarios below before this passes.
  t.same(listSettings().filter((s) => s.secret).map((s) => s.path.join('.')).sort(),
    ['database.url', 'metrics.token', 'mfa.duo.clientSecret', 'oidc.clients.[].clientSecret', 'secret']);
});

const brokenYaml = (secrets: boolean) => [
  'mode: production',
  'server:',
  '  port: not-a-port',
  '  prot: 1',
  ...(secrets ? [`secret: ${S.master}`, 'database:', `  url: ${S.dbUrl}`, 'metrics:', `  token: ${S.metrics}`] : []),
  'mfa:',
  '  factors: [duo]',
  '  duo:',
  '    clientId: short',
  '    apiHost: https://api-1.duosecurity.com/x',
  ...(secrets ? [`    clientSecret: ${S.duo}`] : []),
  'oidc:',
  '  clients:',
  '    - clientId: spa',
  '      tokenEndpointAuthMethod: none',
  '      grantTypes: [client_credentials]',
  ...(secrets ? [`      clientSecret: ${S.client}`] : []),
  '',
].join('\n');

t.test('secrets in the file', async (t) => {
  const dir = t.testdir({ 'g.yaml': brokenYaml(true) });
  assertClean(t, messageOf({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml') } }), ALL, 8);
});

t.test('secrets in variables (the clients\' inside GATEHOUSE_OIDC__CLIENTS)', async (t) => {
  const dir = t.testdir({ 'g.yaml': brokenYaml(false) });
  assertClean(t, messageOf({
    env: {
      GATEHOUSE_CONFIG: join(dir, 'g.yaml'), GATEHOUSE_SECRET: S.master, DATABASE_URL: S.dbUrl, DUO_CLIENT_SECRET: S.duo,
      GATEHOUSE_METRICS__TOKEN: S.metrics,
      GATEHOUSE_OIDC__CLIENTS: JSON.stringify([{ clientId: 'spa', tokenEndpointAuthMethod: 'none', clientSecret: S.client, redirectUris: ['x'] }]),
    },
  }), ALL, 8);
});

t.test('secrets in *_FILE variables and clientSecretFile', async (t) => {
  const dir = t.testdir({
    master: `${S.master}\n`, url: S.dbUrl, duo: S.duo, metrics: S.metrics, client: S.client,
    'g.yaml': brokenYaml(false).replace('      grantTypes: [client_credentials]', `      grantTypes: [client_credentials]\n      clientSecretFile: CLIENT_FILE`),
  });
  // clientSecretFile is resolved relative to the working directory; an absolute path keeps the test independent of it.
  writeFileSync(join(dir, 'g.yaml'), readFileSync(join(dir, 'g.yaml'), 'utf8').replace('CLIENT_FILE', join(dir, 'client')));
  assertClean(t, messageOf({
    env: {
      GATEHOUSE_CONFIG: join(dir, 'g.yaml'), GATEHOUSE_SECRET_FILE: join(dir, 'master'), DATABASE_URL_FILE: join(dir, 'url'),
      DUO_CLIENT_SECRET_FILE: join(dir, 'duo'), GATEHOUSE_METRICS__TOKEN_FILE: join(dir, 'metrics'),
    },
  }), ALL, 8);
});

t.test('the usual mistakes: a secret where a path, a number, a name or a choice belongs', async (t) => {
  const dir = t.testdir({ 'g.yaml': `oidc:\n  clients:\n    - clientId: app\n      clientSecretFile: ${S.client}\n      redirectUris: [https://a.example/cb]\n` });
  const planted = [plant('as-path'), plant('as-number'), plant('unknown-var'), plant('as-colour'), plant('as-level'), plant('as-bool'), plant('as-list'), S.client];
  const env = {
    GATEHOUSE_CONFIG: join(dir, 'g.yaml'),
    GATEHOUSE_SECRET_FILE: planted[0],            // the secret itself instead of its file
    PORT: planted[1],
    GATEHOUSE_SECRT: planted[2],                  // a misspelt name
    GATEHOUSE_UI__PRIMARY_COLOR: planted[3],
    LOG_LEVEL: planted[4],
    GATEHOUSE_SERVER__TRUST_PROXY: planted[5],
    GATEHOUSE_OIDC__CLIENTS: `[${planted[6]}`,   // broken JSON
  };
  t.equal(problemsOf({ env }).length, 8, 'one problem each, the clientSecretFile holding the secret included');
  assertClean(t, messageOf({ env }), planted, 8);
  assertClean(t, messageOf({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml') } }), [S.client], 1);
});

t.test('two variables disagreeing about a secret: neither value is printed', async (t) => {
  const a = plant('duo-a', 40);
  const b = plant('duo-b', 40);
  assertClean(t, messageOf({ env: { DUO_CLIENT_SECRET: a, GATEHOUSE_MFA__DUO__CLIENT_SECRET: b } }), [a, b], 1);
});

t.test('syntax errors near a secret quote no source text', async (t) => {
  const dir = t.testdir({
    'bad.json': `{\n  "secret": "${S.master}",\n  "server": { "port": 1, }\n}`,
    'bad2.json': `{"secret": ${S.master}}`,
    'bad.yaml': `secret: ${S.master}\nserver:\n  port: 1\n   host: ${S.client}\n`,
    'bad2.yaml': `secret: "${S.master}\n`,
    'tag.yaml': `secret: !${S.master} x\n`,
  });
  for (const f of ['bad.json', 'bad2.json', 'bad.yaml', 'bad2.yaml', 'tag.yaml']) {
    assertClean(t, messageOf({ env: { GATEHOUSE_CONFIG: join(dir, f) } }), [S.master, S.client], 1);
  }
});

t.test('no value of any setting is echoed, secret or not', async (t) => {
  // Every settable variable at once, each with a distinctive value that is wrong for most types.
  const env: Record<string, string> = {};
  const planted: string[] = [];
  for (const s of listSettings().filter((s) => s.env.length)) {
    const v = plant(s.path.join('-'));
    env[s.env.at(-1)!] = v;
    planted.push(v);
  }
  env.GATEHOUSE_MODE = 'production';
  const message = messageOf({ env });
  assertClean(t, message, planted, 20);
});

t.test('scrub: the net under the messages', async (t) => {
  t.equal(scrub('a 0123456789 b 01234 c', ['0123456789', '01234']), 'a [redacted] b [redacted] c', 'longest first, every occurrence');
  t.equal(scrub('port 3000 is bad', ['300']), 'port 3000 is bad', 'values under 4 characters would mangle prose: left alone');
});
