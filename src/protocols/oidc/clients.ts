// Config clients → oidc-provider client metadata. Clients come only from config; nothing writes them.
import type { ClientMetadata } from 'oidc-provider';
import type { ClientConfig, MfaPolicy } from '../../config/schema.ts';

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
    'gatehouse:access_token_audience': c.accessTokenAudience,
    ...(c.duoFailMode ? { 'gatehouse:duo_fail_mode': c.duoFailMode } : {}),
  };
}

export const EXTRA_CLIENT_METADATA = ['gatehouse:mfa', 'gatehouse:first_party', 'gatehouse:access_token_format', 'gatehouse:access_token_audience', 'gatehouse:duo_fail_mode'];

/** Gatehouse's policy fields of a client, as the hot paths need them. */
export interface ClientPolicy {
  mfa: MfaPolicy | undefined; firstParty: boolean; accessTokenFormat: string;
  /** 'api': the code flow's access token is for the API resource unless the request names one. */
  accessTokenAudience: 'userinfo' | 'api';
  duoFailMode: 'open' | 'closed' | undefined;
}

// oidc-provider's `client.metadata()` rebuilds the whole metadata object (snake-casing every key and scanning
// the recognised-metadata list) on each call: ~4 % of a client-credentials grant when called per token. Clients
// come only from config and oidc-provider keeps each static client instance it built for good (its
// `staticClients` map, no LRU), so the fields are read once per instance; a provider rebuilt after a key
// rotation builds new instances, and the old ones (and their entries) are collected with it.
const policies = new WeakMap<object, ClientPolicy>();

/** The client's gatehouse:* fields, read once per oidc-provider client instance. */
export function clientPolicy(client: { metadata(): Record<string, unknown> }): ClientPolicy {
  let p = policies.get(client);
  if (!p) {
    const m = client.metadata();
    p = Object.freeze({
      mfa: m['gatehouse:mfa'] as MfaPolicy | undefined,
      firstParty: Boolean(m['gatehouse:first_party']),
      accessTokenFormat: (m['gatehouse:access_token_format'] as string | undefined) ?? 'jwt',
      accessTokenAudience: m['gatehouse:access_token_audience'] === 'api' ? 'api' : 'userinfo',
      duoFailMode: m['gatehouse:duo_fail_mode'] as 'open' | 'closed' | undefined,
    });
    policies.set(client, p);
  }
  return p;
}
