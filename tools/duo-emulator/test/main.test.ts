// The standalone CLI: starts, writes the CA file, prints what a demo needs,
// serves the real SDK, and exits cleanly on SIGTERM.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loginForCode, makeClient, startLogin } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const CLIENT_ID = 'DICLICLICLICLICLICLI';
const CLIENT_SECRET = 's'.repeat(40);

t.test('CLI round trip', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'duo-emu-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'nested', 'ca.pem');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DUO_EMULATOR_PORT: '0',
      DUO_EMULATOR_CA_FILE: caFile,
      DUO_CLIENT_ID: CLIENT_ID,
      DUO_CLIENT_SECRET: CLIENT_SECRET,
      DUO_EMULATOR_OUTCOMES: 'bob=deny',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      if (out.includes('Ctrl-C to stop.')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`CLI exited early (${code}): ${out}`)));
  });

  const apiHost = /apiHost:\s+(\S+)/.exec(out)![1]!;
  t.match(apiHost, /^localhost:\d+$/);
  t.match(out, new RegExp(`client id:\\s+${CLIENT_ID}`));
  t.match(out, new RegExp(`client secret:\\s+${CLIENT_SECRET}`));
  t.match(out, /default outcome: interactive/);
  const target = { apiHost, caPem: await readFile(caFile, 'utf8'), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

  const client = makeClient(target);
  t.equal(((await client.healthCheck()) as { stat: string }).stat, 'OK');
  const { hop } = await startLogin(target, client, 'alice');
  t.ok(hop.location?.startsWith(`https://${apiHost}/frame/frameless/v4/auth?sid=`), 'interactive by default');
  const { code } = await loginForCode(target, client, 'bob');
  t.match((await client.exchangeAuthorizationCodeFor2FAResult(code, 'bob')).auth_result, { status: 'deny' });

  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.match(out, /POST \/oauth\/v1\/health_check 200 client=DICLI/);
  t.notMatch(out.split('Ctrl-C to stop.')[1], CLIENT_SECRET, 'the request log does not repeat the secret');
});

t.test('CLI refuses half-configured credentials', async (t) => {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, DUO_EMULATOR_PORT: '0', DUO_CLIENT_ID: CLIENT_ID, DUO_CLIENT_SECRET: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 1);
  t.match(err, /DUO_CLIENT_ID and DUO_CLIENT_SECRET/);
});
