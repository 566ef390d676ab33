// oidc-provider Adapter over the single `oidc_models` table.
// Contract: panva/node-oidc-provider example/my_adapter.js (tested in test/storage/adapter-contract.ts).
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from './db.ts';
import { CONSUME_SQL, currentUnit, dropGrantRows, queueRow, rowKey, takePrefetched, deferConsume as bindConsume } from './unit-of-work.ts';

type Row = { payload: AdapterPayload; consumed: string | null };
const COLUMNS = 'payload, floor(extract(epoch FROM consumed_at))::text AS consumed';
const SELECT = `SELECT ${COLUMNS} FROM oidc_models`;
const LIVE = '(expires_at IS NULL OR expires_at > now())';

function toPayload(row: Row | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  return row.consumed ? { ...row.payload, consumed: Number(row.consumed) } : row.payload;
}

/**
 * Seconds to store, or null for "no expiry". Only a missing value means forever: oidc-provider re-saves
 * sessions and interactions with `exp - now`, which is 0 (or less) at the boundary and must expire.
 */
function expiry(expiresIn: number | undefined): number | null {
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? Math.ceil(expiresIn) : null;
}

/** Everything issued under a grant: what a detected replay revokes (oidc-provider's helpers/revoke.js set, plus the Grant). */
const GRANT_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode', 'ClientCredentials', 'Grant'];

/** PostgreSQL text cannot hold NUL; such an id cannot exist, so it is simply unknown (not a 500). */
const impossible = (id: unknown) => typeof id !== 'string' || id.includes('\u0000') || id.length > 1024;

/** Shared with bench/lib/flush-costs.ts, which times a refresh's commit made of it. */
export const UPSERT = `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
  ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
    uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`;
const DESTROY = 'DELETE FROM oidc_models WHERE model = $1 AND id = $2';
const FIND = `${SELECT} WHERE model = $1 AND id = $2 AND ${LIVE}`;
/**
 * A token and its Grant in one statement: oidc-provider looks the Grant up right after the token (code and
 * refresh grants, userinfo, introspection), so inside a unit of work the second lookup costs no round trip.
 * With `account` (the protocol layer's one-row subquery over the token's accountId, as text), the account
 * oidc-provider's findAccount reads next comes along too (users/users.ts ACCOUNT_JSON). A token that
 * expires with its session (no offline_access: every code of a login, SAML's too) comes with that Session,
 * which oidc-provider reads by uid next (models/token_helpers.js checkSessionBinding):
 * https://github.com/panva/node-oidc-provider/blob/main/lib/models/token_helpers.js
 */
const findWithGrant = (account?: AccountJson) => `SELECT t.payload, floor(extract(epoch FROM t.consumed_at))::text AS consumed, g.payload AS grant_payload${account ? ', a.account' : ''},
    s.id AS session_id, s.payload AS session_payload, floor(extract(epoch FROM s.consumed_at))::text AS session_consumed
  FROM oidc_models t LEFT JOIN oidc_models g ON g.model = 'Grant' AND g.id = t.grant_id AND (g.expires_at IS NULL OR g.expires_at > now())${
  account ? `\n  LEFT JOIN LATERAL ${account("t.payload->>'accountId'")} a ON true` : ''}
  LEFT JOIN LATERAL (SELECT id, payload, consumed_at FROM oidc_models WHERE t.payload->>'expiresWithSession' = 'true'
    AND model = 'Session' AND uid = t.payload->>'sessionUid' AND (expires_at IS NULL OR expires_at > now()) LIMIT 1) s ON true
  WHERE t.model = $1 AND t.id = $2 AND (t.expires_at IS NULL OR t.expires_at > now())`;
/**
 * Given an SQL text expression holding an account id, a subquery giving at most one row whose `account`
 * column is that account as one jsonb value.
 */
export type AccountJson = (accountIdText: string) => string;
type WithGrantRow = Row & {
  grant_payload: AdapterPayload | null; account?: Record<string, unknown> | null;
  session_id: string | null; session_payload: AdapterPayload | null; session_consumed: string | null;
};
const WITH_GRANT = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken']);
/**
 * Where a Session or an Interaction names the account oidc-provider loads next (findAccount): the session's
 * own, when /oidc/auth finds a signed-in browser; the login result's, when the authorization resumes after
 * the login form. Read with the row inside a unit of work (like a token's), so that load costs no statement.
 */
const ACCOUNT_OF: Record<string, (p: string) => string> = {
  Session: (p) => `${p}->>'accountId'`,
  Interaction: (p) => `${p}->'result'->'login'->>'accountId'`,
};
const accountIdOf = (model: string, p: AdapterPayload): unknown =>
  model === 'Session' ? p.accountId : ((p.result as { login?: { accountId?: unknown } } | undefined)?.login?.accountId);
/**
 * A Session also comes with the Grants of its authorizations (one per client it signed in to, keyed by
 * Grant id): at /oidc/auth oidc-provider looks up the requesting client's Grant right after the Session.
 */
const SESSION_GRANTS = `LEFT JOIN LATERAL (SELECT jsonb_object_agg(g.id, g.payload) AS grants FROM oidc_models g
    WHERE g.model = 'Grant' AND (g.expires_at IS NULL OR g.expires_at > now()) AND g.id IN (SELECT e.value->>'grantId'
      FROM jsonb_each(CASE WHEN jsonb_typeof(t.payload->'authorizations') = 'object' THEN t.payload->'authorizations' END) e)) gr ON true`;
const findWithAccount = (account: AccountJson, model: string) => `SELECT t.payload, floor(extract(epoch FROM t.consumed_at))::text AS consumed, a.account${model === 'Session' ? ', gr.grants' : ''}
  FROM oidc_models t LEFT JOIN LATERAL ${account(ACCOUNT_OF[model]!('t.payload'))} a ON true${model === 'Session' ? `\n  ${SESSION_GRANTS}` : ''}
  WHERE t.model = $1 AND t.id = $2 AND (t.expires_at IS NULL OR t.expires_at > now())`;
const FIND_BY_UID = `SELECT id, ${COLUMNS} FROM oidc_models WHERE model = $1 AND uid = $2 AND ${LIVE}`;
const FIND_BY_USER_CODE = `SELECT id, ${COLUMNS} FROM oidc_models WHERE model = $1 AND user_code = $2 AND ${LIVE}`;

/**
 * A reuse of a one-time value: revoke every token of its grant (never the session or an interaction that
 * share its id). Used by `consume` and by a unit of work whose deferred consume lost.
 */
export async function revokeReplayedGrant(db: Db, model: string, id: string): Promise<void> {
  const row = await db.query<{ grant_id: string | null }>('SELECT grant_id FROM oidc_models WHERE model = $1 AND id = $2', [model, id]);
  const grantId = row.rows[0]?.grant_id;
  if (grantId) await db.query('DELETE FROM oidc_models WHERE grant_id = $1 AND model = ANY($2)', [grantId, GRANT_MODELS]);
}

/**
 * Interactions and sessions read once per request. oidc-provider looks both up again within one request
 * (an interaction screen's POST: interactionDetails, then interactionResult), two reads each time for the
 * same rows. Inside a unit of work the first answer is kept and handed out again (a copy: callers mutate
 * payloads); the unit's own writes still come first (read-your-writes). Never for tokens or codes, whose
 * consumed state must be read fresh.
 */
const SNAPSHOT_MODELS = new Set(['Interaction', 'Session']);
const snapshots = new WeakMap<object, Map<string, (Row & { id: string }) | null>>();
function snapshotOf(model: string): Map<string, (Row & { id: string }) | null> | undefined {
  const u = currentUnit();
  if (!u || !SNAPSHOT_MODELS.has(model)) return undefined;
  let m = snapshots.get(u);
  if (!m) { m = new Map(); snapshots.set(u, m); }
  return m;
}
/**
 * A deep copy of a parsed JSON value (a payload as pg hands it out: plain objects, arrays, primitives).
 * structuredClone goes through V8's serializer: ≈ 4–6 µs for a Session or Interaction payload against
 * ≈ 0.5–1 µs here, and a login copies such a payload several times.
 */
function jsonCopy<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(jsonCopy) as T;
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = jsonCopy((v as Record<string, unknown>)[k]);
    // JSON.parse makes "__proto__" an own key; assigning it would set the copy's prototype instead.
    if (k === '__proto__') Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true }); else o[k] = x;
  }
  return o as T;
}
const copyOf = (row: Row & { id: string }): Row & { id: string } => ({ ...row, payload: jsonCopy(row.payload) });

/** Returns oidc-provider's `adapter` option: a factory giving one adapter per model name. */
export function createOidcAdapter(db: Db, opts: { account?: AccountJson } = {}) {
  const FIND_WITH_GRANT = findWithGrant(opts.account);
  const FIND_WITH_ACCOUNT = new Map(opts.account ? Object.keys(ACCOUNT_OF).map((m) => [m, findWithAccount(opts.account!, m)]) : []);
  return class PgAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) { this.model = model; }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      // Grants are addressed by their own id when revoking; every other model carries grantId.
      const grantId = this.model === 'Grant' ? id : payload.grantId ?? null;
      const json = JSON.stringify(payload);
      const params = [this.model, id, json, grantId, payload.uid ?? null, payload.userCode ?? null, expiry(expiresIn)];
      const u = currentUnit();
      if (u) {
        queueRow(u, db, { model: this.model, id, json, uid: payload.uid ?? null, grantId, userCode: payload.userCode ?? null }, { text: UPSERT, params });
        return;
      }
      await db.query(UPSERT, params);
    }

    /** The row as queued in this request's unit of work: a payload, null (destroyed here) or undefined (not touched). */
    private queued(id: string): AdapterPayload | null | undefined {
      const q = currentUnit()?.overlay.get(rowKey(this.model, id));
      if (!q) return undefined;
      return q.row.json === null ? null : JSON.parse(q.row.json) as AdapterPayload;
    }

    /** A row found in the database, unless this unit has since rewritten or destroyed it. */
    private current(row: (Row & { id: string }) | undefined, matches: (p: AdapterPayload) => boolean): AdapterPayload | undefined {
      if (!row) return undefined;
      const q = this.queued(row.id);
      if (q === undefined) return toPayload(row);
      return q && matches(q) ? q : undefined;
    }

    private queuedWhere(matches: (p: AdapterPayload) => boolean): AdapterPayload | undefined {
      const u = currentUnit();
      if (!u) return undefined;
      for (const { row } of u.overlay.values()) {
        if (row.model !== this.model || row.json === null) continue;
        const p = JSON.parse(row.json) as AdapterPayload;
        if (matches(p)) return p;
      }
      return undefined;
    }

    async find(id: string) {
      if (impossible(id)) return undefined;
      const q = this.queued(id);
      if (q !== undefined) return q ?? undefined;
      const u = currentUnit();
      if (u && this.model === 'Grant') {
        const p = takePrefetched<AdapterPayload>('Grant', id);
        if (p !== undefined) return p ?? undefined;
      }
      const snap = snapshotOf(this.model);
      const key = rowKey(this.model, id);
      if (snap?.has(key)) { const hit = snap.get(key); return hit ? toPayload(copyOf(hit)) : undefined; }
      let row: Row | undefined;
      if (u && WITH_GRANT.has(this.model)) {
        const withGrant = (await db.query<WithGrantRow>(FIND_WITH_GRANT, [this.model, id])).rows[0];
        row = withGrant;
        const { grantId, accountId, expiresWithSession, sessionUid } = withGrant?.payload ?? {};
        if (withGrant && typeof grantId === 'string' && u.overlay.get(rowKey('Grant', grantId)) === undefined) {
          u.prefetched.set(rowKey('Grant', grantId), withGrant.grant_payload);
        }
        if (withGrant && opts.account && typeof accountId === 'string') u.prefetched.set(rowKey('Account', accountId), withGrant.account ?? null);
        if (withGrant && expiresWithSession === true && typeof sessionUid === 'string') {
          // Into the Session snapshot as findByUid would have read it (unless this unit read it already).
          const sessions = snapshotOf('Session')!;
          const byUid = `uid\u0000${rowKey('Session', sessionUid)}`;
          if (!sessions.has(byUid)) {
            const session = withGrant.session_id === null ? null : { id: withGrant.session_id, payload: withGrant.session_payload!, consumed: withGrant.session_consumed };
            sessions.set(byUid, session);
            if (session && !sessions.has(rowKey('Session', session.id))) sessions.set(rowKey('Session', session.id), session);
          }
        }
      } else if (u && FIND_WITH_ACCOUNT.has(this.model)) {
        const withAccount = (await db.query<Row & { account: Record<string, unknown> | null; grants?: Record<string, AdapterPayload> | null }>(FIND_WITH_ACCOUNT.get(this.model)!, [this.model, id])).rows[0];
        row = withAccount;
        const accountId = withAccount && accountIdOf(this.model, withAccount.payload);
        if (withAccount && typeof accountId === 'string') u.prefetched.set(rowKey('Account', accountId), withAccount.account ?? null);
        const authorizations = withAccount && this.model === 'Session' ? withAccount.payload.authorizations : undefined;
        if (authorizations && typeof authorizations === 'object') {
          for (const a of Object.values(authorizations as Record<string, { grantId?: unknown }>)) {
            const grantId = a?.grantId;
            if (typeof grantId !== 'string' || u.overlay.get(rowKey('Grant', grantId)) !== undefined) continue;
            u.prefetched.set(rowKey('Grant', grantId), withAccount!.grants?.[grantId] ?? null);
          }
        }
      } else {
        row = (await db.query<Row>(FIND, [this.model, id])).rows[0];
      }
      if (snap) { snap.set(key, row ? { ...row, id } : null); if (row) row = copyOf({ ...row, id }); }
      const p = toPayload(row);
      // A consume deferred to the end of this request already counts for this request's own reads.
      if (p && !p.consumed && u?.consumes.some((c) => c.model === this.model && c.id === id)) return { ...p, consumed: Math.floor(Date.now() / 1000) };
      return p;
    }

    async findByUid(uid: string) {
      if (impossible(uid)) return undefined;
      const match = (p: AdapterPayload) => p.uid === uid;
      const q = this.queuedWhere(match);
      if (q) return q;
      const snap = snapshotOf(this.model);
      const key = `uid\u0000${rowKey(this.model, uid)}`;
      let row: (Row & { id: string }) | null | undefined = snap?.get(key);
      if (row === undefined) {
        row = (await db.query<Row & { id: string }>(FIND_BY_UID, [this.model, uid])).rows[0] ?? null;
        snap?.set(key, row);
        if (row) snap?.set(rowKey(this.model, row.id), row);
      }
      return this.current(row ? (snap ? copyOf(row) : row) : undefined, match);
    }

    async findByUserCode(userCode: string) {
      if (impossible(userCode)) return undefined;
      const match = (p: AdapterPayload) => p.userCode === userCode;
      const q = this.queuedWhere(match);
      if (q) return q;
      const r = await db.query<Row & { id: string }>(FIND_BY_USER_CODE, [this.model, userCode]);
      return this.current(r.rows[0], match);
    }

    async destroy(id: string) {
      if (impossible(id)) return;
      const u = currentUnit();
      if (u) {
        queueRow(u, db, { model: this.model, id, json: null, uid: null, grantId: null, userCode: null }, { text: DESTROY, params: [this.model, id] });
        return;
      }
      await db.query(DESTROY, [this.model, id]);
    }

    /**
     * This model's rows of the grant only: oidc-provider calls it once per model it wants revoked. Runs at
     * once (revocations are rare and must not wait), and drops what this request queued for the grant so far.
     */
    async revokeByGrantId(grantId: string) {
      if (impossible(grantId)) return;
      const u = currentUnit();
      if (u) dropGrantRows(u, this.model, grantId);
      await db.query('DELETE FROM oidc_models WHERE grant_id = $1 AND model = $2', [grantId, this.model]);
    }

    /**
     * One-time under concurrency: only the request whose UPDATE flips consumed_at wins. oidc-provider
     * checks `consumed` before calling this, but parallel requests all pass that check; the losers get
     * invalid_grant here and, as on any detected reuse, the whole grant is revoked. On the token endpoint the
     * UPDATE is the first statement of the request's single commit instead (storage/unit-of-work.ts).
     */
    async consume(id: string) {
      if (impossible(id)) throw new errors.InvalidGrant(`${this.model} not found`);
      const u = currentUnit();
      if (u?.deferConsume) {
        bindConsume(u, db, this.model, id);
        return;
      }
      const r = await db.query<{ grant_id: string | null }>(CONSUME_SQL, [this.model, id]);
      if (r.rowCount === 1) return;
      await revokeReplayedGrant(db, this.model, id);
      throw new errors.InvalidGrant(`${this.model} already consumed`);
    }
  };
}

/** Deletes expired rows (and consumed one-time values past their expiry). Returns rows removed. */
export async function sweepOidcModels(db: Db): Promise<number> {
  const r = await db.query('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at < now()');
  return r.rowCount;
}
