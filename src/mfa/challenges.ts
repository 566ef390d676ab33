// Factor challenges, bound to one interaction and one user, expiring, and consumed at most once.
import { randomBytes } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import { deferWrite } from '../storage/unit-of-work.ts';

export interface StoredChallenge { id: string; factor: string; userId: string; state: Record<string, unknown>; attempts: number }

export function createChallenges(db: Db) {
  return {
    async create(c: { id?: string; interactionUid: string; factor: string; userId: string; state: Record<string, unknown>; ttlSeconds: number }): Promise<string> {
      const id = c.id ?? randomBytes(24).toString('base64url');
      // Written with the rest of the request (storage/unit-of-work.ts): the browser learns of it only then.
      await deferWrite(db, `INSERT INTO mfa_challenges (id, interaction_uid, factor, user_id, state, expires_at)
        VALUES ($1,$2,$3,$4,$5, now() + make_interval(secs => $6::int))`,
      [id, c.interactionUid, c.factor, c.userId, JSON.stringify(c.state), c.ttlSeconds]);
      return id;
    },
    /** The live challenge of this interaction for a factor (latest first). */
    async current(interactionUid: string, factor: string): Promise<StoredChallenge | undefined> {
      const r = await db.query<StoredChallenge>(`SELECT id, factor, user_id AS "userId", state, attempts FROM mfa_challenges
        WHERE interaction_uid = $1 AND factor = $2 AND consumed_at IS NULL AND expires_at > now()
        ORDER BY expires_at DESC LIMIT 1`, [interactionUid, factor]);
      return r.rows[0];
    },
    /** Counts one try; undefined when the challenge is gone, spent or out of tries. */
    async countAttempt(id: string, maxAttempts: number): Promise<number | undefined> {
      const r = await db.query<{ attempts: number }>(`UPDATE mfa_challenges SET attempts = attempts + 1
        WHERE id = $1 AND consumed_at IS NULL AND expires_at > now() AND attempts < $2 RETURNING attempts`, [id, maxAttempts]);
      return r.rows[0]?.attempts;
    },
    /**
     * Consumes a challenge atomically; only the first caller gets it. For Duo this runs *before* the code
     * exchange, so a replayed or forged state can never reach Duo.
     */
    async consume(id: string, interactionUid: string, factor: string): Promise<StoredChallenge | undefined> {
      const r = await db.query<StoredChallenge>(`UPDATE mfa_challenges SET consumed_at = now()
        WHERE id = $1 AND interaction_uid = $2 AND factor = $3 AND consumed_at IS NULL AND expires_at > now()
        RETURNING id, factor, user_id AS "userId", state, attempts`, [id, interactionUid, factor]);
      return r.rows[0];
    },
    async sweep(): Promise<number> {
      return (await db.query(`DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 hour'`)).rowCount;
    },
  };
}
export type Challenges = ReturnType<typeof createChallenges>;
