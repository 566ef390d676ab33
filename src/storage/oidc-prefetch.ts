// What comes along when the adapter reads an oidc_models row inside a request's unit of work: the rows
// oidc-provider looks up right after, joined into the same statement so that those lookups cost none.
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
 * Given an SQL text expression holding an account id, a subquery giving at most one row whose `account`
 * column is that account as one jsonb value (users/users.ts ACCOUNT_JSON).
 */
export type AccountJson = (accountIdText: string) => string;

type Companions = Row & {
  grant_payload?: AdapterPayload | null; account?: Record<string, unknown> | null; grants?: Record<string, AdapterPayload> | null;
  session_id?: string | null; session_payload?: AdapterPayload | null; session_consumed?: string | null;
};

const TOKENS = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken']);
const LIVE = (t: string) => `(${t}.expires_at IS NULL OR ${t}.expires_at > now())`;
const CONSUMED = (t: string) => `floor(extract(epoch FROM ${t}.consumed_at))::text`;

function tokenQuery(account?: AccountJson): string {
  return `SELECT t.payload, ${CONSUMED('t')} AS consumed, g.payload AS grant_payload${account ? ', a.account' : ''},
    s.id AS session_id, s.payload AS session_payload, ${CONSUMED('s')} AS session_consumed
  FROM oidc_models t LEFT JOIN oidc_models g ON g.model = 'Grant' AND g.id = t.grant_id AND ${LIVE('g')}${
  account ? `\n  LEFT JOIN LATERAL ${account("t.payload->>'accountId'")} a ON true` : ''}
  LEFT JOIN LATERAL (SELECT id, payload, consumed_at FROM oidc_models WHERE t.payload->>'expiresWithSession' = 'true'
    AND model = 'Session' AND uid = t.payload->>'sessionUid' AND (expires_at IS NULL OR expires_at > now()) LIMIT 1) s ON true
  WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;
}

/** Where a Session or an Interaction names the account oidc-provider loads next. */
const ACCOUNT_OF: Record<string, { sql: (p: string) => string; of: (p: AdapterPayload) => unknown }> = {
  Session: { sql: (p) => `${p}->>'accountId'`, of: (p) => p.accountId },
  Interaction: { sql: (p) => `${p}->'result'->'login'->>'accountId'`, of: (p) => (p.result as { login?: { accountId?: unknown } } | undefined)?.login?.accountId },
};

/**
 * A Session's Grants, keyed by Grant id: one per client it signed in to. Each is a primary-key lookup of
 * its own (a correlated scalar subquery): as a join, the plan PostgreSQL cached while the table was small
 * (a hash join over every Grant row) stayed in use as it grew, until the next ANALYZE — 20 ms a read at
 * 50,000 Grants, and forever where autovacuum is off.
 */
const SESSION_GRANTS = `LEFT JOIN LATERAL (SELECT jsonb_object_agg(e.value->>'grantId',
      (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = e.value->>'grantId' AND ${LIVE('g')})) AS grants
    FROM jsonb_each(CASE WHEN jsonb_typeof(t.payload->'authorizations') = 'object' THEN t.payload->'authorizations' END) e
    WHERE e.value->>'grantId' IS NOT NULL) gr ON true`;

function withAccountQuery(account: AccountJson, model: string): string {
  const session = model === 'Session';
  return `SELECT t.payload, ${CONSUMED('t')} AS consumed, a.account${session ? ', gr.grants' : ''}
  FROM oidc_models t LEFT JOIN LATERAL ${account(ACCOUNT_OF[model]!.sql('t.payload'))} a ON true${session ? `\n  ${SESSION_GRANTS}` : ''}
  WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;
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
            const s = row.session_id ? { id: row.session_id, payload: row.session_payload!, consumed: row.session_consumed ?? null } : null;
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
