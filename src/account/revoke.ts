// Ending a user's gateway sessions and revoking what was issued to them, after a password change (every
// other session) or "sign out everywhere" (all of them). oidc-provider has no "all sessions of an
// account" API; its rows live in oidc_models (storage/oidc-adapter.ts) with the account in the payload.
// Per session the steps of oidc-provider's end_session ("logout=yes") are taken: back-channel logout to
// clients that registered for it, then the Session row goes.
// https://github.com/panva/node-oidc-provider/blob/main/lib/actions/end_session.js
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import { notifyBackchannel, type SessionAuthorization as Authorization } from '../protocols/oidc/backchannel.ts';

/** Models that carry an account and grant access: all of them are revoked. */
const TOKEN_MODELS = ['RefreshToken', 'AccessToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'];

export interface Revoked { sessions: number; tokens: number; grants: number }

/**
 * Ends the user's gateway sessions except the one with uid `keepSessionUid`, deletes every token issued
 * to the user (refresh tokens above all; access tokens are short-lived JWTs or these rows), and the
 * grants the kept session does not use. Back-channel logouts go out only when a provider is given.
 */
export async function revokeUserAccess(d: { db: Db; provider?: Provider; log: Logger }, userId: string, keepSessionUid?: string): Promise<Revoked> {
  const keep = keepSessionUid ?? null;
  const rows = await d.db.query<{ payload: { uid?: string; authorizations?: Record<string, Authorization> } | string }>(
    `SELECT payload FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1`, [userId]);
  const keptGrants: string[] = [];
  for (const row of rows.rows) {
    const s = typeof row.payload === 'string' ? JSON.parse(row.payload) as Exclude<typeof row.payload, string> : row.payload;
    const authorizations = Object.entries(s.authorizations ?? {});
    if (keep && s.uid === keep) { for (const [, a] of authorizations) if (a.grantId) keptGrants.push(a.grantId); continue; }
    // Without a provider (the CLI) there is no one to send back-channel logouts: the rows still go.
    if (d.provider) await notifyBackchannel(d.provider, d.log, userId, Object.fromEntries(authorizations));
  }
  return d.db.transaction(async (q) => {
    const sessions = (await q.query(`DELETE FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1 AND uid IS DISTINCT FROM $2`,
      [userId, keep])).rowCount;
    const tokens = (await q.query(`DELETE FROM oidc_models WHERE model = ANY($1) AND payload->>'accountId' = $2`, [TOKEN_MODELS, userId])).rowCount;
    const grants = (await q.query(`DELETE FROM oidc_models WHERE model = 'Grant' AND payload->>'accountId' = $1 AND NOT (id = ANY($2))`,
      [userId, keptGrants])).rowCount;
    // The SAML SPs of the ended sessions cannot be told (their browsers are elsewhere and SAML back-channel
    // logout is not offered), but the records of what they hold go with the sessions (protocols/saml/store.ts).
    await q.query(`DELETE FROM saml_sessions WHERE user_id = $1 AND session_uid IS DISTINCT FROM $2`, [userId, keep]);
    return { sessions, tokens, grants };
  });
}
