// PKCE (S256) is required for every client, confidential ones included; implicit and hybrid flows are off.
import t, { type Test } from 'tap';
import * as client from 'openid-client';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { addUser, authorizeUrl, discover, loginAndGetCallback, oauthFailure, redirectParams } from '../helpers/oidc.ts';

const publicClient = {
  clientId: 'spa', name: 'Single-page app', redirectUris: ['http://127.0.0.1:9997/cb'],
  tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], firstParty: true, mfa: 'off',
};

t.test('PKCE and response types', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, publicClient] } } });
  await addUser(gw);

  /** Sends an authorization request and returns the error the RP receives at its redirect URI. */
  const rpError = async (t: Test, params: Record<string, string | undefined>, clientId = confidentialClient.clientId, redirectUri = confidentialClient.redirectUris[0]!) => {
    const res = await fetch(authorizeUrl(gw, { redirect_uri: redirectUri, ...params }, clientId), { redirect: 'manual' });
    t.equal(res.status, 303, 'redirected back to the RP');
    const location = res.headers.get('location')!;
    t.ok(location.startsWith(redirectUri), `to the registered redirect URI (${location})`);
    const p = redirectParams(location);
    t.notOk(p.get('code'), 'no code issued');
    t.notOk(p.get('id_token') || p.get('access_token'), 'no token in the front channel');
    t.equal(p.get('state'), 'st-123', 'state returned with the error');
    return { error: p.get('error'), description: p.get('error_description') };
  };

  for (const [name, clientId, redirectUri] of [
    ['confidential', confidentialClient.clientId, confidentialClient.redirectUris[0]!],
    ['public', publicClient.clientId, publicClient.redirectUris[0]!],
  ] as const) {
    t.test(`${name} client: missing code_challenge is refused`, async (t) => {
      const e = await rpError(t, { code_challenge: undefined, code_challenge_method: undefined }, clientId, redirectUri);
      t.equal(e.error, 'invalid_request');
      t.match(e.description, /PKCE/);
    });
    t.test(`${name} client: the plain method is refused`, async (t) => {
      const e = await rpError(t, { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }, clientId, redirectUri);
      t.equal(e.error, 'invalid_request');
      t.match(e.description, /code_challenge_method/);
    });
    t.test(`${name} client: a challenge without a method is refused (no silent plain)`, async (t) => {
      const e = await rpError(t, { code_challenge_method: undefined }, clientId, redirectUri);
      t.equal(e.error, 'invalid_request');
    });
  }

  for (const responseType of ['id_token', 'code id_token', 'token', 'id_token token', 'code token', 'none']) {
    t.test(`response_type=${responseType} is refused`, async (t) => {
      const e = await rpError(t, { response_type: responseType });
      t.equal(e.error, 'unsupported_response_type');
    });
  }

  t.test('the token endpoint checks the verifier', async (t) => {
    const rp = await discover(gw);
    const wrong = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid' });
    t.equal((await oauthFailure(client.authorizationCodeGrant(rp, wrong.callback, {
      pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: wrong.state, expectedNonce: wrong.nonce,
    })))?.error, 'invalid_grant', 'a wrong code_verifier');

    // Without any code_verifier (openid-client always sends one, so post the form by hand).
    const missing = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid' });
    const res = await fetch(`${gw.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: missing.callback.searchParams.get('code')!, redirect_uri: missing.redirectUri }),
    });
    t.equal(res.status, 400);
    t.equal((await res.json() as { error: string }).error, 'invalid_grant', 'a missing code_verifier');

    // The same flow with the right verifier works, for the public client too (no secret, PKCE only).
    const spa = await discover(gw, { clientId: publicClient.clientId });
    const ok = await loginAndGetCallback(gw, spa, 'alice', 'correct horse battery', { scope: 'openid', redirectUri: publicClient.redirectUris[0] });
    const tokens = await client.authorizationCodeGrant(spa, ok.callback, { pkceCodeVerifier: ok.verifier, expectedState: ok.state, expectedNonce: ok.nonce });
    t.ok(tokens.id_token, 'public client gets an ID token with the right verifier');
  });
});
