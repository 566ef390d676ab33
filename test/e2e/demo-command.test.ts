// `npm run demo` itself (node demo/main.ts, as a child process on free ports and a temporary data dir):
// it prints every URL and credential, the printed password and authenticator seed sign in through a real
// browser, Ctrl-C (SIGINT) stops everything with exit code 0, and a restart keeps the same seed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeAt, stepAt } from '../../src/mfa/totp/totp-code.ts';
import { clickAndWait, launch, ROOT, shownAmr, typeCode, typePassword, Walk, isScreenPath } from './kit.ts';

t.setTimeout(15 * 60_000);

const free = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

async function freeBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const all = await Promise.all([0, 1, 2, 3, 443].map((d) => free(base + d)));
    if (all.every(Boolean)) return base;
  }
  throw new Error('no free port range for the demo');
}

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-test-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

async function startDemo(base: number) {
  let out = '';
  const child = spawn(process.execPath, ['demo/main.ts'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, DEMO_PORT: String(base), DEMO_DATA_DIR: dataDir },
  });
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  for (let i = 0; i < 1800 && !out.includes('Ctrl-C stops everything'); i++) {
    if (child.exitCode !== null) throw new Error(`the demo exited early (${child.exitCode}):\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!out.includes('Ctrl-C stops everything')) throw new Error(`the demo did not start:\n${out}`);
  return { child, exited, out: () => out };
}

const field = (out: string, name: string) => new RegExp(`^ {4}${name} +(.+)$`, 'm').exec(out)?.[1]?.trim() ?? '';

t.test('npm run demo: prints everything, signs in with what it printed, stops on Ctrl-C, keeps its data', async (t) => {
  const base = await freeBase();
  const demo = await startDemo(base);
  const out = demo.out();
  const gw = `http://127.0.0.1:${base}`;
  const appUrl = `http://127.0.0.1:${base + 1}`;
  t.equal(field(out, 'Sample OIDC app'), appUrl);
  t.equal(field(out, 'Sample SAML SP'), `http://127.0.0.1:${base + 2}`);
  t.match(field(out, 'Partner app'), `http://127.0.0.1:${base + 3}`);
  t.equal(field(out, 'Account portal'), `${gw}/account`);
  t.match(field(out, 'Duo emulator'), `https://localhost:${base + 443}`);
  t.match(out, `${gw}/.well-known/openid-configuration`);
  const username = field(out, 'username');
  const password = field(out, 'password');
  const seed = field(out, 'authenticator seed').split('(')[0]!.replace(/\s/g, '');
  const recovery = field(out, 'recovery codes').split(/\s+/);
  t.equal(username, 'alice');
  t.ok(password.length >= 12, 'a password is printed');
  t.match(seed, /^[A-Z2-7]{32}$/, 'the authenticator seed is printed');
  t.match(field(out, 'current code'), /^\d{6}\b/, 'and a current code');
  t.equal(recovery.length, 10, 'ten recovery codes are printed');

  t.equal((await fetch(`${gw}/readyz`)).status, 200, 'the gateway is ready');
  t.equal((await fetch(`${gw}/saml/metadata`)).status, 200, 'the SAML IdP answers');

  // The printed credentials work in a browser: password, then the authenticator app among Duo and recovery.
  const browser = await launch(t);
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1024, height: 768 } });
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  const w = new Walk(t, 'demo', context, page, [gw, appUrl, `https://localhost:${base + 443}`]);
  await page.goto(appUrl);
  await w.step('app-signed-out');
  await clickAndWait(w, '#sign-in');
  await w.step('gateway-login');
  await typePassword(w, username, password);
  await w.at((u) => u.origin === gw && isScreenPath(u.pathname));
  await w.step('factor-choice');
  t.ok(await page.isEnabled('#factor-duo') && await page.isEnabled('#factor-totp') && await page.isEnabled('#factor-recovery'), 'Duo, the authenticator app and recovery codes are offered');
  await clickAndWait(w, '#factor-totp');
  await typeCode(w, codeAt(seed, stepAt(Date.now())));
  await w.at((u) => u.origin === appUrl && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
  await context.close();

  demo.child.kill('SIGINT');
  t.equal(await demo.exited, 0, 'Ctrl-C: exit code 0');
  t.match(demo.out(), /stopped\./);
  for (const port of [base, base + 1, base + 2, base + 3, base + 443]) t.ok(await free(port), `port ${port} released`);

  // A restart over the same data directory: same user, same seed, new recovery codes.
  const again = await startDemo(base);
  t.equal(field(again.out(), 'authenticator seed').split('(')[0]!.replace(/\s/g, ''), seed, 'the seed survives a restart');
  t.not(field(again.out(), 'recovery codes'), recovery.join('  '), 'recovery codes are new at every start');
  again.child.kill('SIGTERM');
  t.equal(await again.exited, 0, 'SIGTERM: exit code 0');
});
