// The dispatcher: help, usage errors and configuration errors. None of these open a database.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRET } from '../helpers/gateway.ts';
import { run } from './helpers.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const env = { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_DATA_DIR: dataDir };
const USAGE = /^Usage: gatehouse <command> \[options\]\n[\s\S]*\nCommands:\n  migrate {2,}Apply pending database migrations\n[\s\S]*  user add <username> {2,}Create a user[\s\S]*  keys list {2,}List signing keys[\s\S]*Exit codes: 0 success, 1 failure, 2 usage or configuration error.\n$/;

t.test('--help, -h and help print the command list on stdout, exit 0', async (t) => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await run(env, argv);
    t.equal(r.code, 0, argv[0]);
    t.match(r.stdout, USAGE);
    t.equal(r.stderr, '');
  }
});

t.test('a command\'s --help lists its options, wherever the flag is', async (t) => {
  for (const argv of [['user', 'add', '--help'], ['user', 'add', 'alice', '-h'], ['help', 'user', 'add']]) {
    const r = await run(env, argv);
    t.equal(r.code, 0, argv.join(' '));
    t.match(r.stdout, /^Usage: gatehouse user add <username> \[options\]\n\nCreate a user; prints the new user's id \(the OIDC `sub`\)\.\n\nOptions:\n/);
    t.match(r.stdout, /\n  --groups A,B {2,}Comma-separated groups \(the `groups` claim\)\n/);
    t.match(r.stdout, /\n  -h, --help {2,}Show this help\n/);
    t.match(r.stdout, /never accepted as an argument/);
  }
  for (const argv of [['keys', '--help'], ['help', 'keys']]) {
    const group = await run(env, argv);
    t.equal(group.code, 0, argv.join(' '));
    t.match(group.stdout, /^Usage: gatehouse keys <command> \[options\]\n\nCommands:\n  keys rotate {2,}Create new OIDC signing keys[^\n]*\n  keys list {2,}List signing keys[^\n]*\n\n/);
  }
});

t.test('usage errors exit 2 and say what to do', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], USAGE],
    [['frobnicate'], /^gatehouse: unknown command 'frobnicate'\.\n\nUsage: gatehouse <command>/],
    [['user'], /^gatehouse: 'user' needs a command\.\n\nUsage: gatehouse user <command> \[options\]\n/],
    [['user', 'frob'], /^gatehouse: unknown command 'user frob'\.\n\nUsage: gatehouse user <command>[\s\S]*  user unlock <username>/],
    [['user', 'add'], /^gatehouse: user add: missing <username>\nRun `gatehouse user add --help` for its usage\.\n$/],
    [['user', 'add', 'a', 'b'], /^gatehouse: user add: unexpected argument 'b'\nRun `gatehouse user add --help` for its usage\.\n$/],
    [['user', 'add', 'a', '--nmae', 'x'], /^gatehouse: user add: unknown option '--nmae'\nRun `gatehouse user add --help` for its usage\.\n$/],
    [['user', 'list', '--json=yes'], /^gatehouse: user list: .*--json.*\nRun `gatehouse user list --help` for its usage\.\n$/],
    [['user', 'add', 'a', '--name'], /^gatehouse: user add: .*--name.*\nRun `gatehouse user add --help` for its usage\.\n$/],
  ];
  for (const [argv, stderr] of cases) {
    const r = await run(env, argv);
    t.equal(r.code, 2, `gatehouse ${argv.join(' ')}`);
    t.equal(r.stdout, '');
    t.match(r.stderr, stderr);
  }
});

t.test('an invalid configuration exits 2 with every problem and where to look', async (t) => {
  const r = await run({ ...env, GATEHOUSE_SERVER__PORT: 'abc' }, ['user', 'list']);
  t.equal(r.code, 2);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^gatehouse: Configuration is invalid \(1 problem\):\n  - [^\n]*GATEHOUSE_SERVER__PORT[^\n]*\n/);
  t.match(r.stderr, /See docs\/configuration\.md, or run `npx gatehouse config check`\.\n$/);
});

t.test('config check delegates to configCheck: 0 when valid, 2 with the problem when not', async (t) => {
  const ok = await run(env, ['config', 'check']);
  t.equal(ok.code, 0);
  t.match(ok.stdout, /^Configuration OK\n/);
  const bad = await run({ ...env, GATEHOUSE_SERVER__PORT: 'abc' }, ['config', 'check']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /GATEHOUSE_SERVER__PORT/);
});

t.test('an unreachable PostgreSQL is exit 1 with a hint', async (t) => {
  const r = await run({ ...env, DATABASE_URL: 'postgres://gatehouse@127.0.0.1:1/none' }, ['user', 'list']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^gatehouse: cannot reach the database: [^\n]*ECONNREFUSED[^\n]*\nIs PostgreSQL running at DATABASE_URL\? Unset DATABASE_URL to use the embedded database\.\n$/);
});

t.test('the embedded database is not opened while another process holds it', async (t) => {
  mkdirSync(join(dataDir, 'pglite'), { recursive: true });
  writeFileSync(join(dataDir, 'pglite', 'postmaster.pid'), '-42\n');
  const r = await run(env, ['user', 'list']);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`^gatehouse: the embedded database in ${dataDir} is in use by another process \\(a running gateway\\?\\)\n` +
    'The embedded database \\(no DATABASE_URL\\) allows one process at a time: stop the gateway'));
});
