// Brute-force defence shared by every instance through the database:
//  - per account: consecutive failures add a progressive delay; at the threshold a temporary lockout.
//    Unknown usernames are tracked the same way, so a lockout reveals nothing about existence.
//  - per client IP: failures per minute.
// Only failures write; a success deletes the account's failures, if the check saw any.
import type { Db } from '../storage/db.ts';
import { deferWrite } from '../storage/unit-of-work.ts';
import { announce, takeAnnounced, type Along } from '../storage/along.ts';

export interface ThrottleSettings { lockoutThreshold: number; lockoutSeconds: number; progressiveDelayMs: number; ipLimitPerMinute: number }
export type ThrottleVerdict = { ok: true; accountClean?: boolean } | { ok: false; reason: 'account_locked' | 'ip_limited'; retryAfterSeconds: number };

const acct = (username: string) => `acct:${username.toLowerCase().slice(0, 200)}`;
const ipKey = (ip: string) => `ip:${ip}`;

const keysOf = (username: string, ip: string) => [acct(username), ipKey(ip)];

type ThrottleRow = { key: string; locked: number | null; failures: number };
/** The throttle rows of a check's keys, as one jsonb array (NULL when none). */
const ROWS = `jsonb_agg(jsonb_build_object('key', key, 'failures', failures,
  'locked', CASE WHEN locked_until > now() THEN ceil(extract(epoch FROM locked_until - now()))::int END))`;

function verdictOf(rows: ThrottleRow[] | null): ThrottleVerdict {
  let accountClean = true;
  for (const t of rows ?? []) {
    if (t.key.startsWith('acct:') && t.locked) return { ok: false, reason: 'account_locked', retryAfterSeconds: t.locked };
    if (t.key.startsWith('ip:') && t.locked) return { ok: false, reason: 'ip_limited', retryAfterSeconds: t.locked };
    if (t.key.startsWith('acct:')) accountClean = false;
  }
  // accountClean: no failure recorded for the account when checked, so a success has nothing to reset.
  return { ok: true, accountClean };
}

function checkAlong(username: string, ip: string): Along<ThrottleVerdict> {
  return { table: 'login_throttle', sql: (p) => `(SELECT ${ROWS} FROM login_throttle WHERE key = ANY(${p}::text[]))`, param: keysOf(username, ip), parse: (v) => verdictOf(v as ThrottleRow[] | null) };
}
const announcedName = (username: string, ip: string) => `login_throttle\u0000${keysOf(username, ip).join('\u0000')}`;

export function createLoginThrottle(db: Db, s: ThrottleSettings) {
  return {
    /** Whether this account and this IP may try now. */
    async check(username: string, ip: string): Promise<ThrottleVerdict> {
      const came = takeAnnounced<ThrottleVerdict>(announcedName(username, ip));
      if (came) return came;
      const r = await db.query<{ rows: ThrottleRow[] | null }>(
        `SELECT ${ROWS} AS rows FROM login_throttle WHERE key = ANY($1)`, [keysOf(username, ip)]);
      return verdictOf(r.rows[0]!.rows);
    },

    /** check as a read riding along in another statement (storage/along.ts): the MFA code POST's attempt count. */
    checkAlong,

    /** Announces this request's check (storage/along.ts): it comes with the request's next read, and check takes it. */
    announceCheck(username: string, ip: string) {
      announce(announcedName(username, ip), checkAlong(username, ip));
    },

    /** Records a failure; returns the delay to apply before answering and whether the account is now locked. */
    async fail(username: string, ip: string): Promise<{ delayMs: number; locked: boolean }> {
      const a = await db.query<{ failures: number; locked: boolean }>(
        `INSERT INTO login_throttle AS t (key, failures) VALUES ($1, 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.updated_at < now() - interval '24 hours' THEN 1 ELSE t.failures + 1 END,
           updated_at = now()
         RETURNING failures, false AS locked`, [acct(username)]);
      const failures = a.rows[0]!.failures;
      let locked = false;
      if (failures >= s.lockoutThreshold) {
        // Lock, and start counting again: never more than `lockoutThreshold` tries without a lockout.
        await db.query(`UPDATE login_throttle SET failures = 0, locked_until = now() + make_interval(secs => $2::int) WHERE key = $1`,
          [acct(username), s.lockoutSeconds]);
        locked = true;
      }
      // The first failure of a window counts too: with a limit of 1 it must lock at once. A new window
      // (the previous one is over) starts from 1 the same way.
      await db.query(
        `INSERT INTO login_throttle AS t (key, failures, locked_until)
         VALUES ($1, 1, CASE WHEN 1 >= $2::int THEN now() + interval '1 minute' END)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_start < now() - interval '1 minute' THEN 1 ELSE t.failures + 1 END,
           window_start = CASE WHEN t.window_start < now() - interval '1 minute' THEN now() ELSE t.window_start END,
           locked_until = CASE
             WHEN t.window_start < now() - interval '1 minute'
               THEN CASE WHEN 1 >= $2::int THEN now() + interval '1 minute' ELSE t.locked_until END
             WHEN t.failures + 1 >= $2::int THEN t.window_start + interval '1 minute'
             ELSE t.locked_until END,
           updated_at = now()`, [ipKey(ip), s.ipLimitPerMinute]);
      return { delayMs: Math.min(failures * s.progressiveDelayMs, 5000), locked };
    },

    /**
     * Clears the account's failures after a success. Skipped when the check before it found none (the usual
     * case: no statement at all); inside a request's unit of work it joins the request's one commit.
     */
    async succeed(username: string, verdict?: ThrottleVerdict): Promise<void> {
      if (verdict?.ok && verdict.accountClean) return;
      await deferWrite(db, 'DELETE FROM login_throttle WHERE key = $1', [acct(username)]);
    },

    async unlock(username: string): Promise<boolean> {
      return (await db.query('DELETE FROM login_throttle WHERE key = $1', [acct(username)])).rowCount > 0;
    },

    async sweep(): Promise<number> {
      return (await db.query(`DELETE FROM login_throttle WHERE updated_at < now() - interval '24 hours'
        AND (locked_until IS NULL OR locked_until < now())`)).rowCount;
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
