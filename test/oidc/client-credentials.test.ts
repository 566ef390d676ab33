// Client credentials, introspection and revocation: JWT access tokens for the gateway's API resource,
// tokens visible and revocable only by the client they were issued to.
import t from 'tap';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetTokens, oauthFailure } from '../helpers/oidc.ts';

const otherClient = {
  clientId: 'other-service', clientSecret: 'other-service-secret-0123456789ab', redirectUris: ['http://127.0.0.1:9995/cb'],
  grantTypes: ['authorization_code', 'client_credentials'], firstParty: true, mfa: 'off',
};
const codeOnly = {
  clientId: 'code-only', clientSecret: 'code-only-secret-0123456789abcdef', redirectUris: ['http://127.0.0.1:9994/cb'],
  grantTypes: ['authorization_code'], firstParty: true, mfa: 'off',
};

const basic = (c: { clientId: string; clientSecret: string }) => `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;

t.test('client credentials, introspection, revocation', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, otherClient, codeOnly] } } });
  await addUser(gw);
  const rp = await discover(gw);
  const other = await discover(gw, otherClient);
  const jwks = jose.createRemoteJWKSet(new URL(`${gw.url}/oidc/jwks`));

  t.test('a JWT access token for <issuer>/api, signed ES256, without a refresh token', async (t) => {
    const tokens = await client.clientCredentialsGrant(rp, { scope: 'api' });
    t.equal(tokens.token_type.toLowerCase(), 'bearer');
    t.equal(tokens.refresh_token, undefined, 'no refresh token');
    t.equal(tokens.id_token, undefined, 'no ID token');
    t.type(tokens.expires_in, 'number');
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, {
      issuer: gw.url, audience: `${gw.url}/api`, algorithms: ['ES256'], typ: 'at+jwt',
    });
    t.equal(protectedHeader.alg, 'ES256');
    t.equal(payload.client_id, confidentialClient.clientId);
    t.equal(payload.aud, `${gw.url}/api`);
    t.notOk(payload.sub && payload.sub !== confidentialClient.clientId, 'no end-user subject');
    t.ok(payload.exp! - payload.iat! <= gw.config.oidc.accessTokenTtlSeconds, 'lifetime from config');

    // Self-contained: the resource server verifies it against the JWKS; oidc-provider does not introspect it.
    t.same(await oauthFailure(client.tokenIntrospection(rp, tokens.access_token)), { error: 'unsupported_token_type', status: 400 }, 'JWTs are verified, not introspected');

    const plain = await client.clientCredentialsGrant(rp);
    const decoded = jose.decodeJwt(plain.access_token);
    t.equal(decoded.aud, `${gw.url}/api`, 'the API resource is the default audience');
  });

  t.test('only clients allowed the grant, with their own secret', async (t) => {
    const res = await fetch(`${gw.url}/oidc/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(codeOnly) },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    t.equal(res.status, 400);
    // oidc-provider answers invalid_request here (RFC 6749 would say unauthorized_client); either way, no token.
    t.same(await res.json(), { error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    const bad = await fetch(`${gw.url}/oidc/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic({ ...confidentialClient, clientSecret: 'x'.repeat(32) }) },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    t.equal(bad.status, 401);
    t.equal((await bad.json() as { error: string }).error, 'invalid_client');
    const foreign = await fetch(`${gw.url}/oidc/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(confidentialClient) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://elsewhere.example/api' }),
    });
    t.equal(foreign.status, 400);
    t.equal((await foreign.json() as { error: string }).error, 'invalid_target', 'no tokens for unknown resources');
  });

  t.test('introspection: active, then inactive after revocation', async (t) => {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery');
    const at = await client.tokenIntrospection(rp, tokens.access_token);
    t.equal(at.active, true, 'access token active');
    t.equal(at.client_id, confidentialClient.clientId);
    t.match(at.scope, /openid/);
    const rt = await client.tokenIntrospection(rp, tokens.refresh_token!);
    t.equal(rt.active, true, 'refresh token active');

    await client.tokenRevocation(rp, tokens.access_token);
    t.equal((await client.tokenIntrospection(rp, tokens.access_token)).active, false, 'revoked access token inactive');

    await client.tokenRevocation(rp, tokens.refresh_token!);
    t.equal((await client.tokenIntrospection(rp, tokens.refresh_token!)).active, false, 'revoked refresh token inactive');
    t.equal((await oauthFailure(client.refreshTokenGrant(rp, tokens.refresh_token!)))?.error, 'invalid_grant', 'revoked refresh token cannot be used');
    t.equal((await client.tokenIntrospection(rp, 'never-issued')).active, false, 'unknown token inactive');
  });

  t.test('revoking a refresh token ends the grant\'s other tokens too', async (t) => {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery');
    await client.tokenRevocation(rp, tokens.refresh_token!);
    t.equal((await client.tokenIntrospection(rp, tokens.access_token)).active, false, 'the access token of the grant is gone');
  });

  t.test('a client can neither introspect nor revoke another client\'s tokens', async (t) => {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery');
    const seen = await client.tokenIntrospection(other, tokens.access_token);
    t.equal(seen.active, false, 'another client learns nothing');
    t.equal(seen.sub, undefined);
    await client.tokenRevocation(other, tokens.refresh_token!).catch(() => {});
    t.equal((await client.tokenIntrospection(rp, tokens.refresh_token!)).active, true, 'the refresh token survives another client\'s revocation');
    t.equal((await client.tokenIntrospection(rp, tokens.access_token)).active, true, 'so does the access token');
  });

  t.test('introspection requires client authentication', async (t) => {
    const res = await fetch(`${gw.url}/oidc/token/introspection`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: 'x' }),
    });
    t.equal(res.status, 400);
    t.equal((await res.json() as { error: string }).error, 'invalid_request');
  });
});
