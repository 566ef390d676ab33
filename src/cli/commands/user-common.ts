// Helpers shared by the `user …` commands.
import type { Services } from '../../services.ts';
import type { AuditEvent } from '../../platform/audit.ts';
import type { User } from '../../users/users.ts';
import { failure } from '../errors.ts';

/** The user named `username` (case-insensitive), or a CliError (exit 1) pointing at `user list`. */
export async function findUserOrFail(services: Services, username: string): Promise<User> {
  const user = await services.users.findByUsername(username);
  if (!user) throw failure(`no user named '${username}'`, 'See `npx gatehouse user list`.');
  return user;
}

/** Records an administrative change made from the command line. */
export function auditCli(services: Services, type: string, user: User, detail: Record<string, unknown> = {}) {
  const event: AuditEvent = { type, outcome: 'success', userId: user.id, username: user.username, detail: { via: 'cli', ...detail } };
  return services.audit.record(event);
}
