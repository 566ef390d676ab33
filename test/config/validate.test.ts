// Rules: production mode, the issuer, Duo's settings (the SDK's own limits), MFA factors, OIDC clients.
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { problemsOf, SECRET } from './fixtures.ts';

const PROD = { GATEHOUSE_MODE: 'production', GATEHOUSE_SECRET: SECRET, ISSUER: 'https://sso.example.com' };
const DUO = { DUO_CLIENT_ID: 'DIAAAAAAAAAAAAAAAAAA', DUO_CLIENT_SECRET: 'a'.repeat(40), DUO_API_HOST: 'api-12345678.duosecurity.com' };
const client = (over: Record<string, unknown> = {}) => ({ clientId: 'app', clientSecret: 'app-secret-0123456789', redirectUris: ['https://app.example.com/cb'], ...over });
const withClients = (...clients: Record<string, unknown>[]) => ({ env: {}, overrides: { oidc: { clients } } });

t.test('production: a complete configuration loads', async (t) => {
  const c = loadConfig({ env: PROD });
  t.equal(c.mode, 'production');
  t.equal(c.server.issuer, 'https://sso.example.com');
});

t.test('production refuses a missing secret and a missing issuer', async (t) => {
  t.same(problemsOf({ env: { GATEHOUSE_MODE: 'production' } }), [
    '/secret (GATEHOUSE_SECRET): production needs a master secret of at least 32 random characters, given in GATEHOUSE_SECRET or GATEHOUSE_SECRET_FILE (the development fallback, a secret generated into the data directory, is refused); generate one with `openssl rand -base64 48`',
    '/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): production needs the public https:// URL of the gateway (the issuer of every token)',
  ]);
  t.same(loadConfig({ env: {} }).secret, undefined, 'development accepts both (the secret is generated, the issuer derived)');
});

t.test('production refuses an http:// issuer unless server.allowHttpIssuer', async (t) => {
  const http = { ...PROD, ISSUER: 'http://sso.internal:3000' };
  t.same(problemsOf({ env: http }), [
    '/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): an http:// issuer is refused in production; use https://, or set server.allowHttpIssuer (GATEHOUSE_SERVER__ALLOW_HTTP_ISSUER=true) when TLS ends at a proxy on a private network',
  ]);
  t.equal(loadConfig({ env: { ...http, GATEHOUSE_SERVER__ALLOW_HTTP_ISSUER: 'true' } }).server.issuer, 'http://sso.internal:3000', 'the explicit opt-in');
  t.equal(loadConfig({ env: { ISSUER: 'http://localhost:3000' } }).server.issuer, 'http://localhost:3000', 'development accepts http');
});

t.test('production refuses the published dev-only values', async (t) => {
  const env = { ...PROD, GATEHOUSE_METRICS__TOKEN: 'dev-only-metrics-token' };
  t.same(problemsOf({ env, overrides: { oidc: { clients: [client({ clientSecret: 'dev-only-demo-app-secret' })] } } }), [
    '/oidc/clients/0/clientSecret: holds a published development value (it starts with "dev-only"); production needs a real secret',
    '/metrics/token (GATEHOUSE_METRICS__TOKEN): holds a published development value (it starts with "dev-only"); production needs a real secret',
  ]);
  t.same(problemsOf({ env: { ...PROD, GATEHOUSE_SECRET: 'dev-only-master-secret-0123456789-abcdef' } }), [
    '/secret (GATEHOUSE_SECRET): holds a published development value (it starts with "dev-only"); production needs a real secret',
  ]);
  t.equal(loadConfig({ env: { GATEHOUSE_METRICS__TOKEN: 'dev-only-metrics-token' } }).metrics.token, 'dev-only-metrics-token', 'development accepts them');
});

t.test('the issuer must be a plain absolute URL', async (t) => {
  t.same(problemsOf({ env: { ISSUER: 'sso.example.com' } }), ['/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): must be an absolute URL such as https://sso.example.com']);
  t.same(problemsOf({ env: { ISSUER: 'https://user:pw@sso.example.com/?a=1' } }), [
    '/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): must not have a query (?…) or a fragment (#…)',
    '/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): must not contain a user name or password',
  ]);
  t.same(problemsOf({ env: { ISSUER: 'ftp://sso.example.com' } }), ['/server/issuer (ISSUER or GATEHOUSE_SERVER__ISSUER): must be an https:// (or http://) URL']);
});

t.test('Duo enabled without its settings: one problem per missing key, naming it', async (t) => {
  t.same(problemsOf({ env: { GATEHOUSE_MFA__FACTORS: 'totp,duo' } }), [
    '/mfa/duo/clientId (DUO_CLIENT_ID or GATEHOUSE_MFA__DUO__CLIENT_ID): Duo is enabled (mfa.factors lists duo) but the Client ID is not set: 20 characters, from the Web SDK application in the Duo Admin Panel',
    '/mfa/duo/clientSecret (DUO_CLIENT_SECRET or GATEHOUSE_MFA__DUO__CLIENT_SECRET): Duo is enabled (mfa.factors lists duo) but the Client Secret is not set: 40 characters (DUO_CLIENT_SECRET_FILE is the safer way to give it)',
    '/mfa/duo/apiHost (DUO_API_HOST or GATEHOUSE_MFA__DUO__API_HOST): Duo is enabled (mfa.factors lists duo) but the API hostname is not set: a bare host name such as api-xxxxxxxx.duosecurity.com',
  ]);
  const c = loadConfig({ env: { GATEHOUSE_MFA__FACTORS: 'totp,duo', ...DUO } });
  t.same([c.mfa.duo.clientId, c.mfa.duo.apiHost], [DUO.DUO_CLIENT_ID, DUO.DUO_API_HOST], 'complete Duo settings load');
});

t.test('Duo settings follow the SDK: 20 and 40 characters, a bare lower-case host', async (t) => {
  const host = (h: string) => problemsOf({ env: { ...DUO, DUO_API_HOST: h } });
  const HOST_RULE = '/mfa/duo/apiHost (DUO_API_HOST or GATEHOUSE_MFA__DUO__API_HOST): must be a bare host name such as api-xxxxxxxx.duosecurity.com, in lower case, without https:// or a path';
  t.same(problemsOf({ env: { ...DUO, DUO_CLIENT_ID: 'DI' + 'A'.repeat(17), DUO_CLIENT_SECRET: 'a'.repeat(41) } }), [
    '/mfa/duo/clientId (DUO_CLIENT_ID or GATEHOUSE_MFA__DUO__CLIENT_ID): must be exactly 20 characters',
    '/mfa/duo/clientSecret (DUO_CLIENT_SECRET or GATEHOUSE_MFA__DUO__CLIENT_SECRET): must be exactly 40 characters',
  ]);
  t.same(problemsOf({ env: { ...DUO, DUO_CLIENT_ID: 'DI' + 'A'.repeat(19), DUO_CLIENT_SECRET: 'a'.repeat(39) } }).length, 2, 'too long an id, too short a secret');
  t.same(host('https://api-12345678.duosecurity.com'), [HOST_RULE], 'a scheme');
  t.same(host('api-12345678.duosecurity.com/'), [HOST_RULE], 'a path');
  t.same(host('api-12345678.duosecurity.com/oauth/v1'), [HOST_RULE], 'a longer path');
  t.same(host('API-12345678.duosecurity.com'), [HOST_RULE], 'upper case: Duo compares iss to https://<apiHost> exactly');
  t.same(host(' api-12345678.duosecurity.com'), [HOST_RULE], 'a stray space');
  t.equal(loadConfig({ env: { ...DUO, DUO_API_HOST: 'localhost:8443' } }).mfa.duo.apiHost, 'localhost:8443', 'a port is allowed (the emulator)');
  t.same(problemsOf({ env: { DUO_API_HOST: 'https://x' } }), [HOST_RULE], 'checked even while Duo is not in mfa.factors');
});

t.test('mfa.factors: not empty, no repeats, known factors only', async (t) => {
  t.same(problemsOf({ env: {}, overrides: { mfa: { factors: [] } } }), ['/mfa/factors (GATEHOUSE_MFA__FACTORS): must not be empty']);
  t.same(problemsOf({ env: { GATEHOUSE_MFA__FACTORS: ',' } }), ['/mfa/factors (GATEHOUSE_MFA__FACTORS): must not be empty']);
  t.same(problemsOf({ env: { GATEHOUSE_MFA__FACTORS: 'totp,totp' } }), ['/mfa/factors (GATEHOUSE_MFA__FACTORS): must not list the same value twice']);
  t.same(problemsOf({ env: { GATEHOUSE_MFA__FACTORS: 'totp,sms' } }), ['/mfa/factors/1 (GATEHOUSE_MFA__FACTORS): must be one of: totp, duo']);
});

t.test('OIDC clients: confidential, public and URI rules', async (t) => {
  t.same(problemsOf(withClients(
    client({ clientSecret: undefined }),
    client({ clientId: 'spa', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'client_credentials'] }),
    client({ clientId: 'svc', grantTypes: ['client_credentials'], redirectUris: [], backchannelLogoutUri: 'https://svc.example/bcl#x' }),
    client({ clientId: 'web', grantTypes: ['authorization_code'], redirectUris: [], postLogoutRedirectUris: ['/relative'] }),
    client({ clientId: 'svc' }),
  )), [
    '/oidc/clients/0/clientSecret: a confidential client needs clientSecret or clientSecretFile (or tokenEndpointAuthMethod: none for a public client)',
    '/oidc/clients/1/clientSecret: a public client (tokenEndpointAuthMethod: none) must not have a secret',
    '/oidc/clients/1/grantTypes: client_credentials needs a confidential client',
    '/oidc/clients/2/backchannelLogoutUri: must not contain a fragment (#…)',
    '/oidc/clients/3/redirectUris: authorization_code needs at least one redirect URI',
    '/oidc/clients/3/postLogoutRedirectUris/0: must be an absolute URL',
    '/oidc/clients/4/clientId: duplicate client id "svc"',
  ]);
  const spa = loadConfig(withClients(client({ clientId: 'spa', clientSecret: undefined, tokenEndpointAuthMethod: 'none' })));
  t.equal(spa.oidc.clients[0]!.tokenEndpointAuthMethod, 'none', 'a public client without a secret loads');
});

t.test('a broken client hides none of the other clients\' problems', async (t) => {
  t.same(problemsOf(withClients(
    client({ redirectUris: ['https://a.example/cb#frag'], mfa: 'sometimes' }),
    client({ clientId: 'b', clientSecret: 'short' }),
  )), [
    '/oidc/clients/0/mfa: must be one of: required, optional, off',
    '/oidc/clients/1/clientSecret: must be at least 16 characters',
    '/oidc/clients/0/redirectUris/0: must not contain a fragment (#…)',
  ]);
});

t.test('clientSecretFile: read into clientSecret; unreadable or doubled is reported', async (t) => {
  const dir = t.testdir({ secret: 'file-client-secret-0123456789\n' });
  const c = loadConfig(withClients(client({ clientSecret: undefined, clientSecretFile: join(dir, 'secret') })));
  t.equal(c.oidc.clients[0]!.clientSecret, 'file-client-secret-0123456789');
  t.same(problemsOf(withClients(client({ clientSecret: undefined, clientSecretFile: join(dir, 'missing') }))), [
    '/oidc/clients/0/clientSecretFile: cannot read the file it names (no such file)',
  ], 'without a follow-on "needs clientSecret"');
  t.same(problemsOf(withClients(client({ clientSecretFile: join(dir, 'secret') }))), [
    '/oidc/clients/0/clientSecret: set clientSecret or clientSecretFile, not both',
  ]);
});

t.test('a schema problem does not stop the cross-field rules from reporting theirs', async (t) => {
  t.same(problemsOf({ env: { GATEHOUSE_MODE: 'production', PORT: '-1', GATEHOUSE_MFA__FACTORS: 'duo', DUO_CLIENT_ID: 'short' } }).map((p) => p.split(' ')[0]), [
    '/server/port', '/mfa/duo/clientId', '/secret', '/server/issuer', '/mfa/duo/clientSecret', '/mfa/duo/apiHost',
  ]);
});
