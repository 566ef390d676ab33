// RP-initiated logout (OpenID Foundation RP-initiated logout plan): confirmation page, registered
// post_logout_redirect_uri only, state round trip, and a session that is really gone afterwards.
import t, { type Test } from 'tap';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { Browser, BROWSER_ACCEPT, cookieJar, cookieValue, hasStackTrace, readForm } from '../helpers/browser.ts';
import { addUser, discover, loginAndGetTokens, startAuthorize } from '../helpers/oidc.ts';

const POST_LOGOUT = confidentialClient.postLogoutRedirectUris[0]!;

t.test('RP-initiated logout', async (t) => {
  const gw = await startGateway(t);
  await addUser(gw);
  const rp = await discover(gw);

  const signedIn = async () => {
    const browser = new Browser();
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid profile', browser });
    return { browser, idToken: tokens.id_token! };
  };
  const hasSession = async (browser: Browser) => {
    const s = await startAuthorize(gw, rp, { scope: 'openid', browser, extra: { prompt: 'none' } });
    return s.at.searchParams.has('code') ? true : s.at.searchParams.get('error') === 'login_required' ? false : undefined;
  };
  const errorCode = (body: string) => /id="error-code">([^<]*)</.exec(body)?.[1];
  const expectErrorPage = async (t: Test, res: Response, code: string) => {
    t.equal(res.status, 400);
    t.equal(res.headers.get('location'), null, 'no redirect');
    const body = await res.text();
    t.match(res.headers.get('content-type'), /^text\/html/);
    t.equal(errorCode(body), code);
    t.notOk(hasStackTrace(body));
  };

  t.test('confirm page → sign out → back to the registered URI with state; the session is gone', async (t) => {
    const { browser, idToken } = await signedIn();
    t.equal(await hasSession(browser), true, 'signed in before');
    const oldCookies = new Map(cookieJar(browser, gw.url));
    t.ok(oldCookies.get('_session'), 'a session cookie to replay');
    const url = client.buildEndSessionUrl(rp, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT, state: 'bye-42' });
    const page = await browser.navigate(url);
    t.equal(page.status, 200);
    t.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    t.match(html, '/assets/gatehouse.css', 'Gatehouse-styled');
    t.match(html, '<html lang="en">');
    t.match(html, 'Example Web App', 'names the application');
    t.match(html, 'id="logout-yes"');
    const form = readForm(html, '/session/end/confirm');
    t.equal(form.action, `${gw.url}/oidc/session/end/confirm`);
    t.ok(form.fields.xsrf && form.fields.xsrf.length >= 20, 'the form carries an xsrf token');

    const done = await browser.submit(form.action, { ...form.fields, logout: 'yes' });
    t.equal(done.status, 303);
    const back = new URL(done.headers.get('location')!);
    t.equal(`${back.origin}${back.pathname}`, POST_LOGOUT, 'to the registered post_logout_redirect_uri');
    t.equal(back.searchParams.get('state'), 'bye-42', 'state round trip');
    t.equal(cookieValue(browser, gw.url, '_session'), undefined, 'session cookie cleared');
    t.equal(await hasSession(browser), false, 'prompt=none → login_required after logout');

    // A copy of the cookies taken before logout is useless too: the session is gone server-side.
    const replay = new Browser();
    for (const [k, v] of oldCookies) cookieJar(replay, gw.url).set(k, v);
    t.equal(await hasSession(replay), false, 'the old session cookie no longer signs anyone in');
  });

  t.test('without post_logout_redirect_uri: Gatehouse\'s own "signed out" page', async (t) => {
    const { browser, idToken } = await signedIn();
    const page = await browser.navigate(client.buildEndSessionUrl(rp, { id_token_hint: idToken }));
    const form = readForm(await page.text(), '/session/end/confirm');
    const done = await browser.submit(form.action, { ...form.fields, logout: 'yes' });
    const { res } = await browser.follow(done, form.action);
    t.equal(res.status, 200);
    t.match(await res.text(), 'id="signed-out"');
    t.equal(await hasSession(browser), false);
  });

  t.test('unregistered post_logout_redirect_uri: error page, no redirect, still signed in', async (t) => {
    const { browser, idToken } = await signedIn();
    for (const uri of ['https://evil.example/bye', `${POST_LOGOUT}/x`, confidentialClient.redirectUris[0]!]) {
      const res = await browser.navigate(client.buildEndSessionUrl(rp, { id_token_hint: idToken, post_logout_redirect_uri: uri, state: 's' }));
      await expectErrorPage(t, res, 'GW_OIDC_INVALID_REQUEST');
    }
    t.equal(await hasSession(browser), true, 'nothing was logged out');
  });

  t.test('a post_logout_redirect_uri without id_token_hint or client_id is never followed', async (t) => {
    const { browser } = await signedIn();
    const page = await browser.navigate(`${gw.url}/oidc/session/end?post_logout_redirect_uri=${encodeURIComponent('https://evil.example/bye')}`);
    t.equal(page.status, 200, 'the confirmation page');
    const html = await page.text();
    t.notMatch(html, 'evil.example');
    const form = readForm(html, '/session/end/confirm');
    const done = await browser.submit(form.action, { ...form.fields, logout: 'yes' });
    t.equal(done.status, 303);
    t.equal(done.headers.get('location'), `${gw.url}/oidc/session/end/success`, 'to Gatehouse\'s own page, not the unverified URI');
    t.equal(await hasSession(browser), false);
  });

  t.test('a forged or foreign id_token_hint is refused', async (t) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: gw.url, aud: confidentialClient.clientId, sub: 'someone', iat: now, exp: now + 300 };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const { privateKey } = await jose.generateKeyPair('ES256');
    const hints: Array<[string, string, string]> = [
      ['unsigned', `${b64({ alg: 'none' })}.${b64(claims)}.`, 'GW_OIDC_INVALID_REQUEST'],
      ['signed by another key', await new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(privateKey), 'GW_OIDC_INVALID_REQUEST'],
      ['for an unknown client', `${b64({ alg: 'none' })}.${b64({ ...claims, aud: 'nobody' })}.`, 'GW_OIDC_INVALID_CLIENT'],
      ['not a JWT', 'garbage', 'GW_OIDC_INVALID_REQUEST'],
    ];
    for (const [what, hint, code] of hints) {
      t.comment(what);
      const url = `${gw.url}/oidc/session/end?id_token_hint=${encodeURIComponent(hint)}&post_logout_redirect_uri=${encodeURIComponent(POST_LOGOUT)}`;
      await expectErrorPage(t, await fetch(url, { redirect: 'manual', headers: { accept: BROWSER_ACCEPT } }), code);
    }
  });

  t.test('a wrong xsrf token logs nobody out', async (t) => {
    const { browser, idToken } = await signedIn();
    const page = await browser.navigate(client.buildEndSessionUrl(rp, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT }));
    const form = readForm(await page.text(), '/session/end/confirm');
    const res = await browser.submit(form.action, { xsrf: 'forged-token-value-000000000000', logout: 'yes' });
    await expectErrorPage(t, res, 'GW_OIDC_INVALID_REQUEST');
    t.equal(await hasSession(browser), true, 'still signed in');
  });
});
