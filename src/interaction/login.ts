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

export function createPasswordCheck(d: PasswordCheckDeps) {
  return async function checkPassword(username: unknown, password: unknown, ip: string, clientId?: string): Promise<PasswordResult> {
    // No valid username holds a control character, so refusing them leaks nothing; PostgreSQL text cannot
    // hold NUL, and the username goes into throttle keys and audit rows.
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password
      || username.length > 128 || password.length > 1024 || CONTROL_CHARS.test(username)) {
      return { ok: false, reason: 'malformed' };
    }
    // Not read in the throttle's statement (storage/along.ts), though it could be: in alternating bench runs
    // that version raised the login flood's probe p99 (15 of 18 pairs worse; bench/REPORT.md, 2026-12-06),
    // for one read fewer and no measurable CPU.
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
  };
}
export type PasswordCheck = ReturnType<typeof createPasswordCheck>;
