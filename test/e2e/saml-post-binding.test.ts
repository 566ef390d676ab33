// A real browser and a real cross-site HTTP-POST AuthnRequest: the SP's page is served from
// http://localhost:<port> and posts to the gateway at http://127.0.0.1:<port>, another site, so Chromium
// sends Sec-Fetch-Site: cross-site and keeps the gateway's SameSite=Lax session cookie back. The gateway's
// resend page (src/protocols/saml/first-party-resend.ts) posts the request again from its own origin, with
// the cookie, and a signed-in browser gets its Response from that post: no trip through /oidc/auth. The
// protocol tests model this browser behaviour (test/helpers/browser.ts crossSitePost); this test checks the
// model against Chromium.
import { createServer, type IncomingMessage } from 'node:http';
import t from 'tap';
import { escapeHtml } from '../../src/views/html.ts';
import { nodeSamlSp, SP_ACS, spConfig, startSamlGateway, withUser } from '../saml/helpers.ts';
import { launch, PASSWORD } from './kit.ts';

const browser = await launch(t);

t.test('a cross-site HTTP-POST AuthnRequest in Chromium', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig()]);
  await withUser(gw);
  const sp = await nodeSamlSp(gw, { authnRequestBinding: 'HTTP-POST', skipRequestCompression: true });

  // The SP's page: an auto-submitting form of the AuthnRequest, as node-saml's HTTP-POST binding sends it.
  let message: Record<string, string> = {};
  const spSite = createServer((_req, res) => {
    const inputs = Object.entries(message).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><title>SP</title><form method="post" action="${gw.url}/saml/sso">${inputs}</form><script>document.forms[0].submit()</script>`);
  });
  await new Promise<void>((r) => spSite.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => spSite.close(() => r())));
  const spPage = `http://localhost:${(spSite.address() as { port: number }).port}/login`;
  t.not(new URL(spPage).hostname, new URL(gw.url).hostname, 'the SP page is on another site than the gateway');

  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  // The ACS (https://sp.example.test) is answered here: the test reads the SAMLResponse that arrives.
  const arrived: string[] = [];
  await context.route(SP_ACS, async (route) => {
    arrived.push(new URLSearchParams(route.request().postData() ?? '').get('SAMLResponse') ?? '');
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>ACS</title><p id="acs">ok</p>' });
  });
  // Every page request the gateway receives (not its stylesheets and scripts), with the headers that really
  // arrived (read on the server: Playwright's view of a POST navigation lacks the network layer's headers).
  const toGateway: { method: string; path: string; site: string | undefined; cookie: boolean }[] = [];
  gw.app.server.prependListener('request', (req: IncomingMessage) => {
    const path = new URL(req.url ?? '/', gw.url).pathname;
    if (req.method === 'GET' && (path.startsWith('/assets/') || path === '/favicon.ico')) return;
    toGateway.push({ method: req.method ?? '', path, site: req.headers['sec-fetch-site'] as string | undefined, cookie: /(?:^|; )_session=/.test(req.headers.cookie ?? '') });
  });
  const requests = () => toGateway.splice(0);
  // The SP page's script submits its form while it loads: a signed-in trip can reach the ACS before the
  // navigation to the page itself is reported, which Playwright reports as that navigation interrupted.
  const openSpPage = () => page.goto(spPage, { waitUntil: 'commit' }).then(() => undefined, (err: Error) => {
    if (!/interrupted by another navigation/.test(err.message)) throw err;
  });
  /** Resolves when one more Response has reached the ACS (the page may already be at the ACS's URL). */
  const acsReached = async () => {
    const n = arrived.length;
    for (let waited = 0; arrived.length === n; waited += 50) {
      if (waited > 60_000) throw new Error('no Response reached the ACS within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  t.test('signed out: the cross-site post is resent, then the login form, then the Response', async (t) => {
    message = await sp.getAuthorizeMessageAsync('rs-1') as Record<string, string>;
    await openSpPage();
    await page.waitForSelector('#username');
    await page.fill('#username', 'alice');
    await page.fill('#password', PASSWORD);
    await Promise.all([acsReached(), page.click('#sign-in')]);
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: arrived.at(-1)! });
    t.equal(profile?.nameID, 'alice@example.com', 'node-saml accepts the Response');
    const posts = requests().filter((r) => r.path === '/saml/sso');
    t.same(posts.map((r) => [r.site, r.cookie]), [['cross-site', false], ['same-origin', false]], 'posted from the SP, then from the gateway\'s own page');
  });

  t.test('signed in: the resend carries the session cookie and is answered at once', async (t) => {
    message = await sp.getAuthorizeMessageAsync('rs-2') as Record<string, string>;
    await Promise.all([acsReached(), openSpPage()]);
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: arrived.at(-1)! });
    t.equal(profile?.nameID, 'alice@example.com', 'node-saml accepts the Response');
    t.same(requests(),
      [{ method: 'POST', path: '/saml/sso', site: 'cross-site', cookie: false }, { method: 'POST', path: '/saml/sso', site: 'same-origin', cookie: true }],
      'two posts to /saml/sso (the first without the Lax cookie, the resend with it), no /oidc/auth, no /saml/continue');
  });
});
