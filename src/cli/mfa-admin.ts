// Admin actions on a user's second factors, for the `gatehouse user …` commands: reset the factors (the
// user enrolls again at the next sign-in) and issue a one-time, time-boxed bypass code. Each function
// takes the services and its arguments, writes results to `out` (stdout) and notes to `note` (stderr),
// and resolves to the exit code. Unlocking a locked-out account is `gatehouse user unlock`.
import type { Services } from '../services.ts';
import type { User } from '../users/users.ts';
import type { Command } from './command.ts';
import { EXIT } from './errors.ts';
import { revokeUserAccess } from '../account/revoke.ts';
import { endPortalSessions } from '../account/session-store.ts';

/** Where a command writes: results (`out`, stdout) and notes for the operator (`note`, stderr). */
export interface AdminIo { out(line: string): void; note(line: string): void }

export const BYPASS_DEFAULT_MINUTES = 30;
export const BYPASS_MAX_MINUTES = 1440;

async function findUser(s: Services, username: string, io: AdminIo): Promise<User | undefined> {
  const user = await s.users.findByUsername(username);
  if (!user) {
    io.note(`gatehouse: no user named '${username}'`);
    io.note('See `npx gatehouse user list`.');
  }
  return user;
}

/**
 * Removes the user's authenticator app, recovery codes and unused bypass codes, and ends their sessions,
 * so the next sign-in asks them to set up a factor again (when MFA applies to them). Audited.
 */
export async function mfaReset(s: Services, args: { username: string }, io: AdminIo): Promise<number> {
  const user = await findUser(s, args.username, io);
  if (!user) return EXIT.failure;
  const totp = await s.mfa.totp.remove(user.id);
  const recoveryCodes = await s.mfa.recovery.remaining(user.id);
  await s.mfa.recovery.removeAll(user.id);
  const bypassCodes = await s.mfa.bypass.revokeAll(user.id);
  await s.db.query('UPDATE users SET preferred_factor = NULL WHERE id = $1', [user.id]);
  // A session that already passed MFA would otherwise carry on without the reset ever showing.
  const revoked = await revokeUserAccess({ db: s.db, log: s.log }, user.id);
  const portalSessions = await endPortalSessions(s.db, user.id);
  await s.audit.record({
    type: 'user.mfa_reset', outcome: 'success', userId: user.id, username: user.username,
    detail: { via: 'cli', totp, recoveryCodes, bypassCodes, ...revoked, portalSessions },
  });
  s.metrics.account.inc({ action: 'mfa_reset', result: 'success' });
  io.out(`${user.username}: second factors reset (authenticator app ${totp ? 'removed' : 'was not set up'}, ${recoveryCodes} unused recovery codes and ${bypassCodes} bypass codes voided, ${revoked.sessions} sessions ended).`);
  io.note('They will be asked to set up an authenticator app at their next sign-in.');
  if (s.config.mfa.factors.includes('duo')) io.note('Duo enrollments live at Duo and were not changed: manage them in the Duo Admin Panel.');
  return EXIT.ok;
}

/** Parses --minutes: a whole number of minutes from 1 to BYPASS_MAX_MINUTES. */
function parseMinutes(v: string | number | undefined): number | undefined {
  if (v === undefined) return BYPASS_DEFAULT_MINUTES;
  const n = typeof v === 'number' ? v : /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= BYPASS_MAX_MINUTES ? n : undefined;
}

/**
 * Issues a one-time bypass code: the user enters it at the second-factor step instead of their factor,
 * once, before it expires. A new code voids the previous unused one. The code is printed on stdout
 * (and nowhere else: only its keyed hash is stored). Audited.
 */
export async function bypassCode(s: Services, args: { username: string; minutes?: string | number }, io: AdminIo): Promise<number> {
  const minutes = parseMinutes(args.minutes);
  if (minutes === undefined) {
    io.note(`gatehouse: --minutes must be a whole number from 1 to ${BYPASS_MAX_MINUTES}`);
    return EXIT.usage;
  }
  const user = await findUser(s, args.username, io);
  if (!user) return EXIT.failure;
  if (user.disabled) {
    io.note(`gatehouse: ${user.username} is disabled; enable the account first (\`npx gatehouse user enable ${user.username}\`).`);
    return EXIT.failure;
  }
  const { code, expiresAt } = await s.mfa.bypass.issue(user.id, minutes);
  await s.audit.record({
    type: 'user.bypass_code', outcome: 'success', userId: user.id, username: user.username,
    detail: { via: 'cli', minutes, expiresAt: expiresAt.toISOString() },
  });
  s.metrics.account.inc({ action: 'bypass_code', result: 'success' });
  io.out(code);
  io.note(`One-time bypass code for ${user.username}, valid until ${expiresAt.toISOString()} (${minutes} minutes). It works once, at the second-factor step; any earlier unused code no longer works.`);
  return EXIT.ok;
}

/** `gatehouse user mfa-reset <username>` (for the table in commands.ts). */
export const userMfaResetCommand: Command = {
  name: 'user mfa-reset',
  summary: 'Reset a user\'s second factors: they set one up again at the next sign-in',
  args: ['username'],
  details: 'Removes the authenticator app, recovery codes and unused bypass codes, and ends the user\'s\n' +
    'sessions. Duo enrollments are managed at Duo.',
  async run(ctx) {
    const { services } = await ctx.open();
    return mfaReset(services, { username: ctx.args[0]! }, ctx);
  },
};

/** `gatehouse user bypass-code <username> [--minutes N]` (for the table in commands.ts). */
export const userBypassCodeCommand: Command = {
  name: 'user bypass-code',
  summary: 'Issue a one-time code the user can enter instead of their second factor',
  args: ['username'],
  flags: { minutes: { type: 'string', value: 'N', help: `How long the code is valid (default ${BYPASS_DEFAULT_MINUTES}, at most ${BYPASS_MAX_MINUTES})` } },
  details: 'Prints the code on stdout. It works once, at the second-factor step, until it expires;\n' +
    'issuing a new code voids the previous unused one.',
  async run(ctx) {
    const { services } = await ctx.open();
    return bypassCode(services, { username: ctx.args[0]!, minutes: ctx.flags.minutes as string | undefined }, ctx);
  },
};
