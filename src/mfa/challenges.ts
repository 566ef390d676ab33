// Factor challenges, bound to one interaction and one user, expiring, and consumed at most once.
import { randomBytes } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import { deferWrite, oneTimeAtCommit } from '../storage/unit-of-work.ts';
import type { Along } from '../storage/along.ts';

export interface StoredChallenge { id: string; factor: string; userId: string; state: Record<string, unknown>; attempts: number }

/** Changes the row only while the challenge is live and unspent: one winner under concurrency. */
const CONSUME = `UPDATE mfa_challenges SET consumed_at = now()
  WHERE id = $1 AND interaction_uid = $2 AND factor = $3 AND consumed_at IS NULL AND expires_at > now()`;

export function createChallenges(db: Db) {
  /**
   * The live challenge of this interaction for a factor (latest first), with another read made in the same
   * statement (storage/along.ts: the login throttle's check, which starting a factor needs when there is no
   * live challenge yet). Always one row.
   */
  async function currentAlong<T = never>(interactionUid: string, factor: string, along?: Along<T>): Promise<{ challenge?: StoredChallenge; along?: T }> {
    // The live row (or none), found by primary key (as in countAttempt), joined to a one-row table: one row
    // either way, so the along value always comes.
    const r = await db.query<StoredChallenge & { along?: unknown }>(`SELECT c.id, c.factor, c.user_id AS "userId", c.state, c.attempts${along ? `, ${along.sql('$3')} AS along` : ''}
      FROM mfa_challenges c RIGHT JOIN (SELECT 1) AS one ON c.id = (SELECT id FROM mfa_challenges
        WHERE interaction_uid = $1 AND factor = $2 AND consumed_at IS NULL AND expires_at > now()
        ORDER BY expires_at DESC LIMIT 1)`, along ? [interactionUid, factor, along.param] : [interactionUid, factor]);
    const { along: raw, ...row } = r.rows[0]!;
    return { ...(row.id ? { challenge: row } : {}), ...(along ? { along: along.parse(raw) } : {}) };
  }
  return {
    /**
     * Opens a challenge. There is at most one unspent challenge per interaction and factor (migration 005),
     * so requests that open the same one at once share its tries: an unspent one that is still live is kept
     * (a form factor's tries carry over), unless `replace` (a redirect factor: the vendor state just sent
     * must be the one its callback finds); an expired one is replaced.
     */
    async create(c: { id?: string; interactionUid: string; factor: string; userId: string; state: Record<string, unknown>; ttlSeconds: number; replace?: boolean }): Promise<string> {
      const id = c.id ?? randomBytes(24).toString('base64url');
      // Written with the rest of the request (storage/unit-of-work.ts): the browser learns of it only then.
      await deferWrite(db, `INSERT INTO mfa_challenges (id, interaction_uid, factor, user_id, state, expires_at)
        VALUES ($1,$2,$3,$4,$5, now() + make_interval(secs => $6::int))
        ON CONFLICT (interaction_uid, factor) WHERE consumed_at IS NULL DO UPDATE
        SET id = EXCLUDED.id, user_id = EXCLUDED.user_id, state = EXCLUDED.state, attempts = 0, expires_at = EXCLUDED.expires_at
        WHERE $7 OR mfa_challenges.expires_at <= now()`,
      [id, c.interactionUid, c.factor, c.userId, JSON.stringify(c.state), c.ttlSeconds, c.replace === true]);
      return id;
    },
    currentAlong,
    /** The live challenge of this interaction for a factor (latest first). */
    async current(interactionUid: string, factor: string): Promise<StoredChallenge | undefined> {
      return (await currentAlong(interactionUid, factor)).challenge;
    },
    /**
     * Finds this interaction's live challenge for a factor and counts one try on it, in one statement (a
     * code submission's first step; committed at once, whatever the code turns out to be). Undefined when
     * there is no live challenge; `challenge` (with the tries counted so far) undefined when it is out of
     * tries (or was spent meanwhile).
     * The UPDATE re-checks its conditions on the row's newest version, so parallel submissions count one
     * try each and none passes the limit. It finds the row by primary key (`id = (SELECT …)`), not by a
     * join: a join's plan, cached by PostgreSQL while the table was small, can stay a full scan as it grows.
     * `along`: another read made in the same statement (the login throttle's check), handed back as `along`
     * when there is a live challenge.
     */
    async countAttempt<T = never>(interactionUid: string, factor: string, maxAttempts: number, along?: Along<T>): Promise<{ id: string; challenge?: StoredChallenge; along?: T } | undefined> {
      const r = await db.query<{ id: string; attempts: number | null; factor: string; userId: string; state: Record<string, unknown>; along?: unknown }>(`WITH cur AS (
          SELECT id FROM mfa_challenges WHERE interaction_uid = $1 AND factor = $2 AND consumed_at IS NULL AND expires_at > now()
          ORDER BY expires_at DESC LIMIT 1),
        up AS (UPDATE mfa_challenges SET attempts = attempts + 1
          WHERE id = (SELECT id FROM cur) AND consumed_at IS NULL AND expires_at > now() AND attempts < $3
          RETURNING id, factor, user_id, state, attempts)
        SELECT cur.id, up.attempts, up.factor, up.user_id AS "userId", up.state${along ? `, ${along.sql('$4')} AS along` : ''}
        FROM cur LEFT JOIN up ON up.id = cur.id`, along ? [interactionUid, factor, maxAttempts, along.param] : [interactionUid, factor, maxAttempts]);
      const row = r.rows[0];
      if (!row) return undefined;
      const also = along ? { along: along.parse(row.along) } : {};
      if (row.attempts === null) return { id: row.id, ...also };
      return { id: row.id, challenge: { id: row.id, factor: row.factor, userId: row.userId, state: row.state, attempts: row.attempts }, ...also };
    },
    /**
     * Consumes a challenge atomically; only the first caller gets it. For Duo this runs *before* the code
     * exchange, so a replayed or forged state can never reach Duo.
     */
    async consume(id: string, interactionUid: string, factor: string): Promise<StoredChallenge | undefined> {
      const r = await db.query<StoredChallenge>(`${CONSUME} RETURNING id, factor, user_id AS "userId", state, attempts`, [id, interactionUid, factor]);
      return r.rows[0];
    },
    /**
     * Consumes a challenge as part of the request's commit (storage/unit-of-work.ts deferOneTime): a
     * parallel request that consumed it first rolls this one's commit back (reported as lost
     * 'mfa_challenges'). Outside a unit of work: consume, at once.
     */
    consumeAtCommit(id: string, interactionUid: string, factor: string): Promise<boolean> {
      return oneTimeAtCommit(db, { model: 'mfa_challenges', id }, CONSUME, [id, interactionUid, factor]);
    },
    async sweep(): Promise<number> {
      return (await db.query(`DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 hour'`)).rowCount;
    },
  };
}
export type Challenges = ReturnType<typeof createChallenges>;
