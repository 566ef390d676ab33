// TOTP seeds (encrypted at rest) and the replay guard: a step is accepted at most once per user,
// also under concurrent submissions, because the UPDATE only succeeds while last_step < step.
import type { Db } from '../../storage/db.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { oneTimeAtCommit } from '../../storage/unit-of-work.ts';

const PURPOSE = 'totp-seed';
/** Changes the row only while the step is newer than the last one accepted: one winner under concurrency. */
const ACCEPT_STEP = `UPDATE mfa_totp SET last_step = $2, confirmed_at = CASE WHEN $3 THEN coalesce(confirmed_at, now()) ELSE confirmed_at END
  WHERE user_id = $1 AND last_step < $2 AND (confirmed_at IS NOT NULL OR $3)`;

export function createTotpStore(db: Db, box: SecretBox) {
  return {
    async find(userId: string): Promise<{ secret: string; confirmed: boolean } | undefined> {
      const r = await db.query<{ secret_enc: string; confirmed: boolean }>(
        'SELECT secret_enc, confirmed_at IS NOT NULL AS confirmed FROM mfa_totp WHERE user_id = $1', [userId]);
      const row = r.rows[0];
      return row ? { secret: box.decrypt(PURPOSE, row.secret_enc), confirmed: row.confirmed } : undefined;
    },
    async isEnrolled(userId: string): Promise<boolean> {
      return (await db.query('SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId])).rowCount > 0;
    },
    /** Starts (or restarts) an enrollment; an already confirmed seed is kept unless `replace`. */
    async savePending(userId: string, secret: string, replace = false): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO mfa_totp (user_id, secret_enc) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, confirmed_at = NULL, last_step = 0, created_at = now()
         WHERE mfa_totp.confirmed_at IS NULL OR $3`, [userId, box.encrypt(PURPOSE, secret), replace]);
      return r.rowCount === 1;
    },
    /** Imports a confirmed seed (migration from another IdP). */
    async importConfirmed(userId: string, secret: string): Promise<void> {
      await db.query(
        `INSERT INTO mfa_totp (user_id, secret_enc, confirmed_at) VALUES ($1, $2, now())
         ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, confirmed_at = now(), last_step = 0`,
        [userId, box.encrypt(PURPOSE, secret)]);
    },
    /** Accepts `step` once: true for exactly one caller. Confirms a pending enrollment when `confirm`. */
    async acceptStep(userId: string, step: number, confirm: boolean): Promise<boolean> {
      return (await db.query(ACCEPT_STEP, [userId, step, confirm])).rowCount === 1;
    },
    /**
     * Accepts a confirmed seed's `step` as part of the request's commit (storage/unit-of-work.ts
     * deferOneTime): the step is spent if and only if the sign-in it completes is written, and a
     * parallel request that spent it first rolls this one's commit back (reported as lost 'mfa_totp').
     * Outside a unit of work: acceptStep, at once.
     */
    acceptStepAtCommit(userId: string, step: number): Promise<boolean> {
      return oneTimeAtCommit(db, { model: 'mfa_totp', id: userId }, ACCEPT_STEP, [userId, step, false]);
    },
    async remove(userId: string): Promise<boolean> {
      return (await db.query('DELETE FROM mfa_totp WHERE user_id = $1', [userId])).rowCount > 0;
    },
  };
}
export type TotpStore = ReturnType<typeof createTotpStore>;
