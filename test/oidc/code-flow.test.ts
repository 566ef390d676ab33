import t from 'tap';
import * as client from 'openid-client';
import { startGateway } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetTokens } from '../helpers/oidc.ts';

t.test('authorization code + PKCE with openid-client: ID token claims, userinfo, refresh', async (t) => {
  const gw = await startGateway(t);
  const user = await addUser(gw);
  const rp = await discover(gw);
  const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery');
  const claims = tokens.claims()!;
  t.equal(claims.sub, user.id, 'sub is the stable user id, not the username');
  t.equal(claims.preferred_username, 'alice');
  t.same(claims.amr, ['pwd']);
  t.ok(tokens.refresh_token, 'refresh token issued for offline_access');
  const info = await client.fetchUserInfo(rp, tokens.access_token, user.id);
  t.equal(info.email, 'alice@example.com');
  t.same(info.groups, ['staff', 'admins']);
  const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
  t.not(refreshed.refresh_token, tokens.refresh_token, 'refresh token rotated');
});
