// oidc-provider Adapter over the single `oidc_models` table.
// Contract: panva/node-oidc-provider example/my_adapter.js (tested in test/storage/adapter-contract.ts).
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from './db.ts';
import { jsonCopy } from './json-copy.ts';
import { CONSUME_SQL, currentUnit, dropGrantRows, dropQueuedRow, queueRow, rowKey, takePrefetched, deferConsume as bindConsume } from './unit-of-work.ts';
import { createPrefetch, type PrefetchSources, type Row, type SnapshotRow } from './oidc-prefetch.ts';
import { carryAnnounced } from './along.ts';

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
const snapshots = new WeakMap<object, Map<string, SnapshotRow | null>>();
function snapshotOf(model: string): Map<string, SnapshotRow | null> | undefined {
  const u = currentUnit();
  if (!u || !SNAPSHOT_MODELS.has(model)) return undefined;
  let m = snapshots.get(u);
  if (!m) { m = new Map(); snapshots.set(u, m); }
  return m;
}
const copyOf = (row: SnapshotRow): SnapshotRow => ({ ...row, payload: jsonCopy(row.payload) });

/** Returns oidc-provider's `adapter` option: a factory giving one adapter per model name. */
export function createOidcAdapter(db: Db, opts: PrefetchSources = {}) {
  const prefetch = createPrefetch(opts);
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
    private current(row: SnapshotRow | undefined, matches: (p: AdapterPayload) => boolean): AdapterPayload | undefined {
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
      // Inside a unit of work the row comes with what oidc-provider looks up next (storage/oidc-prefetch.ts).
      const withCompanions = u ? prefetch.query(this.model) : undefined;
      if (withCompanions) {
        // …and with the reads this request announced it will make (storage/along.ts: the password POST's).
        const q = carryAnnounced(u!, withCompanions, [this.model, id]) ?? { sql: withCompanions, params: [this.model, id], keep: (r) => r };
        row = q.keep((await db.query<Row>(q.sql, q.params)).rows[0]);
        prefetch.keep(u!, this.model, row, () => snapshotOf('Session')!);
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
      let row: SnapshotRow | null | undefined = snap?.get(key);
      if (row === undefined) {
        row = (await db.query<SnapshotRow>(FIND_BY_UID, [this.model, uid])).rows[0] ?? null;
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
      const r = await db.query<SnapshotRow>(FIND_BY_USER_CODE, [this.model, userCode]);
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
      // A code issued in this very unit (oidc-provider saves a code once, when it issues it, under a fresh
      // random id) and redeemed in it (saml/inline-authorize.ts): no one outside this request has seen it,
      // so it is spent by never being written.
      if (u && this.model === 'AuthorizationCode' && u.overlay.get(rowKey(this.model, id))?.row.json) {
        dropQueuedRow(u, this.model, id);
        return;
      }
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

// One batch of expired rows, found through the expires_at index. The outer condition is checked again on the
// rows themselves: a ctid names a row version, and one updated meanwhile is simply not deleted this time.
// ORDER BY expires_at keeps the batch on the index: without it, the prepared statement's generic plan (and any
// plan on a table never analyzed) guesses a third of the table expired and scans all of it for each batch
// (the bench's soak: 300–370 ms to sweep 720 rows, 1.5–1.8 s for 37,000).
export const SWEEP_SQL = `DELETE FROM oidc_models
  WHERE ctid = ANY (ARRAY(SELECT ctid FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at < now() ORDER BY expires_at LIMIT $1))
    AND expires_at IS NOT NULL AND expires_at < now()`;

/**
 * Deletes expired rows (and consumed one-time values past their expiry) in batches of `batch` rows, pausing
 * `pauseMs` between them. Returns rows removed. Everything that expired since the last sweep can be tens of
 * thousands of rows a minute on a busy gateway (every login and refresh leaves rows with a TTL); in batches,
 * no one statement holds its row locks, its WAL and the commits queued behind that WAL for long, and the
 * requests' own statements run in between. (In the bench's soak, logins and refreshes stalled for up to
 * 0.7 s once a minute, at the sweeper's ticks: its one DELETE scanned the whole table, see SWEEP_SQL.)
 */
export async function sweepOidcModels(db: Db, o: { batch?: number; pauseMs?: number } = {}): Promise<number> {
  const batch = o.batch ?? 500;
  let removed = 0;
  for (;;) {
    const r = await db.query(SWEEP_SQL, [batch]);
    removed += r.rowCount;
    if (r.rowCount < batch) return removed;
    await new Promise((resolve) => setTimeout(resolve, o.pauseMs ?? 10));
  }
}
