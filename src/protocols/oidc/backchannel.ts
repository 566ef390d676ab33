// OIDC back-channel logout for the clients of one ending session, as oidc-provider's end_session does
// with "logout=yes", for the places that end sessions without a browser at end_session: SAML single
// logout (protocols/saml/oidc-session.ts) and the account portal / CLI (account/revoke.ts).
// https://github.com/panva/node-oidc-provider/blob/main/lib/actions/end_session.js
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';

/** What a Session keeps per client (oidc-provider lib/models/session.js `authorizations`). */
export interface SessionAuthorization { sid?: string; grantId?: string; persistsLogout?: boolean }
/** The part of oidc-provider's Client used here (lib/models/client.js). */
interface BackchannelClient { backchannelLogoutUri?: string; backchannelLogout(accountId: string, sid: string): Promise<void> }

/** Sends the logout token to every client of the session that registered a back-channel URI. Best effort. */
export async function notifyBackchannel(provider: Provider, log: Logger, accountId: string, authorizations: Record<string, SessionAuthorization>): Promise<void> {
  for (const [clientId, a] of Object.entries(authorizations)) {
    if (!a.sid) continue;
    const client = await provider.Client.find(clientId) as unknown as BackchannelClient | undefined;
    if (!client?.backchannelLogoutUri) continue;
    // Like oidc-provider's own: a slow or failing RP must not block the logout.
    void client.backchannelLogout(accountId, a.sid).catch((err: Error) =>
      log.warn({ err: { message: err.message }, clientId, event: 'GW_ERR_BACKCHANNEL_LOGOUT' }, 'back-channel logout notification failed'));
  }
}
