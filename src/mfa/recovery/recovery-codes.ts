// Ten single-use recovery codes per user, shown once, stored as keyed hashes. A code is spent by one
// conditional UPDATE, so two parallel uses of the same code cannot both succeed.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../storage/db.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { base32Encode } from '../totp/totp-code.ts';

export const RECOVERY_CODE_COUNT = 10;
/** Groups of 4 from 60 random bits, e.g. "K7QF-2MZP-X4RD". Lower-case, spaces and missing dashes are tolerated. */
const newCode = () => base32Encode(randomBytes(8)).slice(0, 12).match(/.{4}/g)!.join('-');
const normalize = (code: string) => code.toUpperCase().replace(/[^A-Z2-7]/g, '');

export function createRecoveryCodes(db: Db, box: SecretBox) {
  const hash = (code: string) => box.mac('recovery-code', normalize(code));
  return {
    /** Replaces all codes of the user; returns the new plaintext codes (the only time they exist). */
    async regenerate(userId: string): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
      await db.transaction(async (q) => {
        await q.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
        for (const c of codes) await q.query('INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)', [userId, hash(c)]);
      });
      return codes;
    },
    /** Spends a code; true for exactly one caller. */
    async use(userId: string, code: string): Promise<boolean> {
      if (normalize(code).length !== 12) return false;
      const r = await db.query('UPDATE mfa_recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
        [userId, hash(code)]);
      return r.rowCount === 1;
    },
    async remaining(userId: string): Promise<number> {
      const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
      return r.rows[0]?.n ?? 0;
    },
    async removeAll(userId: string): Promise<void> {
      await db.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
    },
  };
}
export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
