// The container runs exactly what `npm start` runs and what these tests start: `node src/main.ts`.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { ROOT, startProcess } from '../helpers/process.ts';

t.test('Dockerfile, package.json and tests agree on the start command', async (t) => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const cmd = /^CMD \[(.*)\]$/m.exec(dockerfile)?.[1];
  t.equal(cmd, '"node", "src/main.ts"');
  t.equal(pkg.scripts.start, 'node src/main.ts');
  t.match(dockerfile, /^FROM node:24-slim AS deps$/m, 'multi-stage, Node 24 LTS slim');
  t.match(dockerfile, /^USER node$/m, 'non-root');
  t.match(dockerfile, /^HEALTHCHECK /m);
  t.match(dockerfile, /^EXPOSE 8080$/m);
  t.match(dockerfile, /npm ci --omit=dev/, 'production dependencies only');
  t.notMatch(dockerfile, /GATEHOUSE_SECRET=|DUO_CLIENT_SECRET=|DATABASE_URL=/, 'no secrets baked in');
});

t.test('the start command boots on the embedded database, prints the next steps, stops cleanly on SIGTERM', async (t) => {
  const p = await startProcess(t, { LOG_LEVEL: 'info' });
  t.match(p.stdout(), /Issuer: {5}http:\/\/localhost:\d+/);
  t.match(p.stdout(), /npx gatehouse user add/, 'tells the newcomer what to do next');
  // Every URL the banner prints answers (the issuer is localhost; the process listens on 127.0.0.1).
  const printed = [...p.stdout().matchAll(/http:\/\/localhost:\d+(\/[^\s]*)?/g)].map((m) => m[1] ?? '/');
  t.match(printed, ['/', '/.well-known/openid-configuration', '/healthz', '/readyz', '/saml/metadata', '/account', '/metrics'], 'issuer, discovery, health, SAML metadata, portal, metrics');
  for (const path of printed.slice(1)) t.ok([200, 303].includes((await fetch(`${p.url}${path}`, { redirect: 'manual' })).status), `${path} answers`);
  t.equal((await fetch(`${p.url}/readyz`)).status, 200);
  if (process.platform === 'linux') {
    // The event loop runs before password hashes (src/platform/pool-priority.ts): the pool's threads at
    // nice 10, the main thread as started.
    const threads = readdirSync(`/proc/${p.child.pid}/task`).map((tid) => ({ name: readFileSync(`/proc/${p.child.pid}/task/${tid}/comm`, 'utf8').trim(), nice: getPriority(Number(tid)) }));
    const pool = threads.filter((x) => x.name === 'libuv-worker');
    t.ok(pool.length >= 1, `libuv's pool is running (${pool.length} threads)`);
    t.ok(pool.every((x) => x.nice === 10), 'every pool thread at nice 10');
    t.equal(getPriority(p.child.pid!), getPriority(), 'the main thread keeps the priority it was started with');
  }
  const disco = await (await fetch(`${p.url}/.well-known/openid-configuration`)).json() as { issuer: string };
  t.equal(disco.issuer, `http://localhost:${p.port}`);
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0, `exit 0 after SIGTERM ${p.stdout().slice(-800)} ${p.stderr().slice(-500)}`);
  if (!p.child.stdout!.readableEnded) await new Promise((r) => p.child.stdout!.once('end', r));
  // The logs are JSON lines on stdout (written synchronously, src/platform/logger.ts): a request line for
  // each request above, and the shutdown's last line.
  const lines = p.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string } });
  const readyz = lines.filter((l) => l.msg === 'request' && l.req?.url === '/readyz').length;
  t.equal(readyz, printed.includes('/readyz') ? 2 : 1, 'one request line per /readyz request');
  t.ok(lines.some((l) => l.msg === 'stopped'), 'the last line before exit is out');
  // Nothing an operator would have to look into: no deprecation (DEP0204 came from the old inline signing),
  // no oidc-provider notice (an unacknowledged experiment, development keys or adapter).
  t.notMatch(p.stderr(), /DeprecationWarning|oidc-provider (WARNING|NOTICE)/, 'no warning on stderr');
  t.notMatch(p.stdout(), /oidc-provider (WARNING|NOTICE)/, 'no oidc-provider notice on stdout');
});

t.test('a broken configuration stops the start with every problem and exit 2', async (t) => {
  await t.rejects(startProcess(t, { PORT: 'not-a-port', GATEHOUSE_MODE: 'production' }), /exited early \(2\)[\s\S]*PORT[\s\S]*GATEHOUSE_SECRET/);
});
