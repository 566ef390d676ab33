// Password step: throttle check → verify (same time for unknown users) → record → finish `login`.
// A check refused by a full hashing queue records nothing: it was not an attempt (users/passwords.ts).
import type { User, Users } from '../users/users.ts';
import { HashingBusyError, type Passwords } from '../users/passwords.ts';
import type { LoginThrottle } from '../security/login-throttle.ts';
import type { Audit } from '../platform/audit.ts';

export type PasswordResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid' | 'account_locked' | 'ip_limited' | 'malformed' | 'busy'; retryAfterSeconds?: number };

export interface PasswordCheckDeps { users: Users; passwords: Passwords; throttle: LoginThrottle; audit: Audit }

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// No valid username holds a control character, so refusing them leaks nothing; PostgreSQL text cannot
// hold NUL, and the username goes into throttle keys and audit rows.
const usernameOk = (username: unknown): username is string =>
  typeof username === 'string' && !!username && username.length <= 128 && !CONTROL_CHARS.test(username);

export function createPasswordCheck(d: PasswordCheckDeps) {
  async function checkPassword(username: unknown, password: unknown, ip: string, clientId?: string): Promise<PasswordResult> {
    if (!usernameOk(username) || typeof password !== 'string' || !password || password.length > 1024) {
      return { ok: false, reason: 'malformed' };
    }
    // Both reads come with the request's interaction read when announceReads ran first (storage/along.ts).
    const verdict = await d.throttle.check(username, ip);
    if (!verdict.ok) {
      await d.audit.record({ type: 'login.password', outcome: 'denied', username, ip, clientId, reason: verdict.reason });
      return { ok: false, reason: verdict.reason, retryAfterSeconds: verdict.retryAfterSeconds };
    }
    const user = await d.users.findByUsername(username);
    let ok = false;
    try {
      if (user && !user.disabled) ok = await d.passwords.verify(user.passwordHash, password);
      else await d.passwords.verifyDummy(password);
    } catch (err) {
      if (err instanceof HashingBusyError) return { ok: false, reason: 'busy', retryAfterSeconds: err.retryAfterSeconds };
      throw err;
    }
    if (ok && user) {
      await d.throttle.succeed(username, verdict);
      await d.audit.record({ type: 'login.password', outcome: 'success', userId: user.id, username: user.username, ip, clientId });
      return { ok: true, user };
    }
    const { delayMs, locked } = await d.throttle.fail(username, ip);
    await d.audit.record({
      type: 'login.password', outcome: 'failure', userId: user?.id, username, ip, clientId,
      reason: !user ? 'unknown_user' : user.disabled ? 'disabled' : 'wrong_password', detail: locked ? { locked: true } : undefined,
    });
    await sleep(delayMs);
    return { ok: false, reason: 'invalid' };
  }
  /**
   * Announces the check's two reads, the throttle's and the user's (storage/along.ts), so that the password
   * POST's interaction read, made next, brings them: three round trips become one. Call before the read.
   */
  function announceReads(username: unknown, ip: string) {
    if (!usernameOk(username)) return;
    d.throttle.announceCheck(username, ip);
    d.users.announceFindByUsername(username);
  }
  return Object.assign(checkPassword, { announceReads });
}
export type PasswordCheck = ReturnType<typeof createPasswordCheck>;
