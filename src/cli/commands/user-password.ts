// `gatehouse user add` and `gatehouse user passwd`: the commands that take a new password.
import { USERNAME_RE } from '../../users/users.ts';
import type { Command, Context } from '../command.ts';
import { failure, usageError } from '../errors.ts';
import { readNewPassword } from '../password-input.ts';
import { auditCli, findUserOrFail } from './user-common.ts';

const PASSWORD_INPUT = 'The password is read from stdin when it is piped (its first line), otherwise prompted twice\n' +
  'without echo. It is never accepted as an argument: the command line is visible to other local\n' +
  'users and kept in shell history. Minimum length: passwords.minLength (default 12).';

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

function newPassword(ctx: Context, username: string, minLength: number) {
  return readNewPassword(ctx.io.stdin, ctx.io.stderr, username, minLength);
}

export const userAddCommand: Command = {
  name: 'user add',
  summary: 'Create a user; prints the new user\'s id (the OIDC `sub`)',
  args: ['username'],
  flags: {
    name: { type: 'string', value: 'NAME', help: 'Display name (the `name` claim)' },
    email: { type: 'string', value: 'EMAIL', help: 'Email address (the `email` claim)' },
    'email-verified': { type: 'boolean', help: 'Mark the email address as verified' },
    groups: { type: 'string', value: 'A,B', help: 'Comma-separated groups (the `groups` claim)' },
    'duo-alias': { type: 'string', value: 'ALIAS', help: 'Username sent to Duo when mfa.duo.usernameSource is alias' },
  },
  details: `${PASSWORD_INPUT}\n\nExample:\n  printf '%s\\n' "$PASSWORD" | npx gatehouse user add alice --email alice@example.com --groups staff`,
  async run(ctx) {
    const [username] = ctx.args as [string];
    const f = ctx.flags as { name?: string; email?: string; 'email-verified'?: boolean; groups?: string; 'duo-alias'?: string };
    if (!USERNAME_RE.test(username)) throw usageError(`invalid username '${username}': use letters, digits and . _ @ + - (1–128 characters)`);
    if (f.email !== undefined && !EMAIL_RE.test(f.email)) throw usageError(`invalid email address '${f.email}'`);
    if (f['email-verified'] && f.email === undefined) throw usageError('--email-verified needs --email');
    const groups = f.groups?.split(',').map((g) => g.trim()).filter(Boolean) ?? [];

    const { config, services } = await ctx.open();
    // Checked before asking for the password, so nobody types one twice for nothing.
    if (await services.users.findByUsername(username)) throw failure(`a user named '${username}' already exists`, 'Use `npx gatehouse user passwd` to set a new password.');
    const password = await newPassword(ctx, username, config.passwords.minLength);
    let user;
    try {
      user = await services.users.add({
        username, name: f.name, email: f.email, emailVerified: f['email-verified'] ?? false, groups, duoAlias: f['duo-alias'],
      }, await services.passwords.hash(password));
    } catch (err) {
      // Another process created it between the check and the insert.
      if ((err as { code?: string }).code === '23505') throw failure(`a user named '${username}' already exists`);
      throw err;
    }
    await auditCli(services, 'user.add', user);
    ctx.note(`Created user ${user.username}. Id (the OIDC sub):`);
    ctx.out(user.id);
  },
};

export const userPasswdCommand: Command = {
  name: 'user passwd',
  summary: 'Set a user\'s password',
  args: ['username'],
  details: PASSWORD_INPUT,
  async run(ctx) {
    const { config, services } = await ctx.open();
    const user = await findUserOrFail(services, ctx.args[0]!);
    const password = await newPassword(ctx, user.username, config.passwords.minLength);
    await services.users.setPassword(user.id, await services.passwords.hash(password));
    await auditCli(services, 'user.passwd', user);
    ctx.out(`Password changed for ${user.username}.`);
  },
};
