// `gatehouse user disable|enable|unlock`: switch an account off and on, clear a login lockout.
import type { Command } from '../command.ts';
import { auditCli, findUserOrFail } from './user-common.ts';

function setDisabled(disabled: boolean): Command {
  const verb = disabled ? 'disable' : 'enable';
  return {
    name: `user ${verb}`,
    summary: disabled ? 'Disable a user: password login is refused' : 'Enable a disabled user again',
    args: ['username'],
    async run(ctx) {
      const { services } = await ctx.open();
      const user = await findUserOrFail(services, ctx.args[0]!);
      if (user.disabled === disabled) {
        ctx.out(`${user.username} is already ${verb}d; nothing changed.`);
        return;
      }
      await services.users.setDisabled(user.id, disabled);
      await auditCli(services, `user.${verb}`, user);
      ctx.out(`${user.username} is now ${verb}d.`);
    },
  };
}

export const userDisableCommand = setDisabled(true);
export const userEnableCommand = setDisabled(false);

export const userUnlockCommand: Command = {
  name: 'user unlock',
  summary: 'Clear a user\'s login lockout and failure count',
  args: ['username'],
  details: 'After security.lockoutThreshold consecutive wrong passwords an account is locked for\n' +
    'security.lockoutSeconds. This ends the lockout now.',
  async run(ctx) {
    const { services } = await ctx.open();
    const user = await findUserOrFail(services, ctx.args[0]!);
    if (!await services.throttle.unlock(user.username)) {
      ctx.out(`${user.username} has no lockout or recorded failures; nothing changed.`);
      return;
    }
    await auditCli(services, 'user.unlock', user);
    ctx.out(`${user.username} is unlocked.`);
  },
};
