// The portal is a client of Gatehouse's own OIDC provider: signing in to /account runs the normal login,
// MFA policy included. First party (no consent page), confidential with a secret derived from the master
// secret (nothing to configure or store), PKCE S256 like every client, auth_time always in the ID token
// because the freshness of the second factor is read from it.
import type { ClientMetadata } from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import type { SecretBox } from '../platform/secret-box.ts';

export const ACCOUNT_CLIENT_ID = 'gatehouse-account';
export const ACCOUNT_PREFIX = '/account';
export const callbackUrl = (issuer: string) => `${issuer}${ACCOUNT_PREFIX}/callback`;
export const signedOutUrl = (issuer: string) => `${issuer}${ACCOUNT_PREFIX}/signed-out`;
export const accountClientSecret = (box: SecretBox) => box.derive('account-client-secret').toString('base64url');

/** The internal client for provider.ts (`extraInternalClients`). */
export function accountClient(config: Config, issuer: string, box: SecretBox): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_secret: accountClientSecret(box),
    client_name: `${config.ui.productName} account`,
    redirect_uris: [callbackUrl(issuer)],
    post_logout_redirect_uris: [signedOutUrl(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    require_auth_time: true,
    scope: 'openid',
    'gatehouse:mfa': config.account.mfa,
    'gatehouse:first_party': true,
    // Opaque: it is only looked up in-process (which gateway session signed in), then destroyed.
    'gatehouse:access_token_format': 'opaque',
  };
}
