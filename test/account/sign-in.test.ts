// Signing in to /account: the portal is an OIDC client of the gateway itself (code flow with PKCE through
// the normal login and MFA), its state lives in a PostgreSQL-backed session behind an HttpOnly cookie.
import t from 'tap';
import { Browser, cookieValue, readForm } from '../helpers/browser.ts';
import { startGateway } from '../helpers/gateway.ts';
import { CSP } from '../../src/platform/security-headers.ts';
import { ACR_MFA } from '../../src/mfa/amr.ts';
import { checkPageRules, open, portalGateway, submit } from './helpers.ts';

t.test('sign-in through the gateway: PKCE code flow, login + TOTP, back at /account', async (t) => {
  const { gw, user, secret } = await portalGateway(t);
  const b = new Browser();
  const first = await b.get(`${gw.url}/account`);
  t.equal(first.status, 303, 'not signed in: sent to the authorization endpoint');
  const auth = new URL(first.headers.get('location')!);
  t.equal(auth.origin + auth.pathname, `${gw.url}/oidc/auth`);
  t.match(Object.fromEntries(auth.searchParams), {
    client_id: 'gatehouse-account', redirect_uri: `${gw.url}/account/callback`, response_type: 'code', scope: 'openid',
    code_challenge_method: 'S256', code_challenge: /^[A-Za-z0-9_-]{43}$/, state: /^[A-Za-z0-9_-]{43}$/, nonce: /^[A-Za-z0-9_-]{43}$/,
  });
  t.notOk(auth.searchParams.has('max_age'), 'a plain sign-in is not a step-up');
  const setCookie = first.headers.getSetCookie().find((c) => c.startsWith('gh_account='));
  t.ok(setCookie, 'gh_account cookie on an http issuer');
  t.match(setCookie, /; Path=\/; HttpOnly; SameSite=Lax$/, 'HttpOnly, SameSite=Lax, no Secure on http');

  const home = await open(gw, b, '/account', { secret });
  t.equal(home.url.href, `${gw.url}/account`, 'back where the user started');
  t.equal(home.status, 200);
  t.equal(home.res.headers.get('content-security-policy'), CSP);
  t.equal(home.res.headers.get('cache-control'), 'no-store');
  checkPageRules(t, home.page, 'home');
  t.match(home.page, /Signed in as <strong id="username">alice<\/strong>/);
  t.match(home.page, /Authenticator app: <strong>set up<\/strong>/);
  t.match(home.page, /<strong id="recovery-remaining">10<\/strong> unused/);
  t.match(home.page, /Used last \(offered first when you sign in\): <strong>Authenticator app<\/strong>/, 'preferred factor');
  t.match(home.page, /<li><time datetime="[^"]+">[^<]+ UTC<\/time> · Your account · authenticator app · succeeded · from 127\.0\.0\.1<\/li><li><time datetime="[^"]+">[^<]+<\/time> · Your account · password · succeeded · from 127\.0\.0\.1<\/li><\/ul>/,
    'recent sign-ins from the audit log: time, application, factor, address');

  const rows = await gw.services.db.query<{ user_id: string; data: Record<string, unknown> }>('SELECT user_id, data FROM account_sessions');
  t.equal(rows.rowCount, 1, 'one portal session, in the database');
  t.equal(rows.rows[0]!.user_id, user.id);
  t.match(rows.rows[0]!.data, { userId: user.id, amr: ['pwd', 'otp', 'mfa'], mfaAt: Number, sessionUid: String, csrf: String, });
  t.notOk(rows.rows[0]!.data.pending, 'nothing pending once signed in');

  const callback = (await gw.services.db.query<{ payload: { accountId: string } }>(`SELECT payload FROM oidc_models WHERE model = 'AuthorizationCode'`)).rows;
  t.equal(callback.length, 1, 'the code was issued by the real provider');
  t.equal(callback[0]!.payload.accountId, user.id);

  const again = await b.get(`${gw.url}/account`);
  t.equal(again.status, 200, 'the session cookie keeps the user signed in');

  t.test('a forged or replayed callback is refused', async (t) => {
    const forged = await b.get(`${gw.url}/account/callback?state=not-a-state&code=x`);
    t.equal(forged.status, 400);
    t.match(await forged.text(), /GW_ACCOUNT_STATE/);
    const other = new Browser();
    const start = await other.get(`${gw.url}/account`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const stolen = await b.get(`${gw.url}/account/callback?state=${state}&code=x`);
    t.equal(stolen.status, 400, 'a state started in another browser is not valid here');
  });

  t.test('sign out: portal session gone, then RP-initiated logout of the gateway session', async (t) => {
    const res = await submit(gw, b, (await (await b.get(`${gw.url}/account`)).text()), '/account/sign-out');
    t.equal(res.status, 303);
    const end = new URL(res.headers.get('location')!);
    t.equal(end.pathname, '/oidc/session/end');
    t.equal(end.searchParams.get('post_logout_redirect_uri'), `${gw.url}/account/signed-out`);
    t.ok(end.searchParams.get('id_token_hint'));
    t.equal((await gw.services.db.query('SELECT 1 FROM account_sessions WHERE user_id = $1', [user.id])).rowCount, 0);
    const confirm = await b.get(end);
    const page = await confirm.text();
    t.match(page, /<strong>Gatehouse account<\/strong> asks to sign you out/, 'the provider asks the user to confirm');
    const form = readForm(page, '/session/end/confirm');
    const done = await b.follow(await b.post(new URL(form.action, end), { ...form.fields, logout: 'yes' }), new URL(form.action, end));
    t.equal(done.url.href, `${gw.url}/account/signed-out`);
    t.match(await done.res.text(), /You signed out of your account\./);
    t.equal((await gw.services.db.query(`SELECT 1 FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1`, [user.id])).rowCount, 0,
      'the gateway session ended too');
    t.equal((await b.get(`${gw.url}/account`)).status, 303, 'signed out of the portal');
  });
});

t.test('cancelling the sign-in comes back to a clear page, not an error', async (t) => {
  const gw = await startGateway(t);
  const b = new Browser();
  const start = `${gw.url}/account`;
  const { res, url } = await b.follow(await b.get(start), start);
  const login = await res.text();
  t.match(login, /to continue to <strong>Gatehouse account<\/strong>/, 'the login page names the portal');
  const abort = readForm(login, '/abort');
  const back = await b.follow(await b.post(new URL(abort.action, url), abort.fields), new URL(abort.action, url));
  t.equal(back.url.pathname, '/account/callback');
  t.equal(back.url.searchParams.get('error'), 'access_denied');
  t.equal(back.res.status, 200);
  t.match(await back.res.text(), /<title>Sign-in cancelled · Gatehouse<\/title>[\s\S]*GW_ACCOUNT_CANCELLED/);
});

t.test('an https issuer: __Host- cookie, Secure even when TLS ends at a proxy', async (t) => {
  const gw = await startGateway(t, { issuer: 'https://sso.example.test' });
  const res = await fetch(`http://127.0.0.1:${gw.config.server.port}/account`, { redirect: 'manual' });
  t.equal(res.status, 303);
  t.equal(new URL(res.headers.get('location')!).origin, 'https://sso.example.test', 'links follow the issuer');
  const c = res.headers.getSetCookie();
  t.equal(c.length, 1);
  t.match(c[0], /^__Host-gh_account=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  t.notMatch(c[0], /Domain=/i, '__Host- cookies carry no Domain');
});

t.test('a step-up sends max_age=0 and the MFA acr; the portal session follows the gateway session', async (t) => {
  // Only the URL is checked here; the full step-up is in password.test.ts.
  const { gw, user, secret } = await portalGateway(t, { overrides: { account: { mfa: 'off' } } });
  const b = new Browser();
  const home = await open(gw, b, '/account', { secret });
  t.equal(home.status, 200, 'account.mfa=off: password only');
  t.match((await gw.services.db.query<{ data: { amr: string[] } }>('SELECT data FROM account_sessions WHERE user_id = $1', [user.id])).rows[0]!.data.amr, ['pwd']);
  const res = await b.get(`${gw.url}/account/password`);
  t.equal(res.status, 303, `step-up redirect ${res.status === 303 ? '' : await res.text()}`);
  const auth = new URL(res.headers.get('location')!);
  t.match(Object.fromEntries(auth.searchParams), { max_age: '0', acr_values: ACR_MFA, login_hint: 'alice', client_id: 'gatehouse-account' });
  t.ok(cookieValue(b, gw.url, 'gh_account'));
  t.equal((await b.get(`${gw.url}/account`)).status, 200);
  // The gateway session ends elsewhere (logout from an application, an admin reset): the portal follows.
  await gw.services.db.query(`DELETE FROM oidc_models WHERE model = 'Session'`);
  t.equal((await b.get(`${gw.url}/account`)).status, 303, 'no gateway session, no portal session');
});
