// The library floor's configuration, shared by bench/sut/bare-op.ts and bench/sut/config-ab.ts: bare
// oidc-provider (built-in memory adapter) with one static client doing client credentials, and a JWT ES256
// access token for one resource — the same token the gateway issues. Bench-only.
import { generateKeyPairSync } from 'node:crypto';
import type { Configuration } from 'oidc-provider';
import { CC_CLIENT } from '../lib/fixtures.ts';

const key = (alg: 'ES256' | 'RS256') => ({
  ...(alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })).privateKey.export({ format: 'jwk' }),
  alg, use: 'sig', kid: alg.toLowerCase(),
});

/** Fresh signing keys (ES256 and RS256) and the floor's configuration for `issuer`. */
export function bareConfiguration(issuer: string) {
  const resource = `${issuer}/api`;
  const keys = [key('ES256'), key('RS256')];
  const resourceIndicators: NonNullable<Configuration['features']>['resourceIndicators'] = {
    enabled: true,
    defaultResource: () => resource,
    useGrantedResource: () => true,
    getResourceServerInfo: () => ({ scope: 'api', audience: resource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
  };
  const configuration: Configuration = {
    clients: [{
      client_id: CC_CLIENT.clientId, client_secret: CC_CLIENT.clientSecret, grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: keys as never },
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, resourceIndicators },
    ttl: { ClientCredentials: 600 },
  };
  return { configuration, keys, resourceIndicators };
}
