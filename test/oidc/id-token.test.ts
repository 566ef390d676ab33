// OpenID Foundation Basic OP checks on the tokens: nonce, state, iss, signature, acr/amr, auth_time,
// one-time codes and refresh.
import t from 'tap';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetCallback, loginAndGetTokens, oauthFailure } from '../helpers/oidc.ts';
import { ACR_PASSWORD } from '../../src/mfa/amr.ts';

t.test('ID token and code exchange', async (t) => {
  const gw = await startGateway(t);
  const user = await addUser(gw);
  const rp = await discover(gw);
  const jwks = jose.createRemoteJWKSet(new URL(`${gw.url}/oidc/jwks`));

  t.test('nonce, state, iss and the signature', async (t) => {
    const before = Math.floor(Date.now() / 1000);
    const r = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid profile' });
    t.equal(r.callback.searchParams.get('state'), r.state, 'state returned unchanged');
    t.equal(r.callback.searchParams.get('iss'), gw.url, 'iss in the authorization response (RFC 9207)');
    const tokens = await client.authorizationCodeGrant(rp, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token!, jwks, { issuer: gw.url, audience: confidentialClient.clientId });
    t.equal(protectedHeader.alg, 'ES256');
    t.equal(payload.nonce, r.nonce, 'nonce returned in the ID token');
    t.equal(payload.sub, user.id);
    t.equal(payload.acr, ACR_PASSWORD, 'acr: password over TLS');
    t.same(payload.amr, ['pwd'], 'amr: password only');
    t.type(payload.auth_time, 'number');
    t.ok((payload.auth_time as number) >= before - 1 && (payload.auth_time as number) <= Math.ceil(Date.now() / 1000), 'auth_time is the login time');
    t.equal(tokens.token_type.toLowerCase(), 'bearer');
  });

  t.test('an authorization code is one-time; reuse revokes what it issued', async (t) => {
    const r = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid email' });
    const checks = { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce };
    const first = await client.authorizationCodeGrant(rp, r.callback, checks);
    t.equal((await client.fetchUserInfo(rp, first.access_token, user.id)).email, 'alice@example.com', 'first exchange works');
    t.equal((await oauthFailure(client.authorizationCodeGrant(rp, r.callback, checks)))?.error, 'invalid_grant', 'second exchange refused');
    t.equal((await oauthFailure(client.fetchUserInfo(rp, first.access_token, user.id)))?.status, 401, 'the access token from the first exchange is revoked');
  });

  t.test('a code is bound to its client and redirect_uri', async (t) => {
    const r = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid' });
    const res = await fetch(`${gw.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: r.callback.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:9999/other', code_verifier: r.verifier }),
    });
    t.equal(res.status, 400);
    t.equal((await res.json() as { error: string }).error, 'invalid_grant', 'a different redirect_uri');
    const wrongSecret = await fetch(`${gw.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidentialClient.clientId}:wrong-secret-0123456789abcdef`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: r.callback.searchParams.get('code')!, redirect_uri: r.redirectUri, code_verifier: r.verifier }),
    });
    t.equal(wrongSecret.status, 401);
    t.equal((await wrongSecret.json() as { error: string }).error, 'invalid_client', 'a wrong client secret');
  });

  t.test('refresh grant: new tokens, same subject, the old refresh token is spent', async (t) => {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery');
    t.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    t.not(refreshed.access_token, tokens.access_token);
    t.equal(refreshed.claims()?.sub, user.id);
    t.same(refreshed.claims()?.amr, ['pwd'], 'amr carried over');
    t.equal((await client.fetchUserInfo(rp, refreshed.access_token, user.id)).sub, user.id, 'new access token works');
    t.equal((await oauthFailure(client.refreshTokenGrant(rp, tokens.refresh_token!)))?.error, 'invalid_grant', 'rotated refresh token cannot be reused');
  });

  t.test('no refresh token without offline_access', async (t) => {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid profile' });
    t.equal(tokens.refresh_token, undefined);
  });
});
