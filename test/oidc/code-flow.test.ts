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

// The account behind a token is read in the same statement as the token (users.ts ACCOUNT_JSON): what the
// refresh and userinfo answer must still be the account as it is now, and a disabled account gets nothing.
t.test('refresh and userinfo see the account as it is now: changed claims, then disabled', async (t) => {
  const gw = await startGateway(t);
  const user = await addUser(gw, 'dora');
  const rp = await discover(gw);
  const { tokens } = await loginAndGetTokens(gw, rp, 'dora', 'correct horse battery', { scope: 'openid profile email groups offline_access' });
  await gw.services.db.query(`UPDATE users SET email = 'dora@new.example', name = 'Dora N', groups = '{ops}' WHERE id = $1`, [user.id]);
  const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
  const claims = refreshed.claims()!;
  t.equal(claims.sub, user.id);
  t.equal(claims.email, 'dora@new.example', 'the refreshed ID token carries the current email');
  t.equal(claims.name, 'Dora N');
  t.same(claims.groups, ['ops']);
  const info = await client.fetchUserInfo(rp, refreshed.access_token, user.id);
  t.equal(info.email, 'dora@new.example', 'userinfo answers the current email');
  await gw.services.users.setDisabled(user.id, true);
  const denied = await client.refreshTokenGrant(rp, refreshed.refresh_token!).then(() => 'accepted', (e: { error?: string }) => e.error);
  t.equal(denied, 'invalid_grant', 'a disabled account cannot refresh');
  const res = await fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
  t.equal(res.status, 401, 'nor read userinfo');
});

t.test('a token whose account was deleted refreshes nothing', async (t) => {
  const gw = await startGateway(t);
  const user = await addUser(gw, 'emil');
  const rp = await discover(gw);
  const { tokens } = await loginAndGetTokens(gw, rp, 'emil', 'correct horse battery');
  await gw.services.db.query('DELETE FROM users WHERE id = $1', [user.id]);
  const denied = await client.refreshTokenGrant(rp, tokens.refresh_token!).then(() => 'accepted', (e: { error?: string }) => e.error);
  t.equal(denied, 'invalid_grant');
});
