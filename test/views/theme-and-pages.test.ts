// The pages' theming and plain wording, over real HTTP (no browser): the configured logo is inlined in the
// login page while the CSP still refuses every image from elsewhere; a missing, too large or non-image logo
// is a configuration error naming ui.logoFile; oidc-provider's error pages speak plainly; /favicon.ico is
// answered (204) instead of logging a 404.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, TEST_SECRET } from '../helpers/gateway.ts';
import { discover, startAuthorize, authorizeUrl } from '../helpers/oidc.ts';
import { BROWSER_ACCEPT, hasStackTrace } from '../helpers/browser.ts';
import { problemsOf } from '../config/fixtures.ts';
import { MAX_LOGO_BYTES, readLogo } from '../../src/views/logo.ts';
import { page } from '../../src/views/layout.ts';
import { html } from '../../src/views/html.ts';

const SVG = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Example Corp -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40"><rect width="120" height="40" rx="6" fill="#0b6e4f"/><text x="12" y="27" font-size="18" fill="#fff">Example</text></svg>
`;
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

const dir = t.testdir({ 'logo.svg': SVG, 'notes.txt': 'not an image\n', 'empty.svg': '', big: '' });
writeFileSync(join(dir, 'logo.png'), PNG);
writeFileSync(join(dir, 'logo.gif'), GIF);
writeFileSync(join(dir, 'big.svg'), `<svg xmlns="http://www.w3.org/2000/svg">${' '.repeat(MAX_LOGO_BYTES)}</svg>`);

/** CSP directives → their source lists. */
const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...sources]) => [name!, sources]));

t.test('the logo is inlined in the login page; the CSP still refuses images from anywhere else', async (t) => {
  const gw = await startGateway(t, { overrides: { ui: { productName: 'Example Corp SSO', primaryColor: '#0b6e4f', logoFile: join(dir, 'logo.svg') } } });
  const { res } = await startAuthorize(gw, await discover(gw));
  t.equal(res.status, 200);
  const body = await res.text();
  t.match(body, 'id="username"', 'the login page');
  const img = /<p class="brand"><img class="logo" src="([^"]+)" alt="([^"]*)"><\/p>/.exec(body);
  t.ok(img, 'the logo is an <img> in place of the product name');
  t.equal(img?.[1], `data:image/svg+xml;base64,${Buffer.from(SVG).toString('base64')}`, 'inlined as a data: URI, byte for byte');
  t.equal(img?.[2], 'Example Corp SSO', 'its alt text is the product name');
  t.match(body, '<title>Sign in · Example Corp SSO</title>');
  t.notMatch(body, /(src|href)="(https?:)?\/\//, 'nothing is loaded from another origin');

  const csp = directives(res.headers.get('content-security-policy') ?? '');
  t.same(csp.get('default-src'), ["'none'"], 'default-src none');
  t.same(csp.get('img-src')!.sort(), ["'self'", 'data:'], 'images: this origin and inline data: only');
  for (const [name, sources] of csp) {
    t.notOk(sources.some((s) => /^(\*|https?:|https?:\/\/|blob:|[a-z0-9.-]+\.[a-z]{2,})/i.test(s)), `${name} names no external source`);
  }
  const theme = await fetch(`${gw.url}/assets/theme.css`);
  t.match(await theme.text(), '--accent:#0b6e4f', 'the colour from config');
});

t.test('a PNG logo too; without a logo, the product name as text', async (t) => {
  const png = readLogo(join(dir, 'logo.png'));
  t.equal(png.type, 'image/png');
  const withPng = page({ title: 'Sign in', body: html`<p>x</p>`, theme: { productName: 'Acme & Co', primaryColor: '#1f5fbf', logoFile: join(dir, 'logo.png') } });
  t.match(withPng, `<img class="logo" src="data:image/png;base64,${PNG.toString('base64')}" alt="Acme &amp; Co">`);
  const plain = page({ title: 'Sign in', body: html`<p>x</p>`, theme: { productName: 'Acme & Co', primaryColor: '#1f5fbf' } });
  t.match(plain, '<p class="brand">Acme &amp; Co</p>');
  t.notMatch(plain, '<img');
});

t.test('a logo that is missing, too large or not an SVG/PNG is a configuration error naming the setting', async (t) => {
  const problems = (logoFile: string) => problemsOf({ env: { GATEHOUSE_SECRET: TEST_SECRET }, overrides: { ui: { logoFile } } });
  t.same(problems(join(dir, 'missing.svg')), ['/ui/logoFile (GATEHOUSE_UI__LOGO_FILE): cannot read the file it names (no such file)']);
  t.same(problems(dir), ['/ui/logoFile (GATEHOUSE_UI__LOGO_FILE): cannot read the file it names (it is a directory)']);
  t.match(problems(join(dir, 'big.svg')), [/^\/ui\/logoFile \(GATEHOUSE_UI__LOGO_FILE\): is 16\.\d KiB; the logo is inlined in every page, so it may be at most 16 KiB/]);
  t.same(problems('/dev/zero'), ['/ui/logoFile (GATEHOUSE_UI__LOGO_FILE): is not a regular file of at most 16 KiB'], 'a device that never ends is read no further than the limit');
  for (const f of ['logo.gif', 'notes.txt', 'empty.svg']) {
    t.match(problems(join(dir, f)), [/^\/ui\/logoFile \(GATEHOUSE_UI__LOGO_FILE\): is not an SVG or PNG image/], `${f} is refused`);
  }
  // Through the environment, as an operator would set it.
  t.same(problemsOf({ env: { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_UI__LOGO_FILE: join(dir, 'logo.gif') } }).length, 1);
});

t.test('oidc-provider\'s error pages: a plain sentence, what to do, the reference code; no jargon alone, no stack', async (t) => {
  const gw = await startGateway(t);
  const get = async (url: URL | string) => {
    const res = await fetch(url, { redirect: 'manual', headers: { accept: BROWSER_ACCEPT } });
    const body = await res.text();
    const text = (id: string) => new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(body)?.[1] ?? '';
    return { res, body, alert: text('error'), code: text('error-code') };
  };
  const cases: Array<[string, URL | string, RegExp, string]> = [
    ['unregistered redirect_uri', authorizeUrl(gw, { redirect_uri: 'https://evil.example/cb' }), /asked Gatehouse to send you back to an address it has not registered, so the sign-in was stopped/, 'GW_OIDC_REDIRECT_URI'],
    ['unknown application', authorizeUrl(gw, {}, 'no-such-client'), /The application that sent you here is not known to Gatehouse\./, 'GW_OIDC_INVALID_CLIENT'],
    ['an incomplete request', authorizeUrl(gw, { client_id: undefined }), /The application sent a sign-in request that Gatehouse cannot accept\./, 'GW_OIDC_INVALID_REQUEST'],
    ['a sign-out to an unregistered address', `${gw.url}/oidc/session/end?client_id=web-app&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`, /send you back, after signing out, to an address it has not registered\. You are still signed in\./, 'GW_OIDC_INVALID_REQUEST'],
    ['a sign-out hint that cannot be verified', `${gw.url}/oidc/session/end?id_token_hint=garbage`, /could not be verified\. You are still signed in\./, 'GW_OIDC_INVALID_REQUEST'],
    ['an expired or reused sign-in', `${gw.url}/oidc/auth/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, /This sign-in page has expired or was opened in a different browser\./, 'GW_INTERACTION_EXPIRED'],
  ];
  for (const [name, url, sentence, code] of cases) {
    const p = await get(url);
    t.equal(p.res.status, 400, `${name}: 400`);
    t.match(p.alert, sentence, `${name}: the plain sentence, announced (role=alert)`);
    t.notMatch(p.alert, /invalid_|redirect_uri|client_id|_hint|\bparameter\b/, `${name}: no protocol words in what the user reads first`);
    t.match(p.body, /<p>Go back to the application/, `${name}: what to do next`);
    t.equal(p.code, code, `${name}: reference code ${code}`);
    t.notOk(hasStackTrace(p.body), `${name}: no stack trace`);
    t.notMatch(p.body, 'evil.example', `${name}: the address asked for is not echoed`);
  }
  const detail = (await get(authorizeUrl(gw, { redirect_uri: 'https://evil.example/cb' }))).body;
  t.match(detail, /id="error-detail">Detail for the application's developers: invalid_redirect_uri: redirect_uri did not match any of the client&#39;s/, 'the protocol detail comes after, for developers');
});

t.test('/favicon.ico is answered with 204, not a 404 in the log', async (t) => {
  const gw = await startGateway(t);
  const res = await fetch(`${gw.url}/favicon.ico`);
  t.equal(res.status, 204);
  t.equal((await res.arrayBuffer()).byteLength, 0);
  t.match(res.headers.get('cache-control'), /max-age=\d+/, 'cached, so browsers do not ask every time');
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(gw.logs.some((l) => l.includes('/favicon.ico') && /"statusCode":404|GW_NOT_FOUND/.test(l)), 'no 404 logged');
});
