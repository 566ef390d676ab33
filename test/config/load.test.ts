// The loader: defaults, the file (YAML and JSON), precedence of the layers, unknown keys, all problems at
// once, NODE_ENV, and the frozen result.
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { listSettings } from '../../src/config/settings.ts';
import { problemsOf, messageOf, SECRET } from './fixtures.ts';

const at = (obj: unknown, path: string[]) => path.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], obj);

t.test('defaults: an empty environment gives the documented defaults', async (t) => {
  const c = loadConfig({ env: {} });
  t.equal(c.mode, 'development');
  t.same(c.server, { host: '127.0.0.1', port: 3000, issuer: '', allowHttpIssuer: false, trustProxy: false, bodyLimitBytes: 262144, shutdownGraceMs: 10000 });
  t.equal(c.dataDir, './data');
  t.equal(c.secret, undefined, 'no secret: development generates one later (dev-secret.ts)');
  t.equal(c.database.url, undefined, 'no URL: embedded database');
  t.same(c.oidc.clients, []);
  t.same(c.mfa.factors, ['totp']);
  t.equal(c.mfa.duo.failMode, 'closed');
  // Every setting outside list items carries exactly its schema default.
  for (const s of listSettings().filter((s) => !s.path.includes('[]') && s.schema.default !== undefined)) {
    t.same(at(c, s.path), s.schema.default, `default of ${s.path.join('.')}`);
  }
});

const yaml = `
server:
  port: 4000
  issuer: https://sso.example.com
mfa:
  totp:
    issuer: Example
oidc:
  clients:
    - clientId: app
      clientSecret: app-secret-0123456789
      redirectUris: [https://app.example.com/cb]
`;
const json = JSON.stringify({
  server: { port: 4000, issuer: 'https://sso.example.com' },
  mfa: { totp: { issuer: 'Example' } },
  oidc: { clients: [{ clientId: 'app', clientSecret: 'app-secret-0123456789', redirectUris: ['https://app.example.com/cb'] }] },
});

t.test('the file: YAML and JSON give the same configuration, with defaults filled in around it', async (t) => {
  const dir = t.testdir({ 'g.yaml': yaml, 'g.json': json, 'g.yml': yaml });
  const fromYaml = loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml') } });
  const fromJson = loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'g.json') } });
  t.same(fromJson, fromYaml);
  t.same(loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yml') } }), fromYaml);
  t.equal(fromYaml.server.port, 4000);
  t.equal(fromYaml.server.host, '127.0.0.1', 'keys the file leaves out keep their defaults');
  t.equal(fromYaml.mfa.totp.issuer, 'Example');
  t.equal(fromYaml.mfa.totp.maxAttempts, 5);
  t.same(fromYaml.oidc.clients[0]!.grantTypes, ['authorization_code', 'refresh_token'], 'defaults inside list items too');
  t.equal(fromYaml.oidc.clients[0]!.tokenEndpointAuthMethod, 'client_secret_basic');
  t.same(loadConfig({ env: {}, file: join(dir, 'g.yaml') }), fromYaml, 'opts.file works like GATEHOUSE_CONFIG');
});

t.test('precedence: defaults < file < environment < *_FILE < overrides', async (t) => {
  const dir = t.testdir({
    'g.yaml': 'server:\n  port: 4000\nsecret: file-secret-0123456789-0123456789-abc\n',
    'port': '6000\n',
    'secret': 'filevar-secret-0123456789-0123456789-abc\n',
  });
  const file = join(dir, 'g.yaml');
  t.equal(loadConfig({ env: {} }).server.port, 3000, 'default');
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: file } }).server.port, 4000, 'file over default');
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: file, PORT: '5000' } }).server.port, 5000, 'environment over file');
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: file, PORT: '5000', PORT_FILE: join(dir, 'port') } }).server.port, 6000, '*_FILE over the plain variable');
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: file, PORT: '5000' }, overrides: { server: { port: 7000 } } }).server.port, 7000, 'overrides last');

  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: file } }).secret, 'file-secret-0123456789-0123456789-abc');
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: file, GATEHOUSE_SECRET: 'env-secret-0123456789-0123456789-abcd' } }).secret, 'env-secret-0123456789-0123456789-abcd');
  t.equal(loadConfig({
    env: { GATEHOUSE_CONFIG: file, GATEHOUSE_SECRET: 'env-secret-0123456789-0123456789-abcd', GATEHOUSE_SECRET_FILE: join(dir, 'secret') },
  }).secret, 'filevar-secret-0123456789-0123456789-abc', 'the trailing newline of the secret file is not part of the value');
});

t.test('the environment overrides one key, not the section around it', async (t) => {
  const dir = t.testdir({ 'g.yaml': 'server:\n  port: 4000\n  host: 0.0.0.0\n' });
  const c = loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml'), GATEHOUSE_SERVER__TRUST_PROXY: 'true' } });
  t.same([c.server.port, c.server.host, c.server.trustProxy], [4000, '0.0.0.0', true]);
});

t.test('unknown keys in the file are errors with their path, at any depth', async (t) => {
  const dir = t.testdir({
    'g.yaml': [
      'bogus: 1',
      'server:',
      '  prot: 3000',
      'mfa:',
      '  duo:',
      '    clientSecrett: x',
      'oidc:',
      '  clients:',
      '    - clientId: app',
      '      clientSecret: app-secret-0123456789',
      '      redirectUri: https://app.example.com/cb',
      '      redirectUris: [https://app.example.com/cb]',
      '',
    ].join('\n'),
  });
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml') } }), [
    '/bogus: unknown key',
    '/server/prot: unknown key; did you mean port?',
    '/oidc/clients/0/redirectUri: unknown key; did you mean redirectUris?',
    '/mfa/duo/clientSecrett: unknown key; did you mean clientSecret?',
  ]);
});

t.test('every problem is reported at once, schema and cross-field alike', async (t) => {
  const dir = t.testdir({
    'g.yaml': [
      'mode: production',
      'server:',
      '  port: 70000',
      'metrics: []',
      'log:',
      '  level: loud',
      'ui:',
      '  primaryColor: blue',
      'oidc:',
      '  clients:',
      '    - clientId: app',
      '      redirectUris: [https://app.example.com/cb]',
      '',
    ].join('\n'),
  });
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml'), GATEHOUSE_SERVER__TRUST_PROXY: 'maybe' } }), [
    '/server/trustProxy (GATEHOUSE_SERVER__TRUST_PROXY): must be true or false',
    '/server/port (PORT or GATEHOUSE_SERVER__PORT): must be at most 65535',
    '/log/level (LOG_LEVEL or GATEHOUSE_LOG__LEVEL): must be one of: fatal, error, warn, info, debug, trace, silent',
    // TypeBox's own defaulting would have turned this list into {enabled: true} without a word.
    '/metrics: must be a mapping of keys to values',
    '/ui/primaryColor (GATEHOUSE_UI__PRIMARY_COLOR): must be a colour written #rrggbb, such as #1f5fbf',
    '/secret (GATEHOUSE_SECRET): production needs a master secret of at least 32 random characters, given in GATEHOUSE_SECRET or GATEHOUSE_SECRET_FILE (the development fallback, a secret generated into the data directory, is refused); generate one with `openssl rand -base64 48`',
    '/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): production needs the public https:// URL of the gateway (the issuer of every token)',
    '/oidc/clients/0/clientSecret: a confidential client needs clientSecret or clientSecretFile (or tokenEndpointAuthMethod: none for a public client)',
  ]);
  t.match(messageOf({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml') } }), /^Configuration is invalid \(7 problems\):\n {2}- \/server\/port/);
});

t.test('a problem on one key does not also produce follow-on problems for it', async (t) => {
  // The required-property and the type error are one problem; a section of the wrong type hides its keys.
  const dir = t.testdir({ 'g.json': JSON.stringify({ server: 'x', oidc: { clients: [{ redirectUris: ['https://a.example/cb'], clientSecret: 'app-secret-0123456789' }] } }) });
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'g.json') } }), [
    '/server: must be a mapping of keys to values',
    '/oidc/clients/0/clientId: is required',
  ]);
});

t.test('the config file: unreadable, not a mapping, broken syntax', async (t) => {
  const dir = t.testdir({ 'list.yaml': '- a\n- b\n', 'bad.yaml': 'server:\n  port: 1\n   host: x\n', 'bad.json': '{"server": {"port": 1,}}', 'empty.yaml': '' });
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'nope.yaml') } }), [`GATEHOUSE_CONFIG: cannot read ${join(dir, 'nope.yaml')} (ENOENT)`]);
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'list.yaml') } }), [`GATEHOUSE_CONFIG: ${join(dir, 'list.yaml')}: the top level must be a mapping of settings`]);
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'bad.yaml') } }), [`GATEHOUSE_CONFIG: ${join(dir, 'bad.yaml')}: not valid YAML (block as implicit key at line 2, column 9)`]);
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'bad.json') } }), [`GATEHOUSE_CONFIG: ${join(dir, 'bad.json')}: not valid JSON (line 1, column 23)`]);
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'empty.yaml') } }).server.port, 3000, 'an empty file is no settings');
  t.equal(loadConfig({ env: { GATEHOUSE_CONFIG: '' } }).server.port, 3000, 'an empty GATEHOUSE_CONFIG is no file');
});

t.test('YAML duplicate keys are an error, not a silent last-one-wins', async (t) => {
  const dir = t.testdir({ 'dup.yaml': 'server:\n  port: 1\n  port: 2\n' });
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'dup.yaml') } }), [`GATEHOUSE_CONFIG: ${join(dir, 'dup.yaml')}: not valid YAML (duplicate key at line 3, column 3)`]);
});

t.test('a "__proto__" key is reported as unknown and pollutes nothing', async (t) => {
  const dir = t.testdir({ 'p.json': '{"__proto__": {"polluted": true}, "server": {"__proto__": {"port": 1}}}' });
  t.same(problemsOf({ env: { GATEHOUSE_CONFIG: join(dir, 'p.json') } }), ['/__proto__: unknown key', '/server/__proto__: unknown key']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('NODE_ENV=production implies production mode', async (t) => {
  const env = { NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, ISSUER: 'https://sso.example.com' };
  t.equal(loadConfig({ env }).mode, 'production');
  t.equal(loadConfig({ env: { ...env, GATEHOUSE_MODE: 'production' } }).mode, 'production');
  t.equal(loadConfig({ env: { ...env, NODE_ENV: 'development' } }).mode, 'development');
  t.same(problemsOf({ env: { NODE_ENV: 'production' } }).map((p) => p.split(':')[0]), ['/secret (GATEHOUSE_SECRET)', '/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER)'],
    'and production rules apply');
  t.same(problemsOf({ env: { ...env, GATEHOUSE_MODE: 'development' } }), [
    '/mode (GATEHOUSE_MODE): is development, but NODE_ENV=production; remove one of the two (production mode refuses dev-only values)',
  ], 'an explicit development mode contradicts NODE_ENV=production');
});

t.test('the result is deeply frozen', async (t) => {
  const dir = t.testdir({ 'g.yaml': yaml });
  const c = loadConfig({ env: { GATEHOUSE_CONFIG: join(dir, 'g.yaml') } });
  for (const o of [c, c.server, c.mfa, c.mfa.duo, c.mfa.factors, c.oidc.clients, c.oidc.clients[0], c.oidc.clients[0]!.redirectUris]) {
    t.ok(Object.isFrozen(o));
  }
  t.throws(() => { (c.server as { port: number }).port = 1; }, TypeError);
  t.throws(() => { (c.mfa.factors as string[]).push('duo'); }, TypeError);
});

t.test('overrides do not reach into the caller\'s object', async (t) => {
  const overrides = { oidc: { clients: [{ clientId: 'x', clientSecret: 'x-secret-0123456789', redirectUris: ['https://x.example/cb'] }] } };
  loadConfig({ env: {}, overrides });
  t.notOk(Object.isFrozen(overrides.oidc.clients[0]), 'the caller\'s object is neither frozen nor filled with defaults');
  t.same(Object.keys(overrides.oidc.clients[0]!), ['clientId', 'clientSecret', 'redirectUris']);
});
