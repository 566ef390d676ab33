// The SAML tables (migrations/003_saml.sql). Every piece of SAML state is here, so any instance can
// finish what another began. One-time things (parked requests, message IDs) are taken atomically.
// Inside a request's unit of work (routes.ts, storage/unit-of-work.ts) the writes join the request's one
// commit, made before the answer leaves: park, recordSession, the logout rows and the audit rows queued,
// firstUse, the take's consume and a logout's step as one-time statements at the head of that commit (a
// loser's commit rolls back and its answer becomes an error page). Outside a unit every write is its own
// autocommit, as before.
import { sameText } from '../../platform/same-text.ts';
import type { Db } from '../../storage/db.ts';
import { currentUnit, deferOneTime, deferWrite, oneTimeAtCommit } from '../../storage/unit-of-work.ts';

export interface ParkedRequest {
  id: string; spEntityId: string; acsUrl: string; requestId: string | null; relayState: string | null;
  browserKey: string; authn: AuthnAsked;
}
/** What the AuthnRequest asked for, kept for when the login comes back. */
export interface AuthnAsked { passive?: boolean; requireMfa?: boolean; reportPasswordClass?: boolean }

export interface SpSession {
  sessionUid: string; spEntityId: string; userId: string; nameId: string; nameIdFormat: string; sessionIndex: string;
}

export interface PendingSp { sp: string; nameId: string; nameIdFormat: string; sessionIndex: string }
/**
 * A front-channel logout in progress. Started by an SP's LogoutRequest: `initiator` is that SP, `binding`
 * how it called, `requestId`/`relayState` its request's. Started by an OIDC logout (end_session): `binding`
 * is 'oidc', `initiator` the OIDC client ('' when none), `requestId` '', and `relayState` the URL the
 * browser goes to when every SP has been visited (where oidc-provider would have sent it).
 */
export interface Logout {
  id: string; initiator: string; requestId: string; binding: 'redirect' | 'post' | 'oidc'; relayState: string | null;
  pending: PendingSp[]; awaiting: { sp: string; requestId: string } | null; partial: boolean;
}

const SESSION_COLS = `session_uid AS "sessionUid", sp_entity_id AS "spEntityId", user_id AS "userId", name_id AS "nameId",
  name_id_format AS "nameIdFormat", session_index AS "sessionIndex"`;

const PARKED_COLS = `id, sp_entity_id AS "spEntityId", acs_url AS "acsUrl", request_id AS "requestId", relay_state AS "relayState",
  browser_key AS "browserKey", authn`;
const PARKED_LIVE = 'id = $1 AND consumed_at IS NULL AND expires_at > now()';
const TAKE_SQL = `UPDATE saml_requests SET consumed_at = now() WHERE ${PARKED_LIVE} AND browser_key = $2`;
const SEEN_SQL = `INSERT INTO saml_seen_ids (issuer, message_id, expires_at)
  VALUES ($1, $2, now() + make_interval(secs => $3::int)) ON CONFLICT DO NOTHING`;

export function createSamlStore(db: Db) {
  return {
    async park(r: ParkedRequest, ttlSeconds: number): Promise<void> {
      await deferWrite(db, `INSERT INTO saml_requests (id, sp_entity_id, acs_url, request_id, relay_state, browser_key, authn, expires_at)
        VALUES ($1,$2,$3,$4,$5,$6,$7, now() + make_interval(secs => $8::int))`,
      [r.id, r.spEntityId, r.acsUrl, r.requestId, r.relayState, r.browserKey, JSON.stringify(r.authn), ttlSeconds]);
    },

    /**
     * Takes a parked request once, and only for the browser that parked it: the UPDATE that flips
     * consumed_at wins, every other caller gets nothing ('mismatch' when the request is live but the
     * browser is another, so a stolen link can neither use nor burn it). Inside a unit the request is read
     * here and the same conditional UPDATE is the first statement of the request's commit: parallel takers
     * all read it, one commit flips it, and the others roll back (their answer is GW_SAML_EXPIRED, never
     * the Response they built).
     */
    async take(id: string, browserKey: string): Promise<ParkedRequest | 'mismatch' | undefined> {
      const u = currentUnit();
      if (u) {
        const r = await db.query<ParkedRequest>(`SELECT ${PARKED_COLS} FROM saml_requests WHERE ${PARKED_LIVE}`, [id]);
        const row = r.rows[0];
        if (!row) return undefined;
        if (!sameText(row.browserKey, browserKey)) return 'mismatch';
        deferOneTime(u, db, { model: 'saml_requests', id }, TAKE_SQL, [id, browserKey]);
        return row;
      }
      const r = await db.query<ParkedRequest>(`${TAKE_SQL} RETURNING ${PARKED_COLS}`, [id, browserKey]);
      if (r.rows[0]) return r.rows[0];
      const live = await db.query(`SELECT 1 FROM saml_requests WHERE ${PARKED_LIVE}`, [id]);
      return live.rowCount > 0 ? 'mismatch' : undefined;
    },

    /**
     * Records an inbound message ID; false when the issuer already used it (a replay). Inside a unit the
     * insert is the first statement of the request's commit and this answers true: a replay (or a parallel
     * copy that commits first) makes that commit roll back and the answer GW_SAML_REPLAY (routes.ts).
     */
    async firstUse(issuer: string, messageId: string, ttlSeconds: number): Promise<boolean> {
      return oneTimeAtCommit(db, { model: 'saml_seen_ids', id: messageId }, SEEN_SQL, [issuer, messageId, ttlSeconds]);
    },

    /**
     * The SP session of this gateway session: its NameID and SessionIndex are derived from the session
     * (sso.ts), so a repeated sign-in writes the same values and nothing has to be read first.
     */
    async recordSession(s: SpSession, ttlSeconds: number): Promise<void> {
      await deferWrite(db, `INSERT INTO saml_sessions (session_uid, sp_entity_id, user_id, name_id, name_id_format, session_index, expires_at)
        VALUES ($1,$2,$3,$4,$5,$6, now() + make_interval(secs => $7::int))
        ON CONFLICT (session_uid, sp_entity_id) DO UPDATE SET user_id = EXCLUDED.user_id, name_id = EXCLUDED.name_id,
          name_id_format = EXCLUDED.name_id_format, session_index = EXCLUDED.session_index, expires_at = EXCLUDED.expires_at`,
      [s.sessionUid, s.spEntityId, s.userId, s.nameId, s.nameIdFormat, s.sessionIndex, ttlSeconds]);
    },

    /** Sessions a LogoutRequest names: this SP, this NameID, and one of the SessionIndexes when given. */
    async sessionsNamed(spEntityId: string, nameId: string, sessionIndexes: string[]): Promise<SpSession[]> {
      return (await db.query<SpSession>(`SELECT ${SESSION_COLS} FROM saml_sessions
        WHERE sp_entity_id = $1 AND name_id = $2 AND (cardinality($3::text[]) = 0 OR session_index = ANY($3::text[]))`,
      [spEntityId, nameId, sessionIndexes])).rows;
    },

    async sessionsOf(sessionUid: string): Promise<SpSession[]> {
      return (await db.query<SpSession>(`SELECT ${SESSION_COLS} FROM saml_sessions WHERE session_uid = $1 ORDER BY created_at`, [sessionUid])).rows;
    },

    /** Ends the SP sessions riding on a gateway session (inside a unit: with the request's commit). */
    async endSessions(sessionUid: string): Promise<void> {
      await deferWrite(db, 'DELETE FROM saml_sessions WHERE session_uid = $1', [sessionUid]);
    },

    /** Stores a logout already moved to its first step (`awaiting` set): one INSERT, nothing to advance. */
    async createLogout(l: Logout, ttlSeconds: number): Promise<void> {
      await deferWrite(db, `INSERT INTO saml_logouts (id, initiator, request_id, binding, relay_state, pending, awaiting, partial, expires_at)
        VALUES ($1,$2,$3,$4,$5,$6,$7,$8, now() + make_interval(secs => $9::int))`,
      [l.id, l.initiator, l.requestId, l.binding, l.relayState, JSON.stringify(l.pending), l.awaiting ? JSON.stringify(l.awaiting) : null, l.partial, ttlSeconds]);
    },

    async logout(id: string): Promise<Logout | undefined> {
      return (await db.query<Logout>(`SELECT id, initiator, request_id AS "requestId", binding, relay_state AS "relayState", pending, awaiting, partial
        FROM saml_logouts WHERE id = $1 AND expires_at > now()`, [id])).rows[0];
    },

    /**
     * Moves a stored logout on from the step that awaited `expectAwaiting`, once: a replayed or parallel
     * copy of that LogoutResponse changes nothing. Inside a unit this is the first statement of the
     * request's commit and answers true; a loser's commit rolls back (routes.ts: GW_SAML_UNEXPECTED_RESPONSE).
     */
    async advanceLogout(id: string, expectAwaiting: string, next: Pick<Logout, 'pending' | 'awaiting' | 'partial'>): Promise<boolean> {
      return oneTimeAtCommit(db, { model: 'saml_logouts', id }, `UPDATE saml_logouts SET pending = $3, awaiting = $4, partial = $5
        WHERE id = $1 AND (awaiting->>'requestId') = $2 AND expires_at > now()`,
      [id, expectAwaiting, JSON.stringify(next.pending), next.awaiting ? JSON.stringify(next.awaiting) : null, next.partial]);
    },

    /** Ends a stored logout at its last step, once (as advanceLogout): only one answer goes to the initiator. */
    async finishLogout(id: string, expectAwaiting: string): Promise<boolean> {
      return oneTimeAtCommit(db, { model: 'saml_logouts', id }, `DELETE FROM saml_logouts WHERE id = $1 AND (awaiting->>'requestId') = $2`, [id, expectAwaiting]);
    },

    async sweep(): Promise<number> {
      let n = 0;
      for (const t of ['saml_requests', 'saml_seen_ids', 'saml_sessions', 'saml_logouts']) {
        n += (await db.query(`DELETE FROM ${t} WHERE expires_at < now()`)).rowCount;
      }
      return n;
    },
  };
}
export type SamlStore = ReturnType<typeof createSamlStore>;
