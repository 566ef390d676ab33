// The admin commands as the CLI dispatcher runs them (the lead lists them in src/cli/commands.ts): the
// Command wrappers in src/cli/mfa-admin.ts parse their arguments and reach the database like any command.
import t from 'tap';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';
import { COMMANDS } from '../../src/cli/commands.ts';
import { userBypassCodeCommand, userMfaResetCommand } from '../../src/cli/mfa-admin.ts';
import { cliSetup, run } from '../cli/helpers.ts';

const commands = [...COMMANDS.filter((c) => c.name !== userMfaResetCommand.name && c.name !== userBypassCodeCommand.name), userMfaResetCommand, userBypassCodeCommand];

async function gatehouse(env: NodeJS.ProcessEnv, argv: string[]) {
  const res = { code: -1, stdout: '', stderr: '' };
  res.code = await runCli(argv, {
    stdin: Readable.from([]), env,
    stdout: { write: (s: string) => { res.stdout += s; } }, stderr: { write: (s: string) => { res.stderr += s; } },
  }, commands);
  return res;
}

t.test('user bypass-code and user mfa-reset through the dispatcher', async (t) => {
  const { env, withDb } = await cliSetup(t);
  t.equal((await run(env, ['user', 'add', 'carol'], { stdin: 'carols long password\n' })).code, 0);

  const help = await gatehouse(env, ['user', 'bypass-code', '--help']);
  t.match(help.stdout, /--minutes N/);
  const bad = await gatehouse(env, ['user', 'bypass-code', 'carol', '--minutes', 'soon']);
  t.same(bad, { code: 2, stdout: '', stderr: 'gatehouse: --minutes must be a whole number from 1 to 1440\n' });

  const issued = await gatehouse(env, ['user', 'bypass-code', 'carol', '--minutes', '5']);
  t.equal(issued.code, 0);
  t.match(issued.stdout, /^\d{4}-\d{4}-\d{4}\n$/, 'stdout is the code alone');
  t.match(issued.stderr, /^One-time bypass code for carol, valid until .+ \(5 minutes\)/);

  const reset = await gatehouse(env, ['user', 'mfa-reset', 'carol']);
  t.equal(reset.code, 0);
  t.match(reset.stdout, /^carol: second factors reset \(authenticator app was not set up, 0 unused recovery codes and 1 bypass codes voided, 0 sessions ended\)\.\n$/);
  t.same(await gatehouse(env, ['user', 'mfa-reset', 'nobody']), { code: 1, stdout: '', stderr: "gatehouse: no user named 'nobody'\nSee `npx gatehouse user list`.\n" });

  const audit = await withDb(async (db) => (await db.query<{ type: string }>(
    `SELECT type FROM audit_events WHERE username = 'carol' AND outcome = 'success' ORDER BY id`)).rows.map((r) => r.type));
  t.same(audit, ['user.add', 'user.bypass_code', 'user.mfa_reset']);
});
