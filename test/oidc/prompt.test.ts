// prompt, max_age and login_hint: when Gatehouse must (and must not) show the login page again.
import t, { type Test } from 'tap';
import * as client from 'openid-client';
import { startGateway } from '../helpers/gateway.ts';
import { Browser, cookieJar, cookieValue, readForm } from '../helpers/browser.ts';
import { addUser, discover, loginAndGetTokens, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import type { Gateway } from '../helpers/gateway.ts';

const SCOPE = 'openid profile email';

t.test('prompt, max_age, login_hint', async (t) => {
  const gw = await startGateway(t);
  const user = await addUser(gw);
  const rp = await discover(gw);

  /** A browser with a live SSO session for alice, and the auth_time of that login. */
  const signedIn = async () => {
    const browser = new Browser();
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: SCOPE, browser });
    return { browser, authTime: tokens.claims()!.auth_time! };
  };

  /** Completes the login page the browser is on and exchanges the code. */
  const finishLogin = async (t: Test, s: Awaited<ReturnType<typeof startAuthorize>>, page: string) => {
    const posted = await submitLogin(s.browser, gw, page, 'alice', 'correct horse battery');
    if (posted.status === 200) {
      // Another account is signed in in this browser: the resume (made in-process by the login POST,
      // src/interaction/resume-in-process.ts) answers with oidc-provider's self-posting logout form, whose
      // script the page's CSP must allow by its hash.
      const body = await posted.clone().text();
      t.match(body, /document\.forms\[0\]\.submit\(\)/, 'login accepted: the logout of the other account posts itself');
      t.match(posted.headers.get('content-security-policy'), /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'its script is allowed by hash');
    } else t.equal(posted.status, 303, 'login accepted');
    const { url } = await s.browser.followAutoPost(posted, gw.url, (u) => u.href.startsWith(s.redirectUri));
    return client.authorizationCodeGrant(rp, url, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  };

  t.test('prompt=none without a session: login_required at the redirect URI', async (t) => {
    const s = await startAuthorize(gw, rp, { scope: SCOPE, extra: { prompt: 'none' } });
    t.ok(s.at.href.startsWith(s.redirectUri), 'straight back to the RP, no page');
    t.equal(s.at.searchParams.get('error'), 'login_required');
    t.equal(s.at.searchParams.get('state'), s.state);
    t.notOk(s.at.searchParams.get('code'));
  });

  t.test('prompt=none with a session: a code without any page', async (t) => {
    const { browser } = await signedIn();
    const first = await browser.get(await authUrl(gw, rp, { prompt: 'none' }));
    t.equal(first.status, 303);
    // oidc-provider resumes through its own endpoint; no Gatehouse page is rendered on the way.
    const { res, url } = await browser.follow(first, gw.url, (u) => u.href.startsWith('http://127.0.0.1:9999/cb'));
    t.ok(url.href.startsWith('http://127.0.0.1:9999/cb'), `ends at the RP (${url.href})`);
    t.ok(url.searchParams.get('code'), 'code issued');
    t.notOk(url.searchParams.get('error'));
    t.not(res.status, 200, 'no HTML page was shown');
  });

  t.test('prompt=login with a session: the login page again, and a new session id', async (t) => {
    const { browser, authTime } = await signedIn();
    const sessionBefore = cookieValue(browser, gw.url, '_session');
    t.ok(sessionBefore, 'SSO session cookie present');
    await ageSession(gw, 100);
    const s = await startAuthorize(gw, rp, { scope: SCOPE, browser, extra: { prompt: 'login' } });
    t.equal(s.res.status, 200);
    t.ok(s.interaction, 'login page shown despite the session');
    const page = await s.res.text();
    t.match(page, 'name="password"');
    const before = Math.floor(Date.now() / 1000);
    const tokens = await finishLogin(t, s, page);
    t.ok(tokens.claims()!.auth_time! >= before && before > authTime - 100, 'auth_time is the new login, not the (aged) old one');
    const sessionAfter = cookieValue(browser, gw.url, '_session');
    t.ok(sessionAfter);
    t.not(sessionAfter, sessionBefore, 'the session id changed at login (no fixation)');
  });

  // Regression: revokeByGrantId once deleted the Interaction (which carries grantId) too, so switching
  // accounts in one browser ended on "interaction session not found".
  t.test('a planted session cookie is worthless after the victim signs in (fixation)', async (t) => {
    // Mallory signs in, then plants her session cookies in Alice's browser; Alice signs in (prompt=login).
    await addUser(gw, 'mallory', 'mallory password 123');
    const mallory = new Browser();
    await loginAndGetTokens(gw, rp, 'mallory', 'mallory password 123', { scope: SCOPE, browser: mallory });
    const planted = new Map(cookieJar(mallory, gw.url));
    t.ok(planted.get('_session'), 'Mallory has a session cookie to plant');
    const alice = new Browser();
    for (const [k, v] of planted) cookieJar(alice, gw.url).set(k, v);
    const s = await startAuthorize(gw, rp, { scope: SCOPE, browser: alice, extra: { prompt: 'login' } });
    const tokens = await finishLogin(t, s, await s.res.text());
    t.equal(tokens.claims()!.sub, user.id, 'Alice is signed in');
    t.not(cookieValue(alice, gw.url, '_session'), planted.get('_session'), 'Alice got a new session id');
    // The planted id no longer names any session: Mallory's copy is not signed in as Alice (nor as anyone).
    const after = await startAuthorize(gw, rp, { scope: SCOPE, browser: mallory, extra: { prompt: 'none' } });
    t.equal(after.at.searchParams.get('error'), 'login_required', 'the planted session id is dead');
  });

  t.test('max_age=0 forces re-authentication', async (t) => {
    const { browser } = await signedIn();
    const s = await startAuthorize(gw, rp, { scope: SCOPE, browser, extra: { max_age: '0' } });
    t.equal(s.res.status, 200);
    t.ok(s.interaction, 'login page shown');
    const before = Math.floor(Date.now() / 1000);
    const tokens = await finishLogin(t, s, await s.res.text());
    t.ok(tokens.claims()!.auth_time! >= before, 'auth_time is not older than this login');
  });

  t.test('max_age: an older login is re-authenticated, a recent one is not', async (t) => {
    const { browser, authTime } = await signedIn();
    await ageSession(gw, 100); // the login now looks 100 s old

    const recent = await startAuthorize(gw, rp, { scope: SCOPE, browser, extra: { max_age: '3600' } });
    t.ok(recent.at.href.startsWith(recent.redirectUri), 'max_age=3600: single sign-on, no page');
    const sso = await client.authorizationCodeGrant(rp, recent.at, { pkceCodeVerifier: recent.verifier, expectedState: recent.state, expectedNonce: recent.nonce, maxAge: 3600 });
    t.equal(sso.claims()!.auth_time, authTime - 100, 'auth_time is the original login');

    const old = await startAuthorize(gw, rp, { scope: SCOPE, browser, extra: { max_age: '30' } });
    t.equal(old.res.status, 200);
    t.ok(old.interaction, 'max_age=30: login page shown');
    const tokens = await finishLogin(t, old, await old.res.text());
    t.ok(tokens.claims()!.auth_time! > authTime - 100, 'a fresh auth_time');
    t.ok(tokens.claims()!.auth_time! >= Math.floor(Date.now() / 1000) - 30, 'within max_age');
  });

  t.test('login_hint prefills the username', async (t) => {
    const s = await startAuthorize(gw, rp, { scope: SCOPE, extra: { login_hint: 'alice' } });
    const page = await s.res.text();
    t.equal(readForm(page, '/login').fields.username, 'alice');
    t.match(page, /id="password"[^>]*autofocus/, 'focus moves to the password');
    const hostile = await startAuthorize(gw, rp, { scope: SCOPE, extra: { login_hint: '"><script>alert(1)</script>' } });
    const hostilePage = await hostile.res.text();
    t.notMatch(hostilePage, '<script>alert(1)', 'login_hint is escaped');
    t.equal(readForm(hostilePage, '/login').fields.username, '"><script>alert(1)</script>');
  });

  t.test('userinfo answers for the session user', async (t) => {
    const { browser } = await signedIn();
    const s = await startAuthorize(gw, rp, { scope: SCOPE, browser, extra: { prompt: 'none' } });
    const tokens = await client.authorizationCodeGrant(rp, s.at, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
    t.equal((await client.fetchUserInfo(rp, tokens.access_token, user.id)).preferred_username, 'alice');
  });
});

async function authUrl(gw: Gateway, rp: client.Configuration, extra: Record<string, string>) {
  void gw;
  return client.buildAuthorizationUrl(rp, {
    redirect_uri: 'http://127.0.0.1:9999/cb', scope: SCOPE, state: client.randomState(), nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...extra,
  });
}

/** Makes every stored SSO session look `seconds` older, as if the login had happened that long ago. */
async function ageSession(gw: Gateway, seconds: number) {
  await gw.services.db.query(
    `UPDATE oidc_models SET payload = jsonb_set(payload, '{loginTs}', to_jsonb((payload->>'loginTs')::bigint - $1::int))
     WHERE model = 'Session' AND payload ? 'loginTs'`, [seconds]);
}
