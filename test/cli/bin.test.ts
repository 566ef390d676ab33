// The real executable: bin/gatehouse.mjs as a child process, the way `npx gatehouse` starts it.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createUsers } from '../../src/users/users.ts';
import { cheapPasswords, cliSetup, UUID_RE } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/gatehouse.mjs', import.meta.url));
const OLD_NODE = '/usr/bin/node';

function spawnBin(node: string, argv: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [BIN, ...argv], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

t.test('bin/gatehouse.mjs on this Node: --help, and user add with the password piped on stdin', async (t) => {
  const { env, withDb } = await cliSetup(t);
  const help = await spawnBin(process.execPath, ['--help'], env);
  t.equal(help.code, 0, help.stderr);
  t.match(help.stdout, /^Usage: gatehouse <command> \[options\]\n/);

  const add = await spawnBin(process.execPath, ['user', 'add', 'dave', '--email', 'dave@example.com'], env, 'daves long password\n');
  t.equal(add.code, 0, add.stderr);
  t.equal(add.stderr, 'Created user dave. Id (the OIDC sub):\n');
  const id = add.stdout.replace(/\n$/, '');
  t.match(id, UUID_RE);
  const dave = await withDb((db) => createUsers(db).findById(id));
  t.match(dave, { username: 'dave', email: 'dave@example.com' });
  t.equal(await cheapPasswords.verify(dave!.passwordHash, 'daves long password'), true);
});

const oldVersion = existsSync(OLD_NODE) ? execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).trim() : undefined;
const [major = 0, minor = 0] = (oldVersion ?? '').slice(1).split('.').map(Number);
const tooOld = oldVersion !== undefined && (major < 22 || (major === 22 && minor < 18));

t.test(`bin/gatehouse.mjs on an old Node (${OLD_NODE} ${oldVersion ?? 'absent'}) explains what to run instead`, {
  skip: tooOld ? false : `needs a Node older than 22.18 at ${OLD_NODE}`,
}, async (t) => {
  const r = await spawnBin(OLD_NODE, ['user', 'list'], { GATEHOUSE_SECRET: 'unused' });
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, [
    `gatehouse: this is Node.js ${oldVersion} (${OLD_NODE}).`,
    'Gatehouse needs Node.js >= 22.18 with type stripping (Node.js 24 recommended).',
    'On Linux x64, `npm install` puts Node.js 24 in node_modules/.bin: run the command as',
    '`npx gatehouse ...` or `npm run gatehouse -- ...` from the project directory, which use it.',
    '',
  ].join('\n'));
});
