// What a new password must be (NIST SP 800-63B §5.1.1.2): long enough, not a known common password, not
// built from the account's own name, not one repeated pattern. No composition rules, no expiry.
import { isCommonPassword } from './common-passwords.ts';

/** The login form accepts passwords up to this length (interaction/login.ts); never set a longer one. */
export const MAX_PASSWORD_LENGTH = 1024;

export type PasswordProblem = 'mismatch' | 'too_short' | 'too_long' | 'unchanged' | 'personal' | 'repetitive' | 'common';

export const PROBLEM_TEXT: Record<PasswordProblem, string> = {
  mismatch: 'The two new passwords do not match.',
  too_short: 'The new password is too short.',
  too_long: `The new password is too long (at most ${MAX_PASSWORD_LENGTH} characters).`,
  unchanged: 'The new password must be different from the current one.',
  personal: 'The new password must not contain your username or email address.',
  repetitive: 'The new password is too repetitive. Use more different characters.',
  common: 'That password is too common: it appears on lists of passwords attackers try first. Choose another.',
};

export interface PasswordContext { minLength: number; username: string; email: string | null; current: string }

/** The first problem with the new password, or undefined when it is acceptable. */
export function checkNewPassword(next: string, confirm: string, c: PasswordContext): PasswordProblem | undefined {
  if (next !== confirm) return 'mismatch';
  if ([...next].length < c.minLength) return 'too_short';
  if (next.length > MAX_PASSWORD_LENGTH) return 'too_long';
  if (next === c.current) return 'unchanged';
  const lower = next.toLowerCase();
  const personal = [c.username, c.email, c.email?.split('@')[0]].filter((v): v is string => !!v && v.length >= 3);
  if (personal.some((p) => lower.includes(p.toLowerCase()))) return 'personal';
  if (new Set(lower).size < 4) return 'repetitive';
  if (isCommonPassword(next) || isCommonPassword(next.trim())) return 'common';
  return undefined;
}
