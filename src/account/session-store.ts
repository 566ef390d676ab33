// @fastify/session store over the project's Db (table account_sessions): the portal's browser state is
// shared by every instance and survives restarts. Expiry is server-side and sliding: every save pushes
// expires_at forward by the idle timeout (the cookie itself is a browser-session cookie).
import type { Db } from '../storage/db.ts';

type Callback = (err?: unknown) => void;
type SessionData = Record<string, unknown> & { userId?: unknown };

export function createSessionStore(db: Db, idleSeconds: number) {
  const userOf = (s: SessionData) => (typeof s.userId === 'string' ? s.userId : null);
  const done = (p: Promise<unknown>, cb: Callback) => { p.then(() => cb(), (err: unknown) => cb(err)); };
  return {
    set(sid: string, data: object, cb: Callback) {
      const session = data as SessionData;
      done(db.query(`INSERT INTO account_sessions (sid, user_id, data, expires_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))
        ON CONFLICT (sid) DO UPDATE SET user_id = EXCLUDED.user_id, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
      [sid, userOf(session), JSON.stringify(session), idleSeconds]), cb);
    },
    // The store contract of @fastify/session (lib/store.js): callbacks, and null for "no such session".
    get(sid: string, cb: (err: unknown, session?: never) => void) {
      db.query<{ data: SessionData | string }>('SELECT data FROM account_sessions WHERE sid = $1 AND expires_at > now()', [sid]).then(
        (r) => { const d = r.rows[0]?.data; cb(null, (d === undefined ? null : typeof d === 'string' ? JSON.parse(d) : d) as never); },
        (err: unknown) => cb(err));
    },
    destroy(sid: string, cb: Callback) {
      done(db.query('DELETE FROM account_sessions WHERE sid = $1', [sid]), cb);
    },
  };
}

/** Ends a user's portal sessions, except `keepSid` (the browser asking). */
export async function endPortalSessions(db: Db, userId: string, keepSid?: string): Promise<number> {
  return (await db.query('DELETE FROM account_sessions WHERE user_id = $1 AND sid IS DISTINCT FROM $2', [userId, keepSid ?? null])).rowCount;
}

export async function sweepPortalSessions(db: Db): Promise<number> {
  return (await db.query('DELETE FROM account_sessions WHERE expires_at < now()')).rowCount;
}
