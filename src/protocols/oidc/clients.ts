// Config clients → oidc-provider client metadata. Clients come only from config; nothing writes them.
import type { ClientMetadata } from 'oidc-provider';
import type { ClientConfig } from '../../config/schema.ts';

export function toClientMetadata(c: ClientConfig): ClientMetadata {
  const grantTypes = [...c.grantTypes];
  return {
    client_id: c.clientId,
    ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
    client_name: c.name ?? c.clientId,
    redirect_uris: [...c.redirectUris],
    post_logout_redirect_uris: [...c.postLogoutRedirectUris],
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    id_token_signed_response_alg: c.idTokenSigningAlg,
    scope: c.scopes.join(' '),
    ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    // Gatehouse's own policy fields travel with the client (read back through client.metadata()).
    'gatehouse:mfa': c.mfa,
    'gatehouse:first_party': c.firstParty,
    'gatehouse:access_token_format': c.accessTokenFormat,
    ...(c.duoFailMode ? { 'gatehouse:duo_fail_mode': c.duoFailMode } : {}),
  };
}

export const EXTRA_CLIENT_METADATA = ['gatehouse:mfa', 'gatehouse:first_party', 'gatehouse:access_token_format', 'gatehouse:duo_fail_mode'];
