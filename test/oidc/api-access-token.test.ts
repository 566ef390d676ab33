// Access tokens for the gateway's API resource (<issuer>/api) in the authorization code flow: asked with
// resource= (RFC 8707) or made the client's default with accessTokenAudience: api. Such a token is a JWT
// (RFC 9068) an API verifies against the JWKS; it is not a userinfo token, and no row is stored for it.
import t from 'tap';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { confidentialClient, startGateway, type Gateway } from '../helpers/gateway.ts';
import { addUser, authorizeUrl, discover, loginAndGetCallback, loginAndGetTokens, oauthFailure, redirectParams, startAuthorize, submitLogin, thirdPartyClient } from '../helpers/oidc.ts';
import { Browser, readForm } from '../helpers/browser.ts';

const PASSWORD = 'correct horse battery';
const apiClient = { ...confidentialClient, clientId: 'api-app', clientSecret: 'api-app-secret-0123456789abcdef', accessTokenAudience: 'api' };
const opaqueClient = { ...confidentialClient, clientId: 'opaque-app', clientSecret: 'opaque-app-secret-0123456789abcd', accessTokenFormat: 'opaque' };

const storedAccessTokens = async (gw: Gateway) =>
  Number((await gw.services.db.query<{ n: string }>(`SELECT count(*) AS n FROM oidc_models WHERE model = 'AccessToken'`)).rows[0]!.n);

t.test('API access tokens in the code flow', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, apiClient, opaqueClient] } } });
  const user = await addUser(gw);
  const api = `${gw.url}/api`;
  const jwks = createRemoteJWKSet(new URL(`${gw.url}/oidc/jwks`));
  const verifyForApi = (token: string) => jwtVerify(token, jwks, { issuer: gw.url, audience: api, typ: 'at+jwt' });

  t.test('resource= asks for a JWT for the API; userinfo refuses it; a refresh keeps the resource', async (t) => {
    const rp = await discover(gw);
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', PASSWORD, { scope: 'openid email api offline_access', extra: { resource: api } });
    t.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
    const { payload } = await verifyForApi(tokens.access_token);
    t.equal(payload.sub, user.id);
    t.equal(payload.client_id, confidentialClient.clientId);
    t.equal(payload.scope, 'api', 'only the resource\'s scope: no OIDC scopes in an API token');
    t.equal(tokens.claims()!.email, 'alice@example.com', 'the ID token still carries the granted claims');
    const me = await fetch(`${gw.url}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    t.equal(me.status, 401, 'an API token is not a userinfo token');

    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    const again = await verifyForApi(refreshed.access_token);
    t.equal(again.payload.sub, user.id, 'the refresh grant issues a token for the granted resource without resource=');
    t.not(refreshed.refresh_token, tokens.refresh_token, 'and rotates the refresh token as usual');
  });

  t.test('accessTokenAudience: api makes it the default, and no access token row is stored', async (t) => {
    const rp = await discover(gw, apiClient);
    const before = await storedAccessTokens(gw);
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', PASSWORD, { scope: 'openid profile api offline_access' });
    const { payload } = await verifyForApi(tokens.access_token);
    t.equal(payload.client_id, apiClient.clientId);
    t.equal(payload.scope, 'api');
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    await verifyForApi(refreshed.access_token);
    t.equal(await storedAccessTokens(gw), before, 'self-contained tokens: nothing written for them');
  });

  t.test('the default client keeps opaque userinfo tokens', async (t) => {
    const rp = await discover(gw);
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', PASSWORD, { scope: 'openid email' });
    t.notOk(tokens.access_token.includes('.'), 'opaque');
    const me = await fetch(`${gw.url}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    t.equal(me.status, 200);
  });

  t.test('accessTokenFormat: opaque gives an opaque API token that introspection describes', async (t) => {
    const rp = await discover(gw, opaqueClient);
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', PASSWORD, { scope: 'openid api', extra: { resource: api } });
    t.notOk(tokens.access_token.includes('.'), 'opaque');
    const info = await client.tokenIntrospection(rp, tokens.access_token);
    t.equal(info.active, true);
    t.equal(info.aud, api);
    t.equal(info.sub, user.id);
  });

  t.test('a resource the gateway does not serve is refused at the authorization request', async (t) => {
    const browser = new Browser();
    for (const resource of ['https://elsewhere.example/api', 'not-a-uri', `${api}#frag`]) {
      const res = await browser.get(authorizeUrl(gw, { resource }));
      t.equal(res.status, 303, resource);
      const p = redirectParams(res.headers.get('location')!);
      t.equal(p.get('error'), 'invalid_target', `${resource}: invalid_target to the client`);
    }
  });

  t.test('a token request cannot widen the resource its code was granted for', async (t) => {
    const rp = await discover(gw);
    const { callback, verifier, state, nonce } = await loginAndGetCallback(gw, rp, 'alice', PASSWORD, { scope: 'openid' });
    const err = await oauthFailure(client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, { resource: api }));
    t.equal(err?.error, 'invalid_target', 'resource= at the token endpoint must have been granted');
  });
});

t.test('a third-party client asking for the API names it on the consent page', async (t) => {
  const partner = { ...thirdPartyClient };
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, partner] } } });
  await addUser(gw);
  const rp = await discover(gw, partner);
  const api = `${gw.url}/api`;
  const REDIRECT = partner.redirectUris[0]!;
  const s = await startAuthorize(gw, rp, { scope: 'openid api', redirectUri: REDIRECT, extra: { resource: api } });
  const posted = await submitLogin(s.browser, gw, await s.res.text(), 'alice', PASSWORD);
  const { res } = await s.browser.follow(posted, gw.url, (u) => u.href.startsWith(REDIRECT));
  t.equal(res.status, 200, 'the consent page');
  const page = await res.text();
  t.match(page, 'Call the APIs behind this sign-in as you', 'the API scope in words');
  t.match(page, 'Know who you are');
  const allow = readForm(page, '/confirm');
  const back = await s.browser.post(new URL(allow.action, gw.url), allow.fields);
  const { url } = await s.browser.follow(back, gw.url, (u) => u.href.startsWith(REDIRECT));
  const tokens = await client.authorizationCodeGrant(rp, url, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${gw.url}/oidc/jwks`)), { audience: api, typ: 'at+jwt' });
  t.equal(payload.scope, 'api', 'the consented API scope is in the token');

  const again = await startAuthorize(gw, rp, { scope: 'openid api', redirectUri: REDIRECT, extra: { resource: api }, browser: s.browser });
  t.ok(again.at.href.startsWith(REDIRECT), 'consent remembered for the resource too');
});
