// The audit itself (a11y.ts) can fail: on a page with known faults, served with the gateway's own CSP,
// axe names them and the focus check catches an invisible focus; and injecting axe leaves the page's CSP
// in force (an inline script is still refused), so the browser tests' "no CSP violation" check keeps its meaning.
import t from 'tap';
import { CSP } from '../../src/platform/security-headers.ts';
import { audit } from './a11y.ts';
import { launch } from './kit.ts';

t.setTimeout(5 * 60_000);
const browser = await launch(t);
const ORIGIN = 'http://gatehouse.invalid';

const BROKEN = `<!doctype html><html><head><meta charset="utf-8"><title>Broken</title>
<style>button:focus{outline:none}</style></head>
<body><main><h1>Sign in</h1>
<input type="text" id="username">
<p style="color:#bbb;background:#fff">Low contrast text</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button id="go">Go</button>
<div class="alert">Something failed</div>
<div style="width:900px">wide</div>
<script>document.title = 'inline script ran';</script>
</main></body></html>`;

t.test('a page with faults: axe and the focus, reflow and alert checks find them; the CSP stays in force', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  t.teardown(() => context.close());
  // Served with the gateway's CSP, except that the test's own inline style must apply (a fault under test).
  await context.route(`${ORIGIN}/**`, (route) => route.fulfill({
    status: 200, contentType: 'text/html; charset=utf-8', body: BROKEN,
    headers: { 'content-security-policy': CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") },
  }));
  const page = await context.newPage();
  const refused: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()); });
  await page.goto(`${ORIGIN}/`);
  const report = await audit(page);
  const all = [...report.problems, ...report.notes].join('\n');
  for (const rule of ['label', 'color-contrast', 'image-alt']) t.match(all, new RegExp(`axe \\w+ ${rule}:`), `axe reports ${rule}`);
  t.match(report.problems.join('\n'), /axe (serious|critical) /, 'as serious or critical problems');
  t.match(all, /no visible focus on button#go/, 'the invisible focus');
  t.match(all, /<div> looks like an error but has no role=alert/, 'the unannounced error');
  t.match(all, /no responsive viewport meta/, 'the missing viewport');
  t.ok(report.overflowAt320, 'the sideways scrolling at 320 px');
  t.ok(report.rulesRun >= 10, `axe ran its rules (${report.rulesRun})`);
  t.not(await page.title(), 'inline script ran', 'the page\'s CSP still refuses its inline script');
  t.ok(refused.some((m) => /inline script/i.test(m)), 'and the browser reports the refusal');
  t.notOk(refused.some((m) => /axe/i.test(m)), 'injecting axe caused no CSP report');
});
