// TOTP seeds (encrypted at rest) and the replay guard: a step is accepted at most once per user,
// also under concurrent submissions, because the UPDATE only succeeds while last_step < step.
import type { Db } from '../../storage/db.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { dropPrefetched, oneTimeAtCommit, takePrefetched } from '../../storage/unit-of-work.ts';
import { accountUuid } from '../../storage/oidc-prefetch.ts';

const PURPOSE = 'totp-seed';
/** Changes the row only while the step is newer than the last one accepted: one winner under concurrency. */
const ACCEPT_STEP = `UPDATE mfa_totp SET last_step = $2, confirmed_at = CASE WHEN $3 THEN coalesce(confirmed_at, now()) ELSE confirmed_at END
  WHERE user_id = $1 AND last_step < $2 AND (confirmed_at IS NOT NULL OR $3)`;

type SeedRow = { secret_enc: string; confirmed: boolean };
/** Filed under this name when read with an interaction (storage/oidc-prefetch.ts accountRows). */
export const SEED_ROW = 'TotpSeed';
/**
 * The seed row of the account whose id `idText` (an SQL text expression) holds, as one jsonb value, or NULL:
 * read with an interaction, so that the factor screen's enrollment check, the code POST's seed lookup and
 * the `mfa` prompt's question under policy `optional` need no statement of their own.
 */
export const SEED_JSON = (idText: string) => `(SELECT jsonb_build_object('secret_enc', secret_enc, 'confirmed', confirmed_at IS NOT NULL)
  FROM mfa_totp WHERE user_id = ${accountUuid(idText)})`;

export function createTotpStore(db: Db, box: SecretBox) {
  /** The seed row: prefetched with this request's interaction (once), else read. */
  async function seedRow(userId: string): Promise<SeedRow | undefined> {
    const pre = takePrefetched<SeedRow>(SEED_ROW, userId);
    if (pre !== undefined) return pre ?? undefined;
    return (await db.query<SeedRow>('SELECT secret_enc, confirmed_at IS NOT NULL AS confirmed FROM mfa_totp WHERE user_id = $1', [userId])).rows[0];
  }
  /** A write to the seed row: a prefetched copy of it is stale from here on. */
  const written = (userId: string) => { dropPrefetched(SEED_ROW, userId); };
  return {
    async find(userId: string): Promise<{ secret: string; confirmed: boolean } | undefined> {
      const row = await seedRow(userId);
      return row ? { secret: box.decrypt(PURPOSE, row.secret_enc), confirmed: row.confirmed } : undefined;
    },
    async isEnrolled(userId: string): Promise<boolean> {
      return (await seedRow(userId))?.confirmed === true;
    },
    /** Starts (or restarts) an enrollment; an already confirmed seed is kept unless `replace`. */
    async savePending(userId: string, secret: string, replace = false): Promise<boolean> {
      written(userId);
      const r = await db.query(
        `INSERT INTO mfa_totp (user_id, secret_enc) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, confirmed_at = NULL, last_step = 0, created_at = now()
         WHERE mfa_totp.confirmed_at IS NULL OR $3`, [userId, box.encrypt(PURPOSE, secret), replace]);
      return r.rowCount === 1;
    },
    /** Imports a confirmed seed (migration from another IdP). */
    async importConfirmed(userId: string, secret: string): Promise<void> {
      written(userId);
      await db.query(
        `INSERT INTO mfa_totp (user_id, secret_enc, confirmed_at) VALUES ($1, $2, now())
         ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, confirmed_at = now(), last_step = 0`,
        [userId, box.encrypt(PURPOSE, secret)]);
    },
    /** Accepts `step` once: true for exactly one caller. Confirms a pending enrollment when `confirm`. */
    async acceptStep(userId: string, step: number, confirm: boolean): Promise<boolean> {
      written(userId);
      return (await db.query(ACCEPT_STEP, [userId, step, confirm])).rowCount === 1;
    },
    /**
     * Accepts a confirmed seed's `step` as part of the request's commit (storage/unit-of-work.ts
     * deferOneTime): the step is spent if and only if the sign-in it completes is written, and a
     * parallel request that spent it first rolls this one's commit back (reported as lost 'mfa_totp').
     * Outside a unit of work: acceptStep, at once.
     */
    acceptStepAtCommit(userId: string, step: number): Promise<boolean> {
      written(userId);
      return oneTimeAtCommit(db, { model: 'mfa_totp', id: userId }, ACCEPT_STEP, [userId, step, false]);
    },
    async remove(userId: string): Promise<boolean> {
      written(userId);
      return (await db.query('DELETE FROM mfa_totp WHERE user_id = $1', [userId])).rowCount > 0;
    },
  };
}
export type TotpStore = ReturnType<typeof createTotpStore>;
