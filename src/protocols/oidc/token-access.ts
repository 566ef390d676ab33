// Who may introspect or revoke a token: only the client it was issued to. oidc-provider's defaults let any
// confidential client introspect every token (and learn whose it is and for which scopes).
import type { KoaContextWithOIDC } from 'oidc-provider';

type Policy = (ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }) => Promise<boolean>;

/** The allowedPolicy for introspection and revocation: a client sees and revokes only its own tokens. */
export const ownTokensOnly: Policy = async (_ctx, client, token) => token.clientId === client.clientId;
