// UserInfo: GET with a bearer header, POST with the token in the body; only the claims of the granted scopes.
import t from 'tap';
import * as client from 'openid-client';
import { startGateway } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetTokens } from '../helpers/oidc.ts';

t.test('userinfo', async (t) => {
  const gw = await startGateway(t);
  const user = await addUser(gw);
  const rp = await discover(gw);
  const userinfo = `${gw.url}/oidc/me`;

  const tokensFor = async (scope: string) => (await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope })).tokens;

  t.test('GET with a bearer header; claims follow the scopes', async (t) => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['openid', { sub: user.id }],
      ['openid email', { sub: user.id, email: 'alice@example.com', email_verified: true }],
      ['openid profile', { sub: user.id, name: 'Alice Example', preferred_username: 'alice' }],
      ['openid groups', { sub: user.id, groups: ['staff', 'admins'] }],
    ];
    for (const [scope, expected] of cases) {
      const { access_token } = await tokensFor(scope);
      const res = await fetch(userinfo, { headers: { authorization: `Bearer ${access_token}` } });
      t.equal(res.status, 200, scope);
      t.match(res.headers.get('content-type'), /^application\/json/);
      t.same(await res.json(), expected, `scope "${scope}" → exactly ${Object.keys(expected).join(', ')}`);
    }
  });

  t.test('the ID token for scope openid carries no profile or email claims either', async (t) => {
    const tokens = await tokensFor('openid');
    const claims = tokens.claims()!;
    for (const c of ['email', 'email_verified', 'name', 'preferred_username', 'groups']) t.notOk(c in claims, `no ${c}`);
  });

  t.test('POST with the access token in the form body', async (t) => {
    const { access_token } = await tokensFor('openid email');
    const res = await fetch(userinfo, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token }),
    });
    t.equal(res.status, 200);
    t.same(await res.json(), { sub: user.id, email: 'alice@example.com', email_verified: true });
    const viaClient = await client.fetchUserInfo(rp, access_token, user.id);
    t.equal(viaClient.email, 'alice@example.com', 'openid-client agrees');
  });

  t.test('missing, wrong and revoked tokens', async (t) => {
    const none = await fetch(userinfo);
    t.equal(none.status, 401, 'no token: 401 (RFC 6750)');
    t.match(none.headers.get('www-authenticate'), /^Bearer /);
    const wrong = await fetch(userinfo, { headers: { authorization: 'Bearer not-a-real-token' } });
    t.equal(wrong.status, 401);
    t.match(wrong.headers.get('www-authenticate'), /error="invalid_token"/);
    const { access_token } = await tokensFor('openid');
    await client.tokenRevocation(rp, access_token);
    const revoked = await fetch(userinfo, { headers: { authorization: `Bearer ${access_token}` } });
    t.equal(revoked.status, 401, 'revoked token refused');
  });

  t.test('a disabled user\'s token no longer reads userinfo', async (t) => {
    const bob = await addUser(gw, 'bob', 'bob password 1234');
    const { tokens } = await loginAndGetTokens(gw, rp, 'bob', 'bob password 1234', { scope: 'openid' });
    await gw.services.users.setDisabled(bob.id, true);
    const res = await fetch(userinfo, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    t.equal(res.status, 401);
    t.match(res.headers.get('www-authenticate'), /invalid_token/);
  });
});
