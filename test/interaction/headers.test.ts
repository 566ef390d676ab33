// Every page: a strict CSP that forbids framing, no caching of interaction pages, no external resources,
// a language attribute. Checked on Gatehouse's own screens and on the screens oidc-provider renders.
import t, { type Test } from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { BROWSER_ACCEPT, readForm } from '../helpers/browser.ts';
import { addUser, authorizeUrl, discover, loginAndGetTokens, startAuthorize, thirdPartyClient } from '../helpers/oidc.ts';
import * as client from 'openid-client';

/** Parses a CSP header into directive → sources. */
const csp = (header: string | null) => Object.fromEntries((header ?? '').split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k!, v]));

function checkHeaders(t: Test, res: Response, what: string) {
  const policy = csp(res.headers.get('content-security-policy'));
  t.same(policy['frame-ancestors'], ["'none'"], `${what}: frame-ancestors 'none'`);
  t.same(policy['default-src'], ["'none'"], `${what}: default-src 'none'`);
  t.notOk((policy['script-src'] ?? []).some((s: string) => s === "'unsafe-inline'" || s === "'unsafe-eval'" || s === '*'), `${what}: no unsafe script sources`);
  t.same(policy['base-uri'], ["'none'"], `${what}: base-uri 'none'`);
  t.equal(res.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  t.equal(res.headers.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  t.equal(res.headers.get('cache-control'), 'no-store', `${what}: not cached`);
  t.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/i, `${what}: HTML in UTF-8`);
}

function checkPage(t: Test, html: string, what: string) {
  t.match(html, /^<!doctype html>\n<html lang="en">/i, `${what}: doctype and lang`);
  const urls = [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((m) => m[1]!);
  t.ok(urls.length > 0, `${what}: has links to check`);
  for (const u of urls) t.ok(u.startsWith('/') && !u.startsWith('//'), `${what}: ${u} is same-origin and relative`);
  t.notMatch(html, /<script|style="|on(?:click|load|submit)=/i, `${what}: no inline script or style (CSP-clean)`);
  t.match(html, '<link rel="stylesheet" href="/assets/gatehouse.css">');
}

t.test('security headers and page hygiene', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, thirdPartyClient] } } });
  await addUser(gw);
  const rp = await discover(gw);

  t.test('login page', async (t) => {
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    checkHeaders(t, s.res, 'login');
    checkPage(t, await s.res.text(), 'login');
  });

  t.test('consent page', async (t) => {
    const partner = await discover(gw, thirdPartyClient);
    const s = await startAuthorize(gw, partner, { scope: 'openid email', redirectUri: thirdPartyClient.redirectUris[0] });
    const form = readForm(await s.res.text(), '/login');
    const posted = await s.browser.post(new URL(form.action, gw.url), { ...form.fields, username: 'alice', password: 'correct horse battery' });
    const { res } = await s.browser.follow(posted, gw.url, (u) => u.href.startsWith(thirdPartyClient.redirectUris[0]!));
    t.equal(res.status, 200);
    checkHeaders(t, res, 'consent');
    checkPage(t, await res.text(), 'consent');
  });

  t.test('error pages (Gatehouse and oidc-provider)', async (t) => {
    const expired = await fetch(`${gw.url}/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, { headers: { accept: BROWSER_ACCEPT } });
    t.equal(expired.status, 400);
    checkHeaders(t, expired, 'expired interaction');
    checkPage(t, await expired.text(), 'expired interaction');
    const badRedirect = await fetch(authorizeUrl(gw, { redirect_uri: 'https://evil.example/cb' }), { headers: { accept: BROWSER_ACCEPT } });
    t.equal(badRedirect.status, 400);
    checkHeaders(t, badRedirect, 'authorization error');
    checkPage(t, await badRedirect.text(), 'authorization error');
  });

  t.test('logout pages rendered by oidc-provider', async (t) => {
    const { browser, tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid' });
    const res = await browser.navigate(client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! }));
    t.equal(res.status, 200);
    checkHeaders(t, res, 'logout confirmation');
    const html = await res.text();
    t.match(html, /^<!doctype html>\n<html lang="en">/i);
    // The one absolute URL allowed: the confirmation form posts to the issuer's own endpoint.
    for (const m of html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)) {
      t.ok(m[1]!.startsWith('/') || m[1]!.startsWith(`${gw.url}/oidc/`), `${m[1]} stays on the gateway`);
    }
    t.notMatch(html, /<script|style="/i);
  });

  t.test('stylesheets are same-origin, typed and cacheable', async (t) => {
    for (const path of ['/assets/gatehouse.css', '/assets/theme.css']) {
      const res = await fetch(`${gw.url}${path}`);
      t.equal(res.status, 200, path);
      t.match(res.headers.get('content-type'), /^text\/css/);
      t.match(await res.text(), /\{/);
    }
  });

  t.test('protocol endpoints carry the headers too', async (t) => {
    const res = await fetch(`${gw.url}/.well-known/openid-configuration`);
    t.equal(res.headers.get('x-frame-options'), 'DENY');
    t.same(csp(res.headers.get('content-security-policy'))['frame-ancestors'], ["'none'"]);
  });
});
