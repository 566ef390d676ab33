// A login or code form posted after its interaction ended starts the sign-in again (src/interaction/restart.ts):
// a double-submitted form whose first submission signed in, a form left open past its interaction's
// lifetime. Only a form this gateway rendered, and only towards its own authorization endpoint.
import t from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, authorizeUrl, thirdPartyClient } from '../helpers/oidc.ts';
import { restartFrom, restartTarget } from '../../src/interaction/restart.ts';

const PASSWORD = 'correct horse battery';

t.test('restart targets', async (t) => {
  t.equal(restartTarget({ client_id: 'app', scope: 'openid profile', state: 'a&b=c', max_age: 0, claims: undefined, x: { y: 1 }, resource: ['urn:a', 'urn:b'] }),
    '/oidc/auth?client_id=app&scope=openid+profile&state=a%26b%3Dc&max_age=0&resource=urn%3Aa&resource=urn%3Ab',
    'strings and numbers, encoded; a repeated parameter repeated; objects and undefined left out');
  t.equal(restartFrom('/oidc/auth?client_id=app&state=x'), '/oidc/auth?client_id=app&state=x');
  for (const bad of [undefined, 42, '', '/oidc/auth', '/oidc/auth#x', 'https://evil.example/oidc/auth?x=1', '//evil.example/oidc/auth?x=1',
    '/oidc/auth/../token?x=1', '/oidc/authorize?x=1', '/oidc/auth?x=1#frag', '/\\evil.example/oidc/auth?x=1', `/oidc/auth?${'a'.repeat(9000)}`]) {
    t.equal(restartFrom(bad), undefined, `refused: ${String(bad).slice(0, 60)}`);
  }
});

t.test('forms posted after their interaction ended', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, thirdPartyClient] } } });
  await addUser(gw);
  const count = async (model: string) => Number((await gw.services.db.query<{ n: string }>(`SELECT count(*) AS n FROM oidc_models WHERE model = $1`, [model])).rows[0]!.n);
  const open = async () => {
    const browser = new Browser();
    const page = await (await browser.navigate(authorizeUrl(gw))).text();
    const form = readForm(page, '/login');
    return { browser, form, fields: { ...form.fields, username: 'alice', password: PASSWORD } };
  };
  const isClientCode = (location: string | null) => /^http:\/\/127\.0\.0\.1:9999\/cb\?code=[^&]+&state=st-123&iss=/.test(location ?? '');

  t.test('the login form carries its authorization request', async (t) => {
    const { form } = await open();
    const target = new URL(form.fields.restart!, gw.url);
    t.equal(target.pathname, '/oidc/auth');
    t.match(Object.fromEntries(target.searchParams), { client_id: confidentialClient.clientId, redirect_uri: confidentialClient.redirectUris[0],
      response_type: 'code', scope: 'openid', state: 'st-123', nonce: 'n-123', code_challenge_method: 'S256' });
  });

  t.test('double-submitted, the browser kept the first answer\'s cookies: single sign-on answers with a code', async (t) => {
    const { browser, form, fields } = await open();
    const first = await browser.post(new URL(form.action, gw.url), fields);
    t.ok(isClientCode(first.headers.get('location')), 'the first submission signs in');
    const sessions = await count('Session');
    const again = await browser.post(new URL(form.action, gw.url), fields);
    t.equal(again.status, 303, 'the second finds the interaction ended');
    t.equal(again.headers.get('location'), form.fields.restart, 'and starts the authorization request again');
    t.equal(again.headers.get('cache-control'), 'no-store');
    const sso = await browser.navigate(new URL(again.headers.get('location')!, gw.url));
    t.ok(isClientCode(sso.headers.get('location')), 'signed in already: straight to the client with a fresh code');
    t.equal(await count('Session'), sessions, 'no second session');
  });

  t.test('double-submitted, the browser dropped the first answer: the login form again', async (t) => {
    const { browser, form, fields } = await open();
    const jar = new Map([...browser.cookies].map(([h, m]) => [h, new Map(m)]));
    const first = await browser.post(new URL(form.action, gw.url), fields);
    t.ok(isClientCode(first.headers.get('location')));
    browser.cookies = jar; // the browser cancelled the first navigation for the second
    const again = await browser.post(new URL(form.action, gw.url), fields);
    t.equal(again.status, 303);
    const res = await browser.navigate(new URL(again.headers.get('location')!, gw.url));
    t.equal(res.status, 200, 'a new interaction');
    const next = readForm(await res.text(), '/login');
    t.not(next.action, form.action, 'with its own login form');
    const signedIn = await browser.post(new URL(next.action, gw.url), { ...next.fields, username: 'alice', password: PASSWORD });
    t.ok(isClientCode(signedIn.headers.get('location')), 'which signs in');
  });

  t.test('consent\'s "Allow" double-submitted: single sign-on, the consent remembered; "Deny" is not restarted', async (t) => {
    const browser = new Browser();
    const page = await (await browser.navigate(authorizeUrl(gw, { redirect_uri: thirdPartyClient.redirectUris[0] }, thirdPartyClient.clientId))).text();
    const login = readForm(page, '/login');
    const posted = await browser.post(new URL(login.action, gw.url), { ...login.fields, username: 'alice', password: PASSWORD });
    const consentPage = await (await browser.navigate(new URL(posted.headers.get('location')!, gw.url))).text();
    const allow = readForm(consentPage, '/confirm');
    t.ok(allow.fields.restart?.startsWith('/oidc/auth?'), 'Allow carries the request');
    t.notOk(readForm(consentPage, '/abort').fields.restart, 'Deny does not');
    const first = await browser.post(new URL(allow.action, gw.url), allow.fields);
    t.match(first.headers.get('location'), /^http:\/\/127\.0\.0\.1:9998\/cb\?code=/);
    const again = await browser.post(new URL(allow.action, gw.url), allow.fields);
    t.equal(again.status, 303);
    const sso = await browser.navigate(new URL(again.headers.get('location')!, gw.url));
    t.match(sso.headers.get('location'), /^http:\/\/127\.0\.0\.1:9998\/cb\?code=/, 'signed in and consented already: a fresh code');
  });

  t.test('a form left open past its interaction\'s end', async (t) => {
    const { browser, form, fields } = await open();
    await gw.services.db.query(`DELETE FROM oidc_models WHERE model = 'Interaction'`);
    const res = await browser.post(new URL(form.action, gw.url), fields);
    t.equal(res.status, 303);
    t.equal(res.headers.get('location'), form.fields.restart);
  });

  t.test('anything else still ends on the expired page, and changes nothing', async (t) => {
    const { browser, form, fields } = await open();
    await gw.services.db.query(`DELETE FROM oidc_models WHERE model = 'Interaction'`);
    const before = { sessions: await count('Session'), interactions: await count('Interaction') };
    const cases: Array<[string, Record<string, string>]> = [
      ['no restart field (a page from before)', { ...fields, restart: '' }],
      ['another CSRF token', { ...fields, csrf: 'x'.repeat(43) }],
      ['no CSRF token', Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'csrf'))],
      ['a target elsewhere', { ...fields, restart: 'https://evil.example/oidc/auth?client_id=x' }],
      ['another endpoint', { ...fields, restart: '/oidc/token?grant_type=x' }],
    ];
    for (const [name, body] of cases) {
      const res = await browser.post(new URL(form.action, gw.url), body);
      t.equal(res.status, 400, name);
      t.match(await res.text(), /GW_INTERACTION_EXPIRED/, `${name}: the expired page`);
    }
    const get = await browser.navigate(new URL(form.action.replace(/\/login$/, ''), gw.url));
    t.equal(get.status, 400, 'a GET of the ended interaction: the expired page');
    t.same({ sessions: await count('Session'), interactions: await count('Interaction') }, before, 'nothing written');
  });
});
