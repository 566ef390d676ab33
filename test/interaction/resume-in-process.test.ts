// The resume after an interaction step is made in-process (src/interaction/resume-in-process.ts): the step's
// POST answers with what oidc-provider's resume answers, and writes the sign-in in its own commit. The
// resume stays bound to the browser that holds the interaction: another browser, or a form without its
// CSRF token, gets nothing.
import t from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, authorizeUrl, submitLogin, thirdPartyClient } from '../helpers/oidc.ts';
import { resetTrace, traceDb } from '../helpers/db-trace.ts';

t.test('in-process resume', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, thirdPartyClient] } } });
  await addUser(gw);
  const sessions = async () => Number((await gw.services.db.query<{ n: string }>(`SELECT count(*) AS n FROM oidc_models WHERE model = 'Session'`)).rows[0]!.n);
  const open = async (client = confidentialClient) => {
    const browser = new Browser();
    const url = client === confidentialClient ? authorizeUrl(gw) : authorizeUrl(gw, { redirect_uri: client.redirectUris[0] }, client.clientId);
    const page = await (await browser.navigate(url)).text();
    return { browser, page, form: readForm(page, '/login') };
  };

  t.test('the password POST answers with the redirect to the client, in one commit', async (t) => {
    const { browser, page } = await open();
    const before = await sessions();
    const trace = traceDb(gw.services.db);
    t.teardown(() => resetTrace(trace));
    resetTrace(trace);
    const res = await submitLogin(browser, gw, page, 'alice', 'correct horse battery');
    t.equal(res.status, 303);
    t.match(res.headers.get('location'), /^http:\/\/127\.0\.0\.1:9999\/cb\?code=[^&]+&state=st-123&iss=/, 'straight to the client with a code');
    t.equal(res.headers.get('cache-control'), 'no-store');
    t.equal(trace.commits, 1, `one commit: the password step and the sign-in (${trace.statements.join('; ')})`);
    t.equal(await sessions(), before + 1, 'the session is written');
    const cookies = res.headers.getSetCookie();
    t.ok(cookies.some((c) => /^_session=[^;]+;/.test(c)), 'the session cookie is set');
    t.notOk(cookies.some((c) => /^_interaction_resume(\.sig)?=[^;]+;/.test(c) && !/expires=Thu, 01 Jan 1970/i.test(c)),
      'the resume cookie made for the inner request never reaches the browser (only its clearing)');
  });

  t.test('another browser posting the same form gets nothing', async (t) => {
    const { page, form } = await open();
    const before = await sessions();
    const thief = new Browser();
    const res = await thief.post(new URL(form.action, gw.url), { ...form.fields, username: 'alice', password: 'correct horse battery' });
    t.equal(res.status, 303, 'no interaction cookie: the form starts its authorization request again (src/interaction/restart.ts)');
    t.match(res.headers.get('location'), /^\/oidc\/auth\?/, 'at the authorization endpoint, which asks that browser to sign in');
    t.notOk(res.headers.getSetCookie().some((c) => c.startsWith('_session=')), 'no session cookie');
    t.equal(await sessions(), before, 'nothing signed in');
    t.ok(page);
  });

  t.test('a form without its CSRF token gets nothing', async (t) => {
    const { browser, form } = await open();
    const before = await sessions();
    const res = await browser.post(new URL(form.action, gw.url), { username: 'alice', password: 'correct horse battery', csrf: 'x'.repeat(43) });
    t.equal(res.status, 403);
    t.equal(await sessions(), before, 'nothing signed in');
  });

  t.test('a further prompt is passed on: the consent screen, then the consent resumes too', async (t) => {
    const { browser, page } = await open(thirdPartyClient);
    const res = await submitLogin(browser, gw, page, 'alice', 'correct horse battery');
    t.equal(res.status, 303);
    const next = res.headers.get('location')!;
    t.match(next, /^\/interaction\/[^/]+$/, 'to the consent screen of a new interaction');
    const consent = await (await browser.navigate(new URL(next, gw.url))).text();
    const form = readForm(consent, '/confirm');
    const confirmed = await browser.post(new URL(form.action, gw.url), form.fields);
    t.equal(confirmed.status, 303);
    t.match(confirmed.headers.get('location'), /^http:\/\/127\.0\.0\.1:9998\/cb\?code=/, 'the consent POST answers with the redirect to the client');
  });

  t.test('cancel answers with the client\'s access_denied', async (t) => {
    const { browser, page } = await open();
    const form = readForm(page, '/abort');
    const res = await browser.post(new URL(form.action, gw.url), form.fields);
    t.equal(res.status, 303);
    const to = new URL(res.headers.get('location')!);
    t.equal(to.origin + to.pathname, 'http://127.0.0.1:9999/cb');
    t.equal(to.searchParams.get('error'), 'access_denied');
  });
});
