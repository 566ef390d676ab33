// Failure paths: expired or foreign interactions, malformed requests, a database outage. Each gets a clear
// 4xx/503 answer with a stable code, never a 500 and never a stack trace.
import t, { type Test } from 'tap';
import { startGateway, confidentialClient, type Gateway } from '../helpers/gateway.ts';
import { freshDb, defaultKind, PG_URL } from '../helpers/db.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { Browser, BROWSER_ACCEPT, cookieJar, hasStackTrace, rawRequest, readForm } from '../helpers/browser.ts';
import { addUser, authorizeUrl, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';

const codeOf = (html: string) => /id="error-code">([^<]*)</.exec(html)?.[1];

async function expectExpired(t: Test, res: Response, what: string) {
  const body = await res.text();
  t.equal(res.status, 400, `${what}: 400`);
  t.match(res.headers.get('content-type'), /^text\/html/, `${what}: a page`);
  t.equal(codeOf(body), 'GW_INTERACTION_EXPIRED', `${what}: GW_INTERACTION_EXPIRED`);
  t.notOk(hasStackTrace(body), `${what}: no stack trace`);
}

t.test('interaction failures and malformed requests', async (t) => {
  const gw = await startGateway(t);
  await addUser(gw);
  const rp = await discover(gw);
  const dropInteractions = () => gw.services.db.query(`DELETE FROM oidc_models WHERE model = 'Interaction'`);

  t.test('unknown or malformed uid', async (t) => {
    await expectExpired(t, await fetch(`${gw.url}/interaction/${'A'.repeat(43)}`, { headers: { accept: BROWSER_ACCEPT } }), 'unknown uid');
    await expectExpired(t, await fetch(`${gw.url}/interaction/x`, { headers: { accept: BROWSER_ACCEPT } }), 'malformed uid');
    await expectExpired(t, await fetch(`${gw.url}/interaction/${'A'.repeat(43)}/login`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=a&password=b&csrf=c',
    }), 'POST to an unknown uid');
  });

  t.test('a live interaction opened in another browser', async (t) => {
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    await expectExpired(t, await new Browser().get(s.interaction!), 'no interaction cookie');
  });

  t.test('the interaction expired while the page was open', async (t) => {
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    const page = await s.res.text();
    await dropInteractions();
    await expectExpired(t, await s.browser.get(s.interaction!), 'the interaction\'s page');
    // The login form starts its authorization request again (src/interaction/restart.ts, test/interaction/restart.test.ts).
    const res = await submitLogin(s.browser, gw, page, 'alice', 'correct horse battery');
    t.equal(res.status, 303, 'login POST: the sign-in starts again');
    t.match(res.headers.get('location'), /^\/oidc\/auth\?client_id=/, 'at the authorization endpoint, with the request\'s parameters');
  });

  t.test('the resume URL of an expired or finished interaction', async (t) => {
    // The login POST resumes in-process (src/interaction/resume-in-process.ts); the browser still holds the
    // resume cookie of an interaction it has not finished, and may take that URL by hand.
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    const resume = new URL(`/oidc/auth/${s.interaction!.pathname.split('/')[2]}`, gw.url);
    await dropInteractions();
    await expectExpired(t, await s.browser.navigate(resume), 'expired');
    const done = await startAuthorize(gw, rp, { scope: 'openid' });
    const posted = await submitLogin(done.browser, gw, await done.res.text(), 'alice', 'correct horse battery');
    t.equal(posted.status, 303);
    await expectExpired(t, await done.browser.navigate(new URL(`/oidc/auth/${done.interaction!.pathname.split('/')[2]}`, gw.url)), 'finished');
  });

  t.test('malformed requests get a 4xx, never a 500 or a stack trace', async (t) => {
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    const loginUrl = new URL(`${s.interaction!.pathname}/login`, gw.url);
    const cookie = [...cookieJar(s.browser, gw.url)].map(([k, v]) => `${k}=${v}`).join('; ');
    const csrf = readForm(await s.res.text(), '/login').fields.csrf!;
    const form = 'application/x-www-form-urlencoded';
    const basic = `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}`;

    const cases: Array<[string, string | URL, { method?: string; headers?: Record<string, string>; body?: string }, number]> = [
      ['login: invalid JSON', loginUrl, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{bad' }, 400],
      ['login: invalid JSON (browser)', loginUrl, { method: 'POST', headers: { cookie, accept: BROWSER_ACCEPT, 'content-type': 'application/json' }, body: '{bad' }, 400],
      ['login: JSON with objects for strings', loginUrl, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: `{"csrf":"${csrf}","username":{"$ne":1},"password":["x"]}` }, 400],
      ['login: repeated fields', loginUrl, { method: 'POST', headers: { cookie, 'content-type': form }, body: `csrf=${csrf}&username=alice&username=bob&password=x` }, 400],
      ['login: multipart', loginUrl, { method: 'POST', headers: { cookie, 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }, 415],
      ['login: body too large', loginUrl, { method: 'POST', headers: { cookie, 'content-type': form }, body: `csrf=${csrf}&a=${'x'.repeat(20000)}` }, 413],
      ['login: broken percent-encoding', loginUrl, { method: 'POST', headers: { cookie, 'content-type': form }, body: `csrf=${csrf}&username=%ZZ&password=%E0%A4%A` }, 401],
      ['login: NUL in the username', loginUrl, { method: 'POST', headers: { cookie, 'content-type': form }, body: `csrf=${csrf}&username=al%00ice&password=x%00` }, 400],
      ['login: no body', loginUrl, { method: 'POST', headers: { cookie, 'content-type': form } }, 403],
      ['interaction: bad path encoding', `${gw.url}/interaction/%E0%A4%A`, { headers: { accept: BROWSER_ACCEPT } }, 400],
      ['token: JSON body', `${gw.url}/oidc/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' }, 400],
      ['token: broken Basic header', `${gw.url}/oidc/token`, { method: 'POST', headers: { authorization: 'Basic !!!', 'content-type': form }, body: 'grant_type=client_credentials' }, 400],
      ['token: huge body', `${gw.url}/oidc/token`, { method: 'POST', headers: { 'content-type': form }, body: `grant_type=${'x'.repeat(2_000_000)}` }, 400],
      ['token: unknown grant type', `${gw.url}/oidc/token`, { method: 'POST', headers: { authorization: basic, 'content-type': form }, body: 'grant_type=password&username=a&password=b' }, 400],
      ['token: code that never existed', `${gw.url}/oidc/token`, { method: 'POST', headers: { authorization: basic, 'content-type': form }, body: `grant_type=authorization_code&code=${'x'.repeat(43)}&redirect_uri=${encodeURIComponent(confidentialClient.redirectUris[0]!)}&code_verifier=${'v'.repeat(43)}` }, 400],
      ['authorize: broken query encoding', `${gw.url}/oidc/auth?client_id=%ZZ`, { headers: { accept: BROWSER_ACCEPT } }, 400],
      ['authorize: duplicate client_id', `${authorizeUrl(gw).href}&client_id=other`, { headers: { accept: BROWSER_ACCEPT } }, 400],
      ['userinfo: empty bearer', `${gw.url}/oidc/me`, { headers: { authorization: 'Bearer' } }, 400],
      ['logout confirm: duplicate xsrf', `${gw.url}/oidc/session/end/confirm`, { method: 'POST', headers: { 'content-type': form, accept: BROWSER_ACCEPT }, body: 'xsrf=a&xsrf=b' }, 400],
      ['unknown route', `${gw.url}/wp-admin/setup.php`, { headers: { accept: BROWSER_ACCEPT } }, 404],
    ];
    for (const [what, url, init, status] of cases) {
      const res = await rawRequest(url, init);
      t.equal(res.status, status, `${what}: ${status}`);
      t.notOk(hasStackTrace(res.body), `${what}: no stack trace`);
    }
    t.notOk(gw.logs.some((l) => /"level":50/.test(l) && /GW_ERR_INTERNAL|GW_ERR_OIDC/.test(l)), 'no internal error was logged');
    // The interaction survived all of that: the real form still works.
    const ok = await submitLogin(s.browser, gw, (await (await s.browser.get(s.at)).text()), 'alice', 'correct horse battery');
    t.equal(ok.status, 303, 'the login still works afterwards');
  });
});

// Regression: PostgreSQL refuses NUL in text (22021); the adapter treats such ids as unknown instead of a 500.
t.test('NUL bytes in token values are unknown tokens, not server errors', async (t) => {
  const gw = await startGateway(t);
  const form = 'application/x-www-form-urlencoded';
  const basic = `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}`;
  const cases: Array<[string, string, Record<string, string>, string, number]> = [
    ['token: NUL in the code', '/oidc/token', { authorization: basic, 'content-type': form },
      `grant_type=authorization_code&code=ab%00cd&redirect_uri=${encodeURIComponent(confidentialClient.redirectUris[0]!)}&code_verifier=${'v'.repeat(43)}`, 400],
    ['token: NUL in the refresh token', '/oidc/token', { authorization: basic, 'content-type': form }, 'grant_type=refresh_token&refresh_token=ab%00cd', 400],
    ['introspection: NUL in the token', '/oidc/token/introspection', { authorization: basic, 'content-type': form }, 'token=ab%00cd', 200],
    ['revocation: NUL in the token', '/oidc/token/revocation', { authorization: basic, 'content-type': form }, 'token=ab%00cd', 200],
    ['userinfo: NUL in a body token', '/oidc/me', { 'content-type': form }, 'access_token=ab%00cd', 401],
  ];
  for (const [what, path, headers, body, status] of cases) {
    const res = await rawRequest(`${gw.url}${path}`, { method: 'POST', headers, body });
    t.equal(res.status, status, `${what}: ${status}`);
  }
});

/** A gateway whose database the test can take away: a TCP proxy for PostgreSQL, close() for PGlite. */
async function gatewayWithKillableDb(t: Test): Promise<{ gw: Gateway; kill(): Promise<void> }> {
  if (defaultKind === 'pglite') {
    const gw = await startGateway(t);
    // Closing PGlite is the outage; the gateway's own teardown would close it a second time, which PGlite
    // refuses, so the test ends the gateway itself (close() runs once).
    t.teardown(() => gw.close().catch(() => {}));
    return { gw, kill: () => gw.services.db.close() };
  }
  const fresh = await freshDb('pg', PG_URL);
  const direct = new URL(fresh.url!);
  await fresh.db.close();
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(direct);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  t.teardown(async () => { proxy.close(); await fresh.drop(); });
  const gw = await startGateway(t, { databaseUrl: viaProxy.href, overrides: { database: { connectionTimeoutMs: 500 } } });
  return { gw, kill: () => proxy.cut() };
}

t.test('a database outage: 503 with Retry-After, never a 500', async (t) => {
  const { gw, kill } = await gatewayWithKillableDb(t);
  await addUser(gw);
  const rp = await discover(gw);
  const s = await startAuthorize(gw, rp, { scope: 'openid' });
  const page = await s.res.text();
  t.equal(s.res.status, 200, 'healthy first');

  await kill();

  const expect503 = async (what: string, res: Response, html: boolean) => {
    const body = await res.text();
    t.equal(res.status, 503, `${what}: 503`);
    t.equal(res.headers.get('retry-after'), '5', `${what}: Retry-After`);
    t.equal(res.headers.get('cache-control'), 'no-store', `${what}: not cached`);
    if (html) t.equal(codeOf(body), 'GW_UNAVAILABLE', `${what}: a page with a stable code`);
    else t.equal((JSON.parse(body) as { error: string }).error, 'temporarily_unavailable', `${what}: OAuth error`);
    t.notOk(hasStackTrace(body), `${what}: no stack trace`);
  };
  await expect503('login page', await s.browser.navigate(s.at), true);
  await expect503('login POST', await submitLogin(s.browser, gw, page, 'alice', 'correct horse battery'), false);
  await expect503('authorization request', await new Browser().navigate(authorizeUrl(gw)), true);
  const token = await fetch(`${gw.url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: confidentialClient.redirectUris[0]!, code_verifier: 'v'.repeat(43) }),
  });
  await expect503('token request', token, false);
  const discovery = await fetch(`${gw.url}/.well-known/openid-configuration`);
  t.equal(discovery.status, 200, 'discovery needs no database and keeps answering');
});
