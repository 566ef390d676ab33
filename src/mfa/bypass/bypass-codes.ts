// One-time, time-boxed bypass codes an admin issues (`gatehouse user bypass-code`) to a user who lost
// their factor. Stored as keyed hashes; spent by one conditional UPDATE, so a code works exactly once
// even when submitted twice in parallel. A new code voids the user's unused ones: one valid code at most.
import { randomInt } from 'node:crypto';
import type { Db } from '../../storage/db.ts';
import type { SecretBox } from '../../platform/secret-box.ts';

/** 12 digits in groups of 4 ("4821-0937-5516"): easy to read out over the phone, ~40 bits, single use. */
const newCode = () => Array.from({ length: 3 }, () => String(randomInt(0, 10_000)).padStart(4, '0')).join('-');
const normalize = (code: string) => code.replace(/\D/g, '');

export function createBypassCodes(db: Db, box: SecretBox) {
  const hash = (code: string) => box.mac('bypass-code', normalize(code));
  return {
    /** Issues a code valid for `minutes`; returns the plaintext (the only time it exists) and its expiry. */
    async issue(userId: string, minutes: number): Promise<{ code: string; expiresAt: Date }> {
      const code = newCode();
      const expiresAt = await db.transaction(async (q) => {
        await q.query('DELETE FROM mfa_bypass_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
        const r = await q.query<{ expires_at: Date }>(
          `INSERT INTO mfa_bypass_codes (user_id, code_hash, expires_at) VALUES ($1, $2, now() + make_interval(mins => $3::int))
           RETURNING expires_at`, [userId, hash(code), minutes]);
        return new Date(r.rows[0]!.expires_at);
      });
      return { code, expiresAt };
    },
    /** True while the user holds an unexpired, unused code (the factor is offered only then). */
    async hasUsable(userId: string): Promise<boolean> {
      return (await db.query('SELECT 1 FROM mfa_bypass_codes WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()', [userId])).rowCount > 0;
    },
    /** Spends a code; true for exactly one caller. */
    async use(userId: string, code: string): Promise<boolean> {
      if (normalize(code).length !== 12) return false;
      const r = await db.query(`UPDATE mfa_bypass_codes SET used_at = now()
        WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > now()`, [userId, hash(code)]);
      return r.rowCount === 1;
    },
    /** Housekeeping: spent and expired codes are kept a month (for questions about them), then deleted. */
    async sweep(): Promise<number> {
      return (await db.query(`DELETE FROM mfa_bypass_codes WHERE expires_at < now() - interval '30 days'`)).rowCount;
    },
    /** Voids every unused code of the user (factor reset). */
    async revokeAll(userId: string): Promise<number> {
      return (await db.query('DELETE FROM mfa_bypass_codes WHERE user_id = $1 AND used_at IS NULL', [userId])).rowCount;
    },
  };
}
export type BypassCodes = ReturnType<typeof createBypassCodes>;
