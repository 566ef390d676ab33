// "Sign out everywhere": every gateway session of the user (this browser's too), every token issued to
// them, and every portal session end; a fresh second factor is demanded first.
import t from 'tap';
import * as client from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { discover, loginAndGetTokens, startAuthorize } from '../helpers/oidc.ts';
import { accountCount, ageMfa, auditOf, open, PASSWORD, portalGateway, signedInBrowser, submit } from './helpers.ts';

t.test('sign out everywhere', async (t) => {
  const { gw, user, secret } = await portalGateway(t);
  const rp = await discover(gw);
  const b2 = new Browser();
  const { tokens } = await loginAndGetTokens(gw, rp, 'alice', PASSWORD, { browser: b2 });
  const { b: p2 } = await signedInBrowser(gw, secret);
  const { b } = await signedInBrowser(gw, secret);

  // What a SAML SP signed in through b2's gateway session would have left (protocols/saml/store.ts).
  const [b2Session] = (await gw.services.db.query<{ uid: string }>(`SELECT uid FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1 LIMIT 1`, [user.id])).rows;
  await gw.services.db.query(`INSERT INTO saml_sessions (session_uid, sp_entity_id, user_id, name_id, name_id_format, session_index, expires_at)
    VALUES ($1, 'https://sp.example.test/saml', $2, 'nid', 'persistent', 'sidx', now() + interval '1 hour')`, [b2Session!.uid, user.id]);

  await ageMfa(gw, user.id, gw.config.mfa.freshSeconds + 60);
  const stale = await b.get(`${gw.url}/account/sign-out-everywhere`);
  t.equal(stale.status, 303, 'stale second factor: step-up first');
  t.equal(new URL(stale.headers.get('location')!).searchParams.get('max_age'), '0');
  const confirm = await open(gw, b, '/account/sign-out-everywhere', { secret });
  t.equal(confirm.url.pathname, '/account/sign-out-everywhere');
  t.match(confirm.page, /id="confirm"/);

  t.equal((await b.post(`${gw.url}/account/sign-out-everywhere`, { csrf: 'forged' })).status, 403, 'CSRF refused');
  const b2Still = await startAuthorize(gw, rp, { browser: b2, scope: 'openid', extra: { prompt: 'none' } });
  t.ok(b2Still.at.searchParams.get('code'), 'nothing ended by the refused post');

  const res = await submit(gw, b, confirm.page, '/account/sign-out-everywhere');
  t.equal(res.status, 200);
  t.match(await res.text(), /You are signed out on every device and browser\./);
  const [ok] = (await auditOf(gw, user.id, 'account.sign_out_everywhere')).filter((a) => a.outcome === 'success');
  t.match(ok, { detail: { sessions: 3, portalSessions: 2 } }, 'three gateway sessions and two portal sessions ended');
  t.equal(await accountCount(gw, 'sign_out_everywhere', 'success'), 1);

  for (const [name, browser] of [['this browser', b], ['the application\'s browser', b2]] as const) {
    const sso = await startAuthorize(gw, rp, { browser, scope: 'openid', extra: { prompt: 'none' } });
    t.equal(sso.at.searchParams.get('error'), 'login_required', `${name}: no SSO session left`);
  }
  const refused = await client.refreshTokenGrant(rp, tokens.refresh_token!).then(() => undefined, (e: { error?: string }) => e);
  t.equal(refused?.error, 'invalid_grant', 'refresh token revoked');
  t.equal((await b.get(`${gw.url}/account`)).status, 303, 'this portal session ended');
  t.equal((await p2.get(`${gw.url}/account`)).status, 303, 'the other portal session ended');
  t.equal((await gw.services.db.query('SELECT 1 FROM account_sessions WHERE user_id = $1', [user.id])).rowCount, 0);
  t.equal((await gw.services.db.query('SELECT 1 FROM saml_sessions WHERE user_id = $1', [user.id])).rowCount, 0, 'the SAML session records went with the sessions');
});
