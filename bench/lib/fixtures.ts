// What the gateway under test is configured with and what the load generator needs to know about it:
// clients, users, passwords, TOTP seeds. Derived deterministically so both processes agree without talking.
import { createHmac } from 'node:crypto';
import { base32Encode } from '../../src/mfa/totp/totp-code.ts';

export const PASSWORD = 'bench correct horse battery staple';
export const SECRET = 'gatehouse-bench-master-secret-0123456789abcdefghijklmnop';
export const REDIRECT = 'http://127.0.0.1:9/cb';

export const CC_CLIENT = { clientId: 'bench-cc', clientSecret: 'bench-cc-secret-0123456789abcdef' };
/** Password-only login (mfa off), first party, with refresh tokens. */
export const WEB_CLIENT = { clientId: 'bench-web', clientSecret: 'bench-web-secret-0123456789abcdef' };
/** As WEB_CLIENT, its code-flow access token a JWT for the gateway's API resource (accessTokenAudience: api): no token row. */
export const API_CLIENT = { clientId: 'bench-api', clientSecret: 'bench-api-secret-0123456789abcdef' };
/** MFA required (TOTP). */
export const MFA_CLIENT = { clientId: 'bench-mfa', clientSecret: 'bench-mfa-secret-0123456789abcdef' };

/** A SAML service provider (unsigned AuthnRequests over the Redirect binding, the product's default signing). */
export const SAML_SP = { entityId: 'https://sp.bench.example/saml', acs: 'https://sp.bench.example/saml/acs' };
/** The same, with only the assertion signed (`sign: assertion`): the issue's "signed assertion" round trip. */
export const SAML_SP_ASSERTION = { entityId: 'https://sp2.bench.example/saml', acs: 'https://sp2.bench.example/saml/acs' };

export const manyClientId = (i: number) => `bench-many-${i}`;
export const manyClientSecret = (i: number) => `bench-many-secret-${i}-0123456789abcdef`;

export const username = (prefix: string, i: number) => `${prefix}${i}`;
/** A TOTP seed per user (base32, 160 bits), the same in the gateway's seeding and in the driver. */
export const totpSecret = (user: string) => base32Encode(createHmac('sha256', 'gatehouse-bench-totp').update(user).digest().subarray(0, 20));

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const sp = (e: { entityId: string; acs: string }) => ({
  entityId: e.entityId, acs: [{ url: e.acs, isDefault: true }], nameIdFormat: 'emailAddress', nameIdSource: 'email', mfa: 'off',
  attributes: [{ name: 'email', source: 'email' }, { name: 'urn:oid:2.5.4.3', friendlyName: 'cn', source: 'name' }],
});

export interface ConfigOptions {
  manyClients?: number; logLevel?: string;
  /** false: no SAML SP (the product's default), so the SAML stack is never loaded. */
  saml?: boolean;
  /** false: leave out API_CLIENT (a checkout from before 2026-12-07 rejects its accessTokenAudience). */
  apiClient?: boolean;
}

/** A Gatehouse config file (production mode, the product's defaults everywhere else). */
export function gatewayConfig(o: ConfigOptions = {}): Record<string, unknown> {
  const web = (c: { clientId: string; clientSecret: string }, mfa: string) => ({
    ...c, name: c.clientId, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'],
    firstParty: true, mfa,
  });
  const clients: Record<string, unknown>[] = [
    { ...CC_CLIENT, name: 'bench cc', grantTypes: ['client_credentials'], redirectUris: [] },
    web(WEB_CLIENT, 'off'),
    web(MFA_CLIENT, 'required'),
    ...(o.apiClient === false ? [] : [{ ...web(API_CLIENT, 'off'), accessTokenAudience: 'api' }]),
  ];
  for (let i = 0; i < (o.manyClients ?? 0); i++) {
    clients.push({ clientId: manyClientId(i), clientSecret: manyClientSecret(i), grantTypes: ['client_credentials'], redirectUris: [] });
  }
  return {
    mode: 'production',
    secret: SECRET,
    server: { host: '127.0.0.1', allowHttpIssuer: true },
    log: { level: o.logLevel ?? 'info' },
    mfa: { factors: ['totp'] },
    oidc: { clients },
    // BENCH_POOL_MAX: the gateway's database pool size (database.poolMax; the product's default is 10).
    ...(process.env.BENCH_POOL_MAX ? { database: { poolMax: Number(process.env.BENCH_POOL_MAX) } } : {}),
    saml: o.saml === false ? {} : {
      sps: [
        { ...sp(SAML_SP), name: 'bench SP' },
        { ...sp(SAML_SP_ASSERTION), name: 'bench SP, assertion signed', sign: 'assertion' },
      ],
    },
  };
}
