// The provider's own cookies behind TLS termination: on an https issuer the session cookie is
// `__Host-` (Secure, Path=/, no Domain) and the path-scoped interaction cookies are `__Secure-`; the
// whole login still works, and on http the library's names stay.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, authorizeUrl, redirectParams } from '../helpers/oidc.ts';
import { cookieNames } from '../../src/protocols/oidc/provider.ts';

const ISSUER = 'https://sso.example.test';

/** A browser that sees https://sso.example.test while TLS "ends at a proxy" in front of the gateway. */
function behindProxy(port: number) {
  const b = new Browser();
  const setCookies: string[] = [];
  b.rewrite = (u) => { u.protocol = 'http:'; u.host = `127.0.0.1:${port}`; return u; };
  const request = b.request.bind(b);
  b.request = async (url, init) => {
    const res = await request(url, init);
    setCookies.push(...res.headers.getSetCookie());
    return res;
  };
  return { b, setCookies };
}

const named = (lines: string[], name: string) => lines.filter((l) => l.startsWith(`${name}=`) || l.startsWith(`${name}.sig=`));

t.test('https issuer: __Host- session cookie, __Secure- interaction cookies, login completes', async (t) => {
  const gw = await startGateway(t, { issuer: ISSUER });
  await addUser(gw, 'alice', 'correct horse battery');
  const { b, setCookies } = behindProxy(gw.config.server.port);
  const names = cookieNames(true);

  const auth = authorizeUrl(gw, { scope: 'openid' });
  const { res: loginPage, url: at } = await b.follow(await b.navigate(auth), auth);
  t.equal(loginPage.status, 200, 'the login page');
  const interaction = named(setCookies, names.interaction);
  t.ok(interaction.length > 0, 'interaction cookie set');
  for (const c of interaction) {
    t.match(c, /; secure/i, `${c.split('=')[0]}: Secure`);
    t.match(c, /; httponly/i, 'HttpOnly');
    t.match(c, /; path=\/interaction\//i, 'scoped to its interaction (why it cannot be __Host-)');
    t.notMatch(c, /domain=/i, 'no Domain');
  }

  const form = readForm(await loginPage.text(), '/login');
  const posted = await b.submit(new URL(form.action, at), { ...form.fields, username: 'alice', password: 'correct horse battery' });
  t.equal(posted.status, 303, 'password accepted');
  const { url: callback } = await b.follow(posted, new URL(form.action, at), (u) => u.href.startsWith('http://127.0.0.1:9999/cb'));
  t.ok(redirectParams(callback).get('code'), 'an authorization code reached the client');

  const session = named(setCookies, names.session);
  t.ok(session.length > 0, 'session cookie set');
  for (const c of session) {
    t.match(c, /; path=\/(;|$)/i, `${c.split('=')[0]}: Path=/`);
    t.match(c, /; secure/i, 'Secure');
    t.match(c, /; httponly/i, 'HttpOnly');
    t.match(c, /; samesite=lax/i, 'SameSite=Lax');
    t.notMatch(c, /domain=/i, '__Host- cookies carry no Domain');
  }
  t.notOk(setCookies.some((c) => /^_(session|interaction)/.test(c)), 'no unprefixed provider cookie on https');

  // Single sign-on rides the prefixed session cookie: a second authorization needs no password.
  const again = authorizeUrl(gw, { scope: 'openid', state: 'second' });
  const { url: sso } = await b.follow(await b.navigate(again), again, (u) => u.href.startsWith('http://127.0.0.1:9999/cb'));
  t.equal(redirectParams(sso).get('state'), 'second', 'SSO without a prompt');
  t.ok(redirectParams(sso).get('code'));
});

t.test('http issuer (development): the library names, no Secure flag', async (t) => {
  const gw = await startGateway(t);
  const { b, setCookies } = behindProxy(gw.config.server.port);
  b.rewrite = undefined;
  const auth = authorizeUrl(gw, { scope: 'openid' });
  await b.follow(await b.navigate(auth), auth);
  const interaction = named(setCookies, cookieNames(false).interaction);
  t.ok(interaction.length > 0);
  for (const c of interaction) t.notMatch(c, /; secure/i, 'no Secure over plain http');
});
