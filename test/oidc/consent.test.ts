// Consent: third-party clients ask the user (allow / deny); first-party clients never show the page.
import t from 'tap';
import * as client from 'openid-client';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, discover, loginAndGetCallback, startAuthorize, submitLogin, thirdPartyClient } from '../helpers/oidc.ts';

t.test('consent', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, thirdPartyClient] } } });
  const user = await addUser(gw);
  const partner = await discover(gw, thirdPartyClient);
  const rp = await discover(gw);
  const REDIRECT = thirdPartyClient.redirectUris[0]!;

  /** Signs in at the partner app and returns the consent page. */
  const toConsent = async (scope = 'openid email') => {
    const s = await startAuthorize(gw, partner, { scope, redirectUri: REDIRECT });
    const posted = await submitLogin(s.browser, gw, await s.res.text(), 'alice', 'correct horse battery');
    const { res, url } = await s.browser.follow(posted, gw.url, (u) => u.href.startsWith(REDIRECT));
    return { ...s, res, url, page: res.status === 200 ? await res.text() : '' };
  };

  t.test('a third-party client shows the consent page', async (t) => {
    const c = await toConsent('openid email profile');
    t.equal(c.res.status, 200);
    t.match(c.url.pathname, /^\/interaction\//);
    t.match(c.page, 'id="allow"');
    t.match(c.page, 'id="deny"');
    t.match(c.page, 'Partner App', 'names the application');
    t.match(c.page, 'See your email address', 'lists what is asked');
    t.equal(c.res.headers.get('cache-control'), 'no-store');
  });

  t.test('deny → access_denied at the redirect URI', async (t) => {
    const c = await toConsent();
    const deny = readForm(c.page, '/abort');
    const res = await c.browser.post(new URL(deny.action, gw.url), deny.fields);
    const { url } = await c.browser.follow(res, gw.url, (u) => u.href.startsWith(REDIRECT));
    t.ok(url.href.startsWith(REDIRECT));
    t.equal(url.searchParams.get('error'), 'access_denied');
    t.equal(url.searchParams.get('state'), c.state);
    t.notOk(url.searchParams.get('code'));
  });

  t.test('allow → code → tokens with the consented scopes; next time no page', async (t) => {
    const c = await toConsent();
    const allow = readForm(c.page, '/confirm');
    const res = await c.browser.post(new URL(allow.action, gw.url), allow.fields);
    const { url } = await c.browser.follow(res, gw.url, (u) => u.href.startsWith(REDIRECT));
    t.ok(url.searchParams.get('code'), 'code issued');
    const tokens = await client.authorizationCodeGrant(partner, url, { pkceCodeVerifier: c.verifier, expectedState: c.state, expectedNonce: c.nonce });
    t.equal(tokens.claims()!.sub, user.id);
    t.equal((await client.fetchUserInfo(partner, tokens.access_token, user.id)).email, 'alice@example.com');

    const again = await startAuthorize(gw, partner, { scope: 'openid email', redirectUri: REDIRECT, browser: c.browser });
    t.ok(again.at.href.startsWith(REDIRECT) && again.at.searchParams.get('code'), 'consent remembered: straight back with a code');
    const more = await startAuthorize(gw, partner, { scope: 'openid email groups', redirectUri: REDIRECT, browser: c.browser });
    t.equal(more.res.status, 200, 'a new scope asks again');
    const page = await more.res.text();
    t.match(page, 'See the groups you belong to');
    t.notMatch(page, 'See your email address', 'only the missing scope is listed');
  });

  t.test('consent forms need their CSRF token', async (t) => {
    const c = await toConsent();
    const allow = readForm(c.page, '/confirm');
    const forged = await c.browser.post(new URL(allow.action, gw.url), { csrf: 'forged' });
    t.equal(forged.status, 403);
    t.match(await forged.text(), 'id="error-code">GW_CSRF<');
    const loginToken = readForm(c.page, '/abort').fields.csrf;
    t.equal(loginToken, allow.fields.csrf, 'one consent token per interaction');
  });

  t.test('prompt=none at a third-party client without consent: consent_required', async (t) => {
    const browser = new Browser();
    await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid', browser });
    const none = await startAuthorize(gw, partner, { scope: 'openid profile', redirectUri: REDIRECT, browser, extra: { prompt: 'none' } });
    t.equal(none.at.searchParams.get('error'), 'consent_required');
  });

  t.test('a first-party client never shows the page, even with prompt=consent', async (t) => {
    const browser = new Browser();
    const s = await startAuthorize(gw, rp, { scope: 'openid email offline_access', browser, extra: { prompt: 'consent' } });
    const posted = await submitLogin(browser, gw, await s.res.text(), 'alice', 'correct horse battery');
    const { url } = await browser.follow(posted, gw.url, (u) => u.href.startsWith(s.redirectUri));
    t.ok(url.href.startsWith(s.redirectUri), 'from the login straight back to the RP');
    t.ok(url.searchParams.get('code'));
    const tokens = await client.authorizationCodeGrant(rp, url, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
    t.ok(tokens.refresh_token, 'offline_access granted without a page');
    const again = await startAuthorize(gw, rp, { scope: 'openid email offline_access', browser, extra: { prompt: 'consent' } });
    t.ok(again.at.href.startsWith(s.redirectUri) && again.at.searchParams.get('code'), 'prompt=consent with a session: no page either');
  });
});
