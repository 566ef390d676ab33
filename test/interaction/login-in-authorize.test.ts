// The login form is the authorization endpoint's own answer (protocols/oidc/login-in-authorize.ts): no
// redirect to /interaction/:uid and no read of the interaction back. Only for a fresh login interaction:
// any other screen, a signed-in browser, an error and a SAML in-process authorization answer as before.
import t from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { Browser, BROWSER_ACCEPT, readForm } from '../helpers/browser.ts';
import { addUser, authorizeUrl, discover, loginAndGetCallback, submitLogin, thirdPartyClient } from '../helpers/oidc.ts';
import { resetTrace, traceDb } from '../helpers/db-trace.ts';

t.test('login form in the authorization answer', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, thirdPartyClient] } } });
  await addUser(gw);
  const rp = await discover(gw);

  t.test('a fresh authorization request answers with the form, its cookie and no-store', async (t) => {
    const browser = new Browser();
    const res = await browser.navigate(authorizeUrl(gw, { login_hint: 'alice' }));
    t.equal(res.status, 200, 'no redirect');
    t.notOk(res.headers.get('location'), 'no Location');
    t.match(res.headers.get('content-type'), /^text\/html/);
    t.equal(res.headers.get('cache-control'), 'no-store');
    t.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/, 'the security headers of every page');
    const page = await res.text();
    const form = readForm(page, '/login');
    const uid = /^\/interaction\/([^/]+)\/login$/.exec(form.action)?.[1];
    t.ok(uid, 'posts to the new interaction');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('_interaction='));
    t.match(cookie, new RegExp(`^_interaction=${uid};.*path=/interaction/${uid}`), 'the interaction cookie, path-scoped to it');
    t.equal(form.fields.username, 'alice', 'login_hint fills the username');
    t.match(page, /to continue to <strong>/, 'names the client');
    // The interaction's own page shows the same form (a reload of it, a wrong password).
    const again = await browser.navigate(new URL(`/interaction/${uid}`, gw.url));
    t.equal(again.status, 200);
    t.equal(readForm(await again.text(), '/login').action, form.action);
  });

  t.test('posting it signs in; the signed-in browser is redirected at once', async (t) => {
    const browser = new Browser();
    const r = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid', browser });
    t.ok(r.callback.searchParams.get('code'), 'a code');
    const second = await browser.navigate(authorizeUrl(gw));
    t.equal(second.status, 303, 'single sign-on: a redirect, no page');
    t.match(second.headers.get('location'), /^http:\/\/127\.0\.0\.1:9999\/cb\?code=/);
  });

  t.test('a wrong password re-renders the form at the interaction', async (t) => {
    const browser = new Browser();
    const page = await (await browser.navigate(authorizeUrl(gw))).text();
    const res = await submitLogin(browser, gw, page, 'alice', 'wrong password');
    t.equal(res.status, 401);
    t.match(await res.text(), /The username or password is incorrect/);
  });

  t.test('one exchange, one commit, no read', async (t) => {
    const trace = traceDb(gw.services.db);
    t.teardown(() => resetTrace(trace));
    resetTrace(trace);
    const res = await new Browser().navigate(authorizeUrl(gw));
    t.equal(res.status, 200);
    await res.text();
    t.same({ reads: trace.reads, commits: trace.commits }, { reads: 0, commits: 1 }, `statements: ${trace.statements.join('; ')}`);
  });

  t.test('other screens are still redirects', async (t) => {
    // A signed-in browser meeting a third-party client's consent prompt.
    const browser = new Browser();
    await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { scope: 'openid', browser });
    const res = await browser.navigate(authorizeUrl(gw, { client_id: thirdPartyClient.clientId, redirect_uri: thirdPartyClient.redirectUris[0] }, thirdPartyClient.clientId));
    t.equal(res.status, 303);
    t.match(res.headers.get('location'), /^\/interaction\/[^/]+$/, 'consent: to the interaction page');
  });

  t.test('errors are still the RP redirect or the error page', async (t) => {
    const res = await new Browser().navigate(authorizeUrl(gw, { prompt: 'none' }));
    t.equal(res.status, 303);
    t.match(res.headers.get('location'), /error=login_required/);
    const bad = await new Browser().request(authorizeUrl(gw, { redirect_uri: 'http://evil.example/cb' }), { headers: { accept: BROWSER_ACCEPT } });
    t.equal(bad.status, 400);
    t.notMatch(await bad.text(), /name="password"/, 'no login form for an invalid request');
  });
});
