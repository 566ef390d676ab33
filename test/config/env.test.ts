// Environment variables: names, typing, *_FILE, unknown names, conflicts.
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { ENV_ALIASES, envNamesFor, envPath, longEnvName } from '../../src/config/env-names.ts';
import { listSettings, schemaAt } from '../../src/config/settings.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { problemsOf } from './fixtures.ts';

const DUO = { DUO_CLIENT_ID: 'DIAAAAAAAAAAAAAAAAAA', DUO_CLIENT_SECRET: 'a'.repeat(40), DUO_API_HOST: 'api-12345678.duosecurity.com' };

t.test('every setting has a GATEHOUSE_ name that maps back to it, and every alias names a setting', async (t) => {
  const settings = listSettings().filter((s) => !s.path.includes('[]'));
  t.ok(settings.length > 40, 'the walk finds the settings');
  for (const s of settings) {
    t.same(envPath(longEnvName(s.path)), s.path, `${longEnvName(s.path)} ↔ ${s.path.join('.')}`);
    t.ok(/^GATEHOUSE_[A-Z0-9_]+$/.test(longEnvName(s.path)));
  }
  for (const [name, path] of Object.entries(ENV_ALIASES)) t.ok(schemaAt(ConfigSchema, path), `${name} names a setting`);
  t.equal(longEnvName(['server', 'allowHttpIssuer']), 'GATEHOUSE_SERVER__ALLOW_HTTP_ISSUER');
  t.equal(longEnvName(['passwords', 'memoryKiB']), 'GATEHOUSE_PASSWORDS__MEMORY_KIB');
  t.same(envNamesFor(['server', 'port']), ['PORT', 'GATEHOUSE_SERVER__PORT']);
  t.same(envNamesFor(['secret']), ['GATEHOUSE_SECRET'], 'an alias equal to the long name is listed once');
});

t.test('numbers, booleans and lists are typed from their strings', async (t) => {
  const c = loadConfig({
    env: {
      PORT: '8080', GATEHOUSE_DATABASE__POOL_MAX: ' 25 ', GATEHOUSE_PASSWORDS__MEMORY_KIB: '65536',
      GATEHOUSE_SERVER__TRUST_PROXY: 'yes', GATEHOUSE_METRICS__ENABLED: 'off',
      GATEHOUSE_MFA__FACTORS: 'duo, totp', ...DUO,
    },
  });
  t.equal(c.server.port, 8080);
  t.equal(c.database.poolMax, 25);
  t.equal(c.passwords.memoryKiB, 65536);
  t.equal(c.server.trustProxy, true);
  t.equal(c.metrics.enabled, false);
  t.same(c.mfa.factors, ['duo', 'totp'], 'comma list, order kept, spaces trimmed');
  for (const [text, value] of [['true', true], ['1', true], ['ON', true], ['false', false], ['0', false], ['No', false]] as const) {
    t.equal(loadConfig({ env: { GATEHOUSE_SERVER__TRUST_PROXY: text } }).server.trustProxy, value, `boolean ${text}`);
  }
  t.same(loadConfig({ env: { GATEHOUSE_MFA__FACTORS: '["totp","duo"]', ...DUO } }).mfa.factors, ['totp', 'duo'], 'JSON list');
});

t.test('GATEHOUSE_OIDC__CLIENTS takes a JSON list of clients, with defaults filled in', async (t) => {
  const clients = [
    { clientId: 'a', clientSecret: 'a-secret-0123456789ab', redirectUris: ['https://a.example/cb'] },
    { clientId: 'spa', tokenEndpointAuthMethod: 'none', redirectUris: ['https://spa.example/cb'] },
  ];
  const c = loadConfig({ env: { GATEHOUSE_OIDC__CLIENTS: JSON.stringify(clients) } });
  t.same(c.oidc.clients.map((x) => [x.clientId, x.tokenEndpointAuthMethod, x.mfa]), [['a', 'client_secret_basic', 'required'], ['spa', 'none', 'required']]);
  t.same(problemsOf({ env: { GATEHOUSE_OIDC__CLIENTS: 'a,b' } }), ['/oidc/clients (GATEHOUSE_OIDC__CLIENTS): must be a JSON list of objects, e.g. [{"clientId": "…"}]']);
  t.same(problemsOf({ env: { GATEHOUSE_OIDC__CLIENTS: '[{"clientId": ' } }), ['/oidc/clients (GATEHOUSE_OIDC__CLIENTS): must be a JSON list (the value does not parse as JSON)']);
  t.same(problemsOf({ env: { GATEHOUSE_OIDC__CLIENTS: '[{"clientId": "a", "secret": "x", "redirectUris": ["https://a.example/cb"]}]' } }), [
    '/oidc/clients/0/secret: unknown key; did you mean clientSecret?',
    '/oidc/clients/0/clientSecret: a confidential client needs clientSecret or clientSecretFile (or tokenEndpointAuthMethod: none for a public client)',
  ], 'keys inside the JSON are checked like the file\'s');
});

t.test('a value of the wrong type names the variable that carried it', async (t) => {
  t.same(problemsOf({ env: { PORT: 'eighty', GATEHOUSE_SERVER__TRUST_PROXY: 'sometimes', GATEHOUSE_DATABASE__POOL_MAX: '0x10', GATEHOUSE_SECURITY__LOCKOUT_SECONDS: '1e3' } }), [
    '/server/port (PORT): must be a whole number',
    '/server/trustProxy (GATEHOUSE_SERVER__TRUST_PROXY): must be true or false',
    '/database/poolMax (GATEHOUSE_DATABASE__POOL_MAX): must be a whole number',
    '/security/lockoutSeconds (GATEHOUSE_SECURITY__LOCKOUT_SECONDS): must be a whole number',
  ]);
  t.same(problemsOf({ env: { PORT: '3.5' } }), ['/server/port (PORT or GATEHOUSE_SERVER__PORT): must be a whole number'], 'a number, but not whole: the schema says so');
});

t.test('unknown GATEHOUSE_ variables are errors (typos); other variables are not ours', async (t) => {
  t.same(problemsOf({
    env: {
      GATEHOUSE_SERVER__PROT: '1', GATEHOUSE_SERVER_PORT: '1', GATEHOUSE_SERVER: '{}', GATEHOUSE_NOTHING_LIKE_IT: 'x', GATEHOUSE_CONFIG_FILE: '/x',
      HOME: '/root', DUO_API_HOSTNAME: 'x', NODE_OPTIONS: '', GATEHOUSE_CONFIG: '',
    },
  }), [
    'GATEHOUSE_SERVER__PROT: unknown setting (GATEHOUSE_* variables must name a setting; see docs/configuration.md); did you mean GATEHOUSE_SERVER__PORT?',
    'GATEHOUSE_SERVER_PORT: unknown setting (GATEHOUSE_* variables must name a setting; see docs/configuration.md); did you mean GATEHOUSE_SERVER__PORT?',
    'GATEHOUSE_SERVER: names a whole section; set its keys one by one (GATEHOUSE_SERVER__<KEY>, see docs/configuration.md)',
    'GATEHOUSE_NOTHING_LIKE_IT: unknown setting (GATEHOUSE_* variables must name a setting; see docs/configuration.md)',
    'GATEHOUSE_CONFIG_FILE: unknown setting (GATEHOUSE_* variables must name a setting; see docs/configuration.md)',
  ]);
});

t.test('*_FILE variables: the value comes from the file, one trailing newline dropped', async (t) => {
  const dir = t.testdir({ duo: `${'s'.repeat(40)}\n`, url: 'postgres://u:p@db/gh\r\n', crlf: 'x\n\n' });
  const c = loadConfig({ env: { ...DUO, DUO_CLIENT_SECRET_FILE: join(dir, 'duo'), DATABASE_URL_FILE: join(dir, 'url'), GATEHOUSE_UI__PRODUCT_NAME_FILE: join(dir, 'crlf') } });
  t.equal(c.mfa.duo.clientSecret, 's'.repeat(40), 'the file overrides DUO_CLIENT_SECRET');
  t.equal(c.database.url, 'postgres://u:p@db/gh');
  t.equal(c.ui.productName, 'x\n', 'only one newline is dropped: the rest is content');
});

t.test('an unreadable *_FILE is reported without its path, and without a follow-on "not set"', async (t) => {
  const dir = t.testdir({ sub: {} });
  t.same(problemsOf({ env: { GATEHOUSE_SECRET_FILE: '/nonexistent/gatehouse-secret', DUO_CLIENT_SECRET_FILE: join(dir, 'sub'), GATEHOUSE_MFA__FACTORS: 'duo', DUO_CLIENT_ID: DUO.DUO_CLIENT_ID, DUO_API_HOST: DUO.DUO_API_HOST } }), [
    '/secret (GATEHOUSE_SECRET_FILE): cannot read the file it names (no such file)',
    '/mfa/duo/clientSecret (DUO_CLIENT_SECRET_FILE): cannot read the file it names (it is a directory)',
  ]);
});

t.test('a setting whose own name ends in _FILE is a plain variable', async (t) => {
  const c = loadConfig({ env: { GATEHOUSE_MFA__DUO__CA_FILE: '/etc/ssl/duo-ca.pem' } });
  t.equal(c.mfa.duo.caFile, '/etc/ssl/duo-ca.pem', 'the path is the value; the file is not read here');
});

t.test('an empty variable counts as unset', async (t) => {
  const c = loadConfig({ env: { PORT: '', DATABASE_URL: '', GATEHOUSE_SECRET_FILE: '', GATEHOUSE_MFA__FACTORS: '' } });
  t.same([c.server.port, c.database.url, c.secret, c.mfa.factors], [3000, undefined, undefined, ['totp']]);
});

t.test('two spellings of one setting must agree', async (t) => {
  t.equal(loadConfig({ env: { PORT: '4000', GATEHOUSE_SERVER__PORT: '4000' } }).server.port, 4000, 'the same value is fine');
  t.same(problemsOf({ env: { PORT: '4000', GATEHOUSE_SERVER__PORT: '5000', DUO_CLIENT_SECRET: 'a'.repeat(40), GATEHOUSE_MFA__DUO__CLIENT_SECRET: 'b'.repeat(40) } }), [
    '/server/port (GATEHOUSE_SERVER__PORT and PORT): set by more than one variable, to different values; keep only one',
    '/mfa/duo/clientSecret (DUO_CLIENT_SECRET and GATEHOUSE_MFA__DUO__CLIENT_SECRET): set by more than one variable, to different values; keep only one',
  ]);
});

t.test('variable names are matched to keys regardless of underscores inside a key', async (t) => {
  t.equal(loadConfig({ env: { GATEHOUSE_SERVER__ALLOWHTTPISSUER: 'true' } }).server.allowHttpIssuer, true);
  t.equal(loadConfig({ env: { GATEHOUSE_PASSWORDS__MEMORY_KI_B: '2048' } }).passwords.memoryKiB, 2048);
});
