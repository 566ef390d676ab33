import t from 'tap';
import { createLoginThrottle } from '../../src/security/login-throttle.ts';
import { createUsers } from '../../src/users/users.ts';
import { cliSetup, run } from './helpers.ts';

const { env, withDb } = await cliSetup(t);
const throttleOf = (db: Parameters<Parameters<typeof withDb>[0]>[0]) =>
  createLoginThrottle(db, { lockoutThreshold: 2, lockoutSeconds: 900, progressiveDelayMs: 0, ipLimitPerMinute: 1000 });
const added = await run(env, ['user', 'add', 'carol'], { stdin: 'carols long password\n' });
const carolId = added.stdout.trim();

/** Carol's disabled flag, her lockout verdict and the types of the audit events about her, in one connection. */
const lookAtCarol = () => withDb(async (db) => ({
  disabled: (await createUsers(db).findById(carolId))!.disabled,
  locked: !(await throttleOf(db).check('carol', '192.0.2.1')).ok,
  audit: (await db.query<{ type: string }>(`SELECT type FROM audit_events WHERE user_id = $1 AND outcome = 'success' ORDER BY id`, [carolId])).rows.map((r) => r.type),
}));

t.test('user disable / enable: flips the flag once, says so when there is nothing to do, audited', async (t) => {
  t.equal(added.code, 0);
  const steps: [string, string][] = [
    ['disable', 'carol is now disabled.\n'],
    ['disable', 'carol is already disabled; nothing changed.\n'],
  ];
  for (const [verb, out] of steps) t.same(await run(env, ['user', verb, 'Carol']), { code: 0, stdout: out, stderr: '' });
  t.match(await lookAtCarol(), { disabled: true, audit: ['user.add', 'user.disable'] });
  t.same(await run(env, ['user', 'enable', 'carol']), { code: 0, stdout: 'carol is now enabled.\n', stderr: '' });
  t.match(await lookAtCarol(), { disabled: false, audit: ['user.add', 'user.disable', 'user.enable'] });
  t.same(await run(env, ['user', 'disable', 'nobody']), { code: 1, stdout: '', stderr: "gatehouse: no user named 'nobody'\nSee `npx gatehouse user list`.\n" });
});

t.test('user unlock: ends a lockout at once, audited; a second unlock has nothing to clear', async (t) => {
  await withDb(async (db) => {
    const throttle = throttleOf(db);
    await throttle.fail('CAROL', '192.0.2.1');
    t.same(await throttle.fail('carol', '192.0.2.1'), { delayMs: 0, locked: true }, 'locked out by failures');
  });
  t.same(await run(env, ['user', 'unlock', 'carol']), { code: 0, stdout: 'carol is unlocked.\n', stderr: '' });
  t.match(await lookAtCarol(), { locked: false, audit: ['user.add', 'user.disable', 'user.enable', 'user.unlock'] });
  t.same(await run(env, ['user', 'unlock', 'carol']),
    { code: 0, stdout: 'carol has no lockout or recorded failures; nothing changed.\n', stderr: '' });
});
