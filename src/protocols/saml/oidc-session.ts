// Ending the gateway (oidc-provider) session from SAML single logout, server-side: there is no browser
// request to oidc-provider's end_session endpoint to ride on. The Session is found by its uid (stable for
// the life of the session; the adapter indexes it), and the same steps as end_session with "logout=yes"
// are taken: grants revoked unless they persist logout (offline_access), OIDC back-channel logout sent
// to clients that registered one, then the Session row destroyed.
// https://github.com/panva/node-oidc-provider/blob/main/lib/actions/end_session.js (endSession)
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.ts';
import { notifyBackchannel, type SessionAuthorization as Authorization } from '../oidc/backchannel.ts';

/** Destroys the session with this uid; returns its account id, or undefined when it was already gone. */
export async function endGatewaySession(provider: Provider, db: Db, log: Logger, sessionUid: string): Promise<string | undefined> {
  const session = await provider.Session.findByUid(sessionUid);
  if (!session) return undefined;
  const accountId = session.accountId;
  const authorizations = ((session as unknown as { authorizations?: Record<string, Authorization> }).authorizations) ?? {};
  for (const a of Object.values(authorizations)) {
    // The adapter keys every token model and the Grant itself by grant_id (storage/oidc-adapter.ts).
    if (a.grantId && !a.persistsLogout) await db.query('DELETE FROM oidc_models WHERE grant_id = $1', [a.grantId]);
  }
  if (accountId) await notifyBackchannel(provider, log, accountId, authorizations);
  await session.destroy();
  return accountId;
}
