// What comes along when the adapter reads an oidc_models row inside a request's unit of work: the rows
// oidc-provider looks up right after, read in the same statement so that those lookups cost none.
//  - A token (code, refresh or access token) comes with its Grant, its account and, when it expires with
//    its session (no offline_access: a login's code, SAML's code), that Session, which oidc-provider
//    checks it against (models/token_helpers.js checkSessionBinding).
//  - A Session comes with its account and the Grants of its authorizations (a signed-in browser at
//    /oidc/auth: findAccount, then the requesting client's Grant).
//  - An Interaction comes with the Session it belongs to (oidc-provider's interactionDetails and
//    interactionResult check that Session by uid) and its whole user row: its login result's account (the
//    resume after the login form), else its session's (the MFA screens read the signed-in user); and that
//    account's other rows the screens and prompts look up next (accountRows: its TOTP seed, which the
//    factor screen checks for enrollment, the code POST verifies against, and the resume's `mfa` prompt
//    asks about under policy `optional`).
// Everything is read in the one statement, so it is as current as the row itself; a request's own queued
// writes still win (the adapter looks at the unit's overlay first).
// https://github.com/panva/node-oidc-provider/blob/main/lib/models/token_helpers.js
import type { AdapterPayload } from 'oidc-provider';
import { rowKey, type Unit } from './unit-of-work.ts';

export type Row = { payload: AdapterPayload; consumed: string | null };
export type SnapshotRow = Row & { id: string };

/**
 * Given an SQL text expression holding an account id, a scalar subquery giving that account as one jsonb
 * value, or NULL (users/users.ts ACCOUNT_JSON: the claims; USER_JSON: the whole row).
 */
export type AccountJson = (accountIdText: string) => string;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An account id (SQL text expression) as a uuid, or NULL when it is not one (the guard keeps the cast from failing). */
export const accountUuid = (idText: string) => `CASE WHEN ${idText} ~* '${UUID_RE.source}' THEN (${idText})::uuid END`;
export interface PrefetchSources {
  account?: AccountJson; user?: AccountJson;
  /** More rows of an Interaction's account, read with it (needs `user`): name → scalar subquery, filed for takePrefetched(name, accountId). */
  accountRows?: Record<string, AccountJson>;
}

type Companions = Row & {
  grant_payload?: AdapterPayload | null; account?: Record<string, unknown> | null; grants?: Record<string, AdapterPayload> | null;
  session?: { id: string; payload: AdapterPayload; consumed: string | null } | null;
  /** accountRows, by name. */
  account_rows?: Record<string, Record<string, unknown> | null> | null;
};

const TOKENS = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken']);
const LIVE = (t: string) => `(${t}.expires_at IS NULL OR ${t}.expires_at > now())`;
const CONSUMED = (t: string) => `floor(extract(epoch FROM ${t}.consumed_at))::text`;

// Every companion is a correlated scalar subquery: a primary-key (or uid) lookup per row read, whatever
// the table's size. As joins, their plans were made once per connection while the table was small and
// kept after it grew (named prepared statements are re-planned only after an ANALYZE): the Grant join
// became a scan of every Grant row (2.5 ms a read at 60,000 Grants, growing), which piled up requests in
// the bench's 10-minute soak. bench/REPORT.md, 2026-12-06.
/** The Session whose uid `uidText` holds, as findByUid reads it (when `when` holds). */
const sessionByUid = (uidText: string, when = 'true') => `(SELECT jsonb_build_object('id', s.id, 'payload', s.payload, 'consumed', ${CONSUMED('s')}) FROM oidc_models s
      WHERE ${when} AND s.model = 'Session' AND s.uid = ${uidText} AND ${LIVE('s')} LIMIT 1) AS session`;

function tokenQuery(account?: AccountJson): string {
  return `SELECT t.payload, ${CONSUMED('t')} AS consumed,
    (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = t.grant_id AND ${LIVE('g')}) AS grant_payload${
  account ? `,\n    ${account("t.payload->>'accountId'")} AS account` : ''},
    ${sessionByUid("t.payload->>'sessionUid'", "t.payload->>'expiresWithSession' = 'true'")}
  FROM oidc_models t WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;
}

type InteractionPayload = AdapterPayload & { result?: { login?: { accountId?: unknown } }; session?: { uid?: unknown; accountId?: unknown } };
/** Where a Session or an Interaction names the account read with it. */
const ACCOUNT_OF: Record<string, { sql: (p: string) => string; of: (p: AdapterPayload) => unknown }> = {
  Session: { sql: (p) => `${p}->>'accountId'`, of: (p) => p.accountId },
  Interaction: {
    sql: (p) => `coalesce(${p}->'result'->'login'->>'accountId', ${p}->'session'->>'accountId')`,
    of: (p) => (p as InteractionPayload).result?.login?.accountId ?? (p as InteractionPayload).session?.accountId,
  },
};

/** A Session's Grants, keyed by Grant id: one per client it signed in to, each looked up by primary key. */
const SESSION_GRANTS = `(SELECT jsonb_object_agg(e.value->>'grantId',
      (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = e.value->>'grantId' AND ${LIVE('g')}))
    FROM jsonb_each(CASE WHEN jsonb_typeof(t.payload->'authorizations') = 'object' THEN t.payload->'authorizations' END) e
    WHERE e.value->>'grantId' IS NOT NULL) AS grants`;

/**
 * An account's more rows (name → scalar subquery) as one jsonb value keyed by name, or undefined when there
 * are none. jsonb_build_object keeps a key whose row is missing as JSON null: "known not to exist".
 */
export function accountRowsJson(accountRows: Record<string, AccountJson>, accountIdText: string): string | undefined {
  const rows = Object.entries(accountRows).map(([name, sql]) => `'${name}', ${sql(accountIdText)}`);
  return rows.length ? `jsonb_build_object(${rows.join(', ')})` : undefined;
}

function withAccountQuery(account: AccountJson, model: string, accountRows: Record<string, AccountJson> = {}): string {
  const accountId = ACCOUNT_OF[model]!.sql('t.payload');
  const more = model === 'Session' ? SESSION_GRANTS : sessionByUid("t.payload->'session'->>'uid'");
  const rows = accountRowsJson(accountRows, accountId);
  return `SELECT t.payload, ${CONSUMED('t')} AS consumed, ${account(accountId)} AS account,
    ${more}${rows ? `,\n    ${rows} AS account_rows` : ''}
  FROM oidc_models t WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;
}

/**
 * Files a Session read with another row into the request's Session snapshot, as findByUid would have
 * read it, unless that lookup was made (or filed) already in this request.
 */
function keepSession(snap: Map<string, SnapshotRow | null>, uid: string, found: Companions['session']) {
  const byUid = `uid\u0000${rowKey('Session', uid)}`;
  if (snap.has(byUid)) return;
  const s = found ? { id: found.id, payload: found.payload, consumed: found.consumed ?? null } : null;
  snap.set(byUid, s);
  if (s && !snap.has(rowKey('Session', s.id))) snap.set(rowKey('Session', s.id), s);
}

/** A Grant for the unit to hand out once, unless this request has already written that Grant itself. */
function keepGrant(u: Unit, grantId: unknown, payload: AdapterPayload | null | undefined) {
  if (typeof grantId === 'string' && u.overlay.get(rowKey('Grant', grantId)) === undefined) u.prefetched.set(rowKey('Grant', grantId), payload ?? null);
}

export function createPrefetch({ account, user, accountRows }: PrefetchSources = {}) {
  const token = tokenQuery(account);
  const others = new Map<string, string>();
  if (account) others.set('Session', withAccountQuery(account, 'Session'));
  if (user) others.set('Interaction', withAccountQuery(user, 'Interaction', accountRows));
  return {
    /** The statement reading this model's row (params: model, id) with what comes along; undefined: none. */
    query: (model: string): string | undefined => (TOKENS.has(model) ? token : others.get(model)),
    /**
     * Files what came along with `row` into the unit: Grants, accounts and users for takePrefetched (an
     * Interaction's user row serves as its account too), a Session into the request's Session snapshot.
     */
    keep(u: Unit, model: string, row: Companions | undefined, sessions: () => Map<string, SnapshotRow | null>) {
      if (!row || !(TOKENS.has(model) || others.has(model))) return;
      const p = row.payload;
      const accountId = TOKENS.has(model) ? p.accountId : ACCOUNT_OF[model]?.of(p);
      if (typeof accountId === 'string' && row.account !== undefined) {
        u.prefetched.set(rowKey('Account', accountId), row.account);
        if (model === 'Interaction') u.prefetched.set(rowKey('User', accountId), row.account);
        for (const [name, value] of Object.entries(row.account_rows ?? {})) u.prefetched.set(rowKey(name, accountId), value);
      }
      if (TOKENS.has(model)) {
        keepGrant(u, p.grantId, row.grant_payload);
        if (p.expiresWithSession === true && typeof p.sessionUid === 'string') keepSession(sessions(), p.sessionUid, row.session);
      } else if (model === 'Interaction') {
        const uid = (p as InteractionPayload).session?.uid;
        if (typeof uid === 'string') keepSession(sessions(), uid, row.session);
      } else if (model === 'Session' && p.authorizations && typeof p.authorizations === 'object') {
        for (const a of Object.values(p.authorizations as Record<string, { grantId?: unknown } | null>)) keepGrant(u, a?.grantId, row.grants?.[a?.grantId as string]);
      }
    },
  };
}
