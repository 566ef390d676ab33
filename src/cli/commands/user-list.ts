// `gatehouse user list`: every user, as a table or JSON. Password hashes are never part of the output.
import type { User } from '../../users/users.ts';
import type { Command } from '../command.ts';
import { formatTable, isoSeconds } from '../table.ts';

/** The fields an operator may see; built field by field so a new column never leaks by accident. */
function publicFields(u: User) {
  return {
    id: u.id, username: u.username, name: u.name, email: u.email, emailVerified: u.emailVerified,
    groups: u.groups, duoAlias: u.duoAlias, disabled: u.disabled, passwordChangedAt: isoSeconds(new Date(u.passwordChangedAt)),
  };
}

export const userListCommand: Command = {
  name: 'user list',
  summary: 'List users (username, id, name, email, groups, disabled)',
  flags: { json: { type: 'boolean', help: 'Print a JSON array instead of a table' } },
  async run(ctx) {
    const { services } = await ctx.open();
    const users = (await services.users.list()).map(publicFields);
    if (ctx.flags.json) {
      ctx.out(JSON.stringify(users, null, 2));
      return;
    }
    if (users.length === 0) {
      ctx.note('No users yet. Create one with `npx gatehouse user add <username>`.');
      return;
    }
    const rows = users.map((u) => [u.username, u.id, u.name ?? '', u.email ?? '', u.groups.join(','), u.disabled ? 'yes' : 'no']);
    for (const line of formatTable(['USERNAME', 'ID', 'NAME', 'EMAIL', 'GROUPS', 'DISABLED'], rows)) ctx.out(line);
  },
};
