// oidc-provider Adapter over the single `oidc_models` table.
// Contract: panva/node-oidc-provider example/my_adapter.js (tested in test/storage/adapter-contract.ts).
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from './db.ts';

type Row = { payload: AdapterPayload; consumed: string | null };
const SELECT = `SELECT payload, floor(extract(epoch FROM consumed_at))::text AS consumed FROM oidc_models`;
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

/** Returns oidc-provider's `adapter` option: a factory giving one adapter per model name. */
export function createOidcAdapter(db: Db) {
  return class PgAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) { this.model = model; }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      // Grants are addressed by their own id when revoking; every other model carries grantId.
      const grantId = this.model === 'Grant' ? id : payload.grantId ?? null;
      await db.query(
        `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
        [this.model, id, JSON.stringify(payload), grantId, payload.uid ?? null, payload.userCode ?? null,
          expiry(expiresIn)],
      );
    }

    async find(id: string) {
      if (impossible(id)) return undefined;
      const r = await db.query<Row>(`${SELECT} WHERE model = $1 AND id = $2 AND ${LIVE}`, [this.model, id]);
      return toPayload(r.rows[0]);
    }

    async findByUid(uid: string) {
      if (impossible(uid)) return undefined;
      const r = await db.query<Row>(`${SELECT} WHERE model = $1 AND uid = $2 AND ${LIVE}`, [this.model, uid]);
      return toPayload(r.rows[0]);
    }

    async findByUserCode(userCode: string) {
      if (impossible(userCode)) return undefined;
      const r = await db.query<Row>(`${SELECT} WHERE model = $1 AND user_code = $2 AND ${LIVE}`, [this.model, userCode]);
      return toPayload(r.rows[0]);
    }

    async destroy(id: string) {
      if (impossible(id)) return;
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [this.model, id]);
    }

    /** This model's rows of the grant only: oidc-provider calls it once per model it wants revoked. */
    async revokeByGrantId(grantId: string) {
      if (impossible(grantId)) return;
      await db.query('DELETE FROM oidc_models WHERE grant_id = $1 AND model = $2', [grantId, this.model]);
    }

    /**
     * One-time under concurrency: only the request whose UPDATE flips consumed_at wins. oidc-provider
     * checks `consumed` before calling this, but parallel requests all pass that check; the losers get
     * invalid_grant here and, as on any detected reuse, the whole grant is revoked.
     */
    async consume(id: string) {
      if (impossible(id)) throw new errors.InvalidGrant(`${this.model} not found`);
      const r = await db.query<{ grant_id: string | null }>(
        `UPDATE oidc_models SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING grant_id`,
        [this.model, id],
      );
      if (r.rowCount === 1) return;
      const row = await db.query<{ grant_id: string | null }>('SELECT grant_id FROM oidc_models WHERE model = $1 AND id = $2', [this.model, id]);
      const grantId = row.rows[0]?.grant_id;
      // A replay: revoke every token of the grant (never the session or an interaction that share its id).
      if (grantId) await db.query('DELETE FROM oidc_models WHERE grant_id = $1 AND model = ANY($2)', [grantId, GRANT_MODELS]);
      throw new errors.InvalidGrant(`${this.model} already consumed`);
    }
  };
}

/** Deletes expired rows (and consumed one-time values past their expiry). Returns rows removed. */
export async function sweepOidcModels(db: Db): Promise<number> {
  const r = await db.query('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at < now()');
  return r.rowCount;
}
