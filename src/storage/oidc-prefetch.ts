// What comes along when the adapter reads an oidc_models row inside a request's unit of work: the rows
// oidc-provider looks up right after, read in the same statement so that those lookups cost none.
//  - A token (code, refresh or access token) comes with its Grant, its account and, when it expires with
//    its session (no offline_access: a login's code, SAML's code), that Session, which oidc-provider
//    checks it against (models/token_helpers.js checkSessionBinding).
//  - A Session comes with its account and the Grants of its authorizations (a signed-in browser at
//    /oidc/auth: findAccount, then the requesting client's Grant).
//  - An Interaction comes with its login result's account (the resume after the login form).
// Everything is read in the one statement, so it is as current as the row itself; a request's own queued
// writes still win (the adapter looks at the unit's overlay first).
// https://github.com/panva/node-oidc-provider/blob/main/lib/models/token_helpers.js
import type { AdapterPayload } from 'oidc-provider';
import { rowKey, type Unit } from './unit-of-work.ts';

export type Row = { payload: AdapterPayload; consumed: string | null };
export type SnapshotRow = Row & { id: string };

/**
 * Given an SQL text expression holding an account id, a scalar subquery giving that account as one jsonb
 * value, or NULL (users/users.ts ACCOUNT_JSON).
 */
export type AccountJson = (accountIdText: string) => string;

type Companions = Row & {
  grant_payload?: AdapterPayload | null; account?: Record<string, unknown> | null; grants?: Record<string, AdapterPayload> | null;
  session?: { id: string; payload: AdapterPayload; consumed: string | null } | null;
};

const TOKENS = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken']);
const LIVE = (t: string) => `(${t}.expires_at IS NULL OR ${t}.expires_at > now())`;
const CONSUMED = (t: string) => `floor(extract(epoch FROM ${t}.consumed_at))::text`;

// Every companion is a correlated scalar subquery: a primary-key (or uid) lookup per row read, whatever
// the table's size. As joins, their plans were made once per connection while the table was small and
// kept after it grew (named prepared statements are re-planned only after an ANALYZE): the Grant join
// became a scan of every Grant row (2.5 ms a read at 60,000 Grants, growing), which piled up requests in
// the bench's 10-minute soak. bench/REPORT.md, 2026-12-06.
function tokenQuery(account?: AccountJson): string {
  return `SELECT t.payload, ${CONSUMED('t')} AS consumed,
    (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = t.grant_id AND ${LIVE('g')}) AS grant_payload${
  account ? `,\n    ${account("t.payload->>'accountId'")} AS account` : ''},
    (SELECT jsonb_build_object('id', s.id, 'payload', s.payload, 'consumed', ${CONSUMED('s')}) FROM oidc_models s
      WHERE t.payload->>'expiresWithSession' = 'true' AND s.model = 'Session' AND s.uid = t.payload->>'sessionUid' AND ${LIVE('s')} LIMIT 1) AS session
  FROM oidc_models t WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;
}

/** Where a Session or an Interaction names the account oidc-provider loads next. */
const ACCOUNT_OF: Record<string, { sql: (p: string) => string; of: (p: AdapterPayload) => unknown }> = {
  Session: { sql: (p) => `${p}->>'accountId'`, of: (p) => p.accountId },
  Interaction: { sql: (p) => `${p}->'result'->'login'->>'accountId'`, of: (p) => (p.result as { login?: { accountId?: unknown } } | undefined)?.login?.accountId },
};

/** A Session's Grants, keyed by Grant id: one per client it signed in to, each looked up by primary key. */
const SESSION_GRANTS = `(SELECT jsonb_object_agg(e.value->>'grantId',
      (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = e.value->>'grantId' AND ${LIVE('g')}))
    FROM jsonb_each(CASE WHEN jsonb_typeof(t.payload->'authorizations') = 'object' THEN t.payload->'authorizations' END) e
    WHERE e.value->>'grantId' IS NOT NULL) AS grants`;

function withAccountQuery(account: AccountJson, model: string): string {
  return `SELECT t.payload, ${CONSUMED('t')} AS consumed, ${account(ACCOUNT_OF[model]!.sql('t.payload'))} AS account${model === 'Session' ? `,\n    ${SESSION_GRANTS}` : ''}
  FROM oidc_models t WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;
}

/** A Grant for the unit to hand out once, unless this request has already written that Grant itself. */
function keepGrant(u: Unit, grantId: unknown, payload: AdapterPayload | null | undefined) {
  if (typeof grantId === 'string' && u.overlay.get(rowKey('Grant', grantId)) === undefined) u.prefetched.set(rowKey('Grant', grantId), payload ?? null);
}

export function createPrefetch(account?: AccountJson) {
  const token = tokenQuery(account);
  const others = new Map(account ? Object.keys(ACCOUNT_OF).map((m) => [m, withAccountQuery(account, m)]) : []);
  return {
    /** The statement reading this model's row (params: model, id) with what comes along; undefined: none. */
    query: (model: string): string | undefined => (TOKENS.has(model) ? token : others.get(model)),
    /**
     * Files what came along with `row` into the unit: Grants and accounts for takePrefetched, a token's
     * Session into the request's Session snapshot as findByUid would have read it (unless read already).
     */
    keep(u: Unit, model: string, row: Companions | undefined, sessions: () => Map<string, SnapshotRow | null>) {
      if (!row) return;
      const p = row.payload;
      const accountId = TOKENS.has(model) ? p.accountId : ACCOUNT_OF[model]?.of(p);
      if (account && typeof accountId === 'string') u.prefetched.set(rowKey('Account', accountId), row.account ?? null);
      if (TOKENS.has(model)) {
        keepGrant(u, p.grantId, row.grant_payload);
        if (p.expiresWithSession === true && typeof p.sessionUid === 'string') {
          const snap = sessions();
          const byUid = `uid\u0000${rowKey('Session', p.sessionUid)}`;
          if (!snap.has(byUid)) {
            const s = row.session ? { id: row.session.id, payload: row.session.payload, consumed: row.session.consumed ?? null } : null;
            snap.set(byUid, s);
            if (s && !snap.has(rowKey('Session', s.id))) snap.set(rowKey('Session', s.id), s);
          }
        }
      } else if (model === 'Session' && p.authorizations && typeof p.authorizations === 'object') {
        for (const a of Object.values(p.authorizations as Record<string, { grantId?: unknown } | null>)) keepGrant(u, a?.grantId, row.grants?.[a?.grantId as string]);
      }
    },
  };
}
