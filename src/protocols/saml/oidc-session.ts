// Ending the gateway (oidc-provider) session from SAML single logout, server-side: there is no browser
// request to oidc-provider's end_session endpoint to ride on. The Session is found by its uid (stable for
// the life of the session; the adapter indexes it), and the same steps as end_session with "logout=yes"
// are taken: grants revoked unless they persist logout (offline_access), OIDC back-channel logout sent
// to clients that registered one, then the Session row destroyed. Inside the SLO request's unit of work
// (saml/routes.ts) the grants' revocation and the Session's destroy go out with that request's one commit,
// and the back-channel notifications after it: a logout whose commit rolls back (a replayed LogoutRequest)
// tells no client anything.
// https://github.com/panva/node-oidc-provider/blob/main/lib/actions/end_session.js (endSession)
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.ts';
import { afterCommit, deferWrite } from '../../storage/unit-of-work.ts';
import { notifyBackchannel, type SessionAuthorization as Authorization } from '../oidc/backchannel.ts';

/** Destroys the session with this uid; returns its account id, or undefined when it was already gone. */
export async function endGatewaySession(provider: Provider, db: Db, log: Logger, sessionUid: string): Promise<string | undefined> {
  const session = await provider.Session.findByUid(sessionUid);
  if (!session) return undefined;
  const accountId = session.accountId;
  const authorizations = ((session as unknown as { authorizations?: Record<string, Authorization> }).authorizations) ?? {};
  for (const a of Object.values(authorizations)) {
    // The adapter keys every token model and the Grant itself by grant_id (storage/oidc-adapter.ts).
    // With the request's commit (nothing of these grants is queued in an SLO request, whose only
    // oidc-provider write is the Session's destroy below).
    if (a.grantId && !a.persistsLogout) await deferWrite(db, 'DELETE FROM oidc_models WHERE grant_id = $1', [a.grantId]);
  }
  if (accountId) afterCommit(() => void notifyBackchannel(provider, log, accountId, authorizations));
  await session.destroy();
  return accountId;
}
