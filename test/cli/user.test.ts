import t from 'tap';
import { PassThrough } from 'node:stream';
import { createUsers } from '../../src/users/users.ts';
import { cheapPasswords, cliSetup, run, UUID_RE } from './helpers.ts';

const PW = 'correct horse battery';
const setup = await cliSetup(t);
const { env, withDb } = setup;
// One connection per look: opening the on-disk PGlite is what costs time here.
const lookAtAlice = () => withDb(async (db) => {
  const user = (await createUsers(db).findByUsername('alice'))!;
  const audit = (await db.query<{ type: string; outcome: string }>('SELECT type, outcome FROM audit_events WHERE user_id = $1 ORDER BY id', [user.id])).rows;
  return { user, audit };
});
let aliceHash = '';

/** A terminal: isTTY, records raw-mode switches, types the next answer whenever a prompt appears. */
function fakeTerminal(answers: string[]) {
  const raw: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => { raw.push(on); } });
  const onStderr = (s: string) => { if (s.endsWith(': ')) stdin.write(answers.shift() ?? ''); };
  return { stdin, onStderr, raw };
}

t.test('user add: password from the first line of stdin, profile from flags, prints the new id', async (t) => {
  const r = await run(env, ['user', 'add', 'alice', '--name', 'Alice Example', '--email', 'alice@example.com', '--email-verified',
    '--groups', 'staff, admins', '--duo-alias', 'alice.duo'], { stdin: `${PW}\nnot read\n` });
  t.equal(r.code, 0);
  t.match(r.stdout, /^[0-9a-f-]{36}\n$/);
  const id = r.stdout.trim();
  t.match(id, UUID_RE);
  t.equal(r.stderr, 'Created user alice. Id (the OIDC sub):\n');
  const { user, audit } = await lookAtAlice();
  t.match(user, {
    id, username: 'alice', name: 'Alice Example', email: 'alice@example.com', emailVerified: true,
    groups: ['staff', 'admins'], duoAlias: 'alice.duo', disabled: false,
  });
  t.equal(await cheapPasswords.verify(user.passwordHash, PW), true, 'only the first line is the password');
  t.same(audit, [{ type: 'user.add', outcome: 'success' }]);
  aliceHash = user.passwordHash;
});

t.test('user add refuses --password, before touching anything, without echoing it', async (t) => {
  for (const argv of [['user', 'add', 'bob', '--password', 'hunter2hunter2'], ['user', 'add', 'bob', '--password=hunter2hunter2']]) {
    const r = await run(env, argv);
    t.equal(r.code, 2, argv.join(' '));
    t.equal(r.stdout, '');
    t.match(r.stderr, /^gatehouse: --password is not accepted: a password on the command line is visible to other local users/);
    t.match(r.stderr, /Pipe it on stdin instead/);
    t.notMatch(r.stderr, /hunter2/);
  }
});

t.test('user add rejects bad input with exit 2 and creates nothing', async (t) => {
  let r = await run(env, ['user', 'add', 'bob'], { stdin: 'short\n' });
  t.equal(r.code, 2);
  t.equal(r.stderr, 'gatehouse: the password is too short: at least 12 characters are required (passwords.minLength); nothing was changed\n');
  r = await run(env, ['user', 'add', 'bob'], { stdin: '' });
  t.equal(r.code, 2);
  t.match(r.stderr, /^gatehouse: no password on stdin; nothing was changed\nPipe the password as the first line of stdin/);
  r = await run(env, ['user', 'add', 'bad name'], { stdin: `${PW}\n` });
  t.equal(r.code, 2);
  t.equal(r.stderr, "gatehouse: invalid username 'bad name': use letters, digits and . _ @ + - (1–128 characters)\n");
  r = await run(env, ['user', 'add', 'bob', '--email-verified'], { stdin: `${PW}\n` });
  t.equal(r.code, 2);
  t.equal(r.stderr, 'gatehouse: --email-verified needs --email\n');
  // That bob was not created shows in the user list test below.
});

t.test('user add: an existing username (in any case) fails with exit 1', async (t) => {
  const r = await run(env, ['user', 'add', 'ALICE'], { stdin: `${PW}\n` });
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, "gatehouse: a user named 'ALICE' already exists\nUse `npx gatehouse user passwd` to set a new password.\n");
});

t.test('user list: a table and JSON, never a password hash', async (t) => {
  const json = await run(env, ['user', 'list', '--json']);
  t.equal(json.code, 0);
  const list = JSON.parse(json.stdout);
  t.same(list, [{
    id: list[0].id, username: 'alice', name: 'Alice Example', email: 'alice@example.com', emailVerified: true,
    groups: ['staff', 'admins'], duoAlias: 'alice.duo', disabled: false, passwordChangedAt: list[0].passwordChangedAt,
  }], 'alice only: the rejected adds created nothing');
  t.match(list[0].passwordChangedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const table = await run(env, ['user', 'list']);
  t.equal(table.code, 0);
  t.equal(table.stdout,
    'USERNAME  ID                                    NAME           EMAIL              GROUPS        DISABLED\n' +
    `alice     ${list[0].id}  Alice Example  alice@example.com  staff,admins  no\n`);
  for (const out of [table.stdout, json.stdout]) {
    t.notMatch(out, /argon2|passwordHash|password_hash/);
    t.notOk(out.includes(aliceHash));
  }
});

t.test('user passwd (piped): a new hash; the old password no longer verifies; audited', async (t) => {
  const r = await run(env, ['user', 'passwd', 'alice'], { stdin: 'a brand new passphrase\n' });
  t.equal(r.code, 0);
  t.equal(r.stdout, 'Password changed for alice.\n');
  const { user, audit } = await lookAtAlice();
  t.not(user.passwordHash, aliceHash);
  t.equal(await cheapPasswords.verify(user.passwordHash, PW), false, 'old password rejected');
  t.equal(await cheapPasswords.verify(user.passwordHash, 'a brand new passphrase'), true);
  t.same(audit, [{ type: 'user.add', outcome: 'success' }, { type: 'user.passwd', outcome: 'success' }]);
});

t.test('user passwd in a terminal: typed twice without echo, raw mode restored', async (t) => {
  const term = fakeTerminal(['typed in a terminalX\u007f\r', 'typed in a terminal\r']);
  const r = await run(env, ['user', 'passwd', 'alice'], term);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, 'New password for alice: \nRepeat the password: \n', 'prompts only: nothing typed is echoed');
  t.same(term.raw, [true, false, true, false]);

  const mismatch = fakeTerminal(['first attempt here\r', 'second attempt here\r']);
  const m = await run(env, ['user', 'passwd', 'alice'], mismatch);
  t.equal(m.code, 2);
  t.match(m.stderr, /gatehouse: the two passwords do not match; nothing was changed\n$/);
  t.same(mismatch.raw, [true, false, true, false]);

  const interrupted = fakeTerminal(['half typ\u0003']);
  t.same(await run(env, ['user', 'passwd', 'alice'], interrupted),
    { code: 1, stdout: '', stderr: 'New password for alice: \ngatehouse: cancelled; nothing was changed\n' }, 'Ctrl-C cancels');
  t.same(interrupted.raw, [true, false]);
  const { user } = await lookAtAlice();
  t.equal(await cheapPasswords.verify(user.passwordHash, 'typed in a terminal'), true, 'set by the first run (backspace erased the X), kept by the others');
});

t.test('user passwd: unknown user is exit 1 and asks for no password', async (t) => {
  const term = fakeTerminal([]);
  const r = await run(env, ['user', 'passwd', 'nobody'], term);
  t.equal(r.code, 1);
  t.equal(r.stderr, "gatehouse: no user named 'nobody'\nSee `npx gatehouse user list`.\n");
  t.same(term.raw, []);
});
