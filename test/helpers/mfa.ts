// MFA test helpers: enroll TOTP directly, compute current codes, walk the factor pages.
import { codeAt, generateSecret, stepAt } from '../../src/mfa/totp/totp-code.ts';
import type { Gateway } from './gateway.ts';

export async function enrollTotp(gw: Gateway, userId: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const secret = generateSecret();
  await gw.services.mfa.totp.importConfirmed(userId, secret);
  const recoveryCodes = await gw.services.mfa.recovery.regenerate(userId);
  return { secret, recoveryCodes };
}

/** The code for the current step, or a neighbouring one (offset in steps). */
export const totpNow = (secret: string, offset = 0) => codeAt(secret, stepAt(Date.now()) + offset);
