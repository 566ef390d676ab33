// oidc-provider as published gives every request's Koa context its `oidc` property as a getter closure of
// its own. V8 then turns each context into a dictionary-mode (slow-properties) object, and under load the
// getter kept each request's whole graph alive through young-generation GCs until the next full GC: ≈ 11 %
// of all allocation promoted, scavenges of 10–15 ms (bench/REPORT.md, 2026-12-06 afternoon).
// scripts/patch-dependencies.mjs (postinstall) makes it a data property. These tests fail when the patch
// is lost (an upgrade, `npm ci --ignore-scripts`): the property, the contexts' fast properties in the
// gateway itself, and the patch script. The GC effect itself is measured by the bench's latency runs (GC
// pauses per run). A heap-growth assertion here was tried and dropped: under the parallel test run it
// varied from 3 to 19 KiB per request with the patch in place.
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type Provider from 'oidc-provider';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
// @ts-expect-error plain JavaScript (npm runs it with whatever Node runs npm), no declarations
import { patchDependencies, PATCHES } from '../../scripts/patch-dependencies.mjs';

// V8's own view of an object's shape (test-only natives; the flag must be set before these are compiled).
setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

t.test('the gateway\'s request contexts keep fast properties', async (t) => {
  const gw = await startGateway(t);
  const provider = (gw.app as unknown as { provider: { current(): Provider } }).provider.current();
  const contexts: object[] = [];
  // oidc-provider hands the request's context to its listeners once a grant succeeded.
  provider.on('grant.success', (ctx: object) => { contexts.push(ctx); });
  const auth = `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}`;
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${gw.url}/oidc/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api' });
    t.equal(res.status, 200, `grant ${i + 1}`);
  }
  t.equal(contexts.length, 3, `one context per grant (${contexts.length})`);
  t.ok(contexts.every((c) => Object.getOwnPropertyDescriptor(c, 'oidc')?.get === undefined), 'ctx.oidc has no getter of its own');
  t.ok(contexts.every(hasFastProperties), 'no context was turned into a dictionary-mode object');
});

t.test('the oidc-provider context property is a data property', async (t) => {
  const Provider = (await import('oidc-provider')).default;
  const provider = new Provider('http://127.0.0.1', { clients: [] });
  let descriptor: PropertyDescriptor | undefined;
  provider.use(async (ctx, next) => { await next(); descriptor = Object.getOwnPropertyDescriptor(ctx, 'oidc'); });
  const server = http.createServer(provider.callback()).listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/jwks`);
  t.equal(res.status, 200);
  t.ok(descriptor, 'ctx.oidc is defined');
  t.equal(descriptor?.get, undefined, 'no getter of its own per request');
  t.ok(descriptor?.value && typeof descriptor.value === 'object', 'the OIDC context itself');
  t.notOk(descriptor?.writable || descriptor?.enumerable || descriptor?.configurable, 'attributes as before: read-only, hidden, fixed');
});

t.test('the patch script', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gh-patch-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const [p] = PATCHES as Array<{ pkg: string; file: string; from: string; to: string }>;
  const file = join(root, 'node_modules', p!.pkg, p!.file);
  t.match(patchDependencies(root)[0], /not installed/, 'a missing package is reported, not an error');
  mkdirSync(join(file, '..'), { recursive: true });
  const original = `head();\n${p!.from}\ntail();\n`;
  writeFileSync(file, original);
  t.match(patchDependencies(root)[0], /patched lib\/helpers\/initialize_app\.js/);
  const patched = readFileSync(file, 'utf8');
  t.equal(patched, `head();\n${p!.to}\ntail();\n`, 'only the expected text is replaced');
  t.match(patchDependencies(root)[0], /already patched/);
  t.equal(readFileSync(file, 'utf8'), patched, 'a second run changes nothing');
  writeFileSync(file, 'something else entirely\n');
  t.match(patchDependencies(root)[0], /NOT patched .* no longer holds the expected text/, 'a changed upstream file is reported');
  t.equal(readFileSync(file, 'utf8'), 'something else entirely\n', 'and left alone');
  const installed = readFileSync(join(import.meta.dirname, '../../node_modules', p!.pkg, p!.file), 'utf8');
  t.ok(installed.includes(p!.to), 'the installed oidc-provider is patched (npm ci runs the script as postinstall)');
});
