// Bench-only: what parts of the gateway's client-credentials path cost apart from the rest — its
// oidc-provider configuration, its inline ES256 signing, mounting in Fastify — against bare oidc-provider.
// One process serves the same port five ways, switching between them every PHASE_MS, and charges the
// process's CPU time of each phase to the grants answered in it: all variants see the same machine at the
// same moments, so the shared machine's noise cancels out of their ratio (separate processes measured in
// turn did not resolve 5 % on a busy day). Run pinned to one CPU and load it from the other:
//   taskset -c 0 node bench/sut/config-ab.ts 4000 & npx autocannon -c 32 -d 60 -m POST … http://127.0.0.1:4000/oidc/token
// The fifth way is the whole gateway (buildApp, product defaults, the bench's clients) on PostgreSQL when
// DATABASE_URL is set (a database of its own: its migrations run there), else on PGlite in memory; it is
// served at /oidc/token, and the other four get the same request with the path rewritten to /token.
// Prints every 10 s: µs of CPU per grant under each variant and the difference, and each one's
// server-side time per grant (p50 / p99).
import http from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import Fastify from 'fastify';
import { EXTERNAL_SIGNING_ACK, withInlineSigning } from '../../src/protocols/oidc/inline-signing-keys.ts';
import { CC_CLIENT } from '../lib/fixtures.ts';
import { bareConfiguration } from './bare-config.ts';
import { CLAIMS } from '../../src/protocols/oidc/claims.ts';
import { ACR_VALUES } from '../../src/mfa/amr.ts';
import { EXTRA_CLIENT_METADATA } from '../../src/protocols/oidc/clients.ts';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfig } from '../lib/fixtures.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createServices } from '../../src/services.ts';
import { buildApp } from '../../src/app.ts';

const PHASE_MS = 400;
const port = Number(process.argv[2] ?? 4000);
const issuer = `http://127.0.0.1:${port}`;
/** bare-op.ts's configuration (bare-config.ts): the library floor. */
const { configuration: minimal, keys, resourceIndicators } = bareConfiguration(issuer);

/** The gateway's (src/protocols/oidc/provider.ts) minus what needs its services: same features, claims, client metadata. */
const gatewayLike: Configuration = {
  clients: [{
    client_id: CC_CLIENT.clientId, client_secret: CC_CLIENT.clientSecret, client_name: 'bench cc', redirect_uris: [], post_logout_redirect_uris: [],
    grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256',
    scope: 'openid profile email groups offline_access', 'gatehouse:mfa': 'off', 'gatehouse:first_party': false, 'gatehouse:access_token_format': 'jwt',
  }],
  extraClientMetadata: { properties: EXTRA_CLIENT_METADATA },
  jwks: { keys: keys as never },
  claims: CLAIMS as unknown as Configuration['claims'],
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
  acrValues: [...ACR_VALUES],
  responseTypes: ['code'],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  features: {
    devInteractions: { enabled: false }, clientCredentials: { enabled: true },
    introspection: { enabled: true }, revocation: { enabled: true }, userinfo: { enabled: true },
    backchannelLogout: { enabled: true }, rpInitiatedLogout: { enabled: true }, resourceIndicators,
  },
  ttl: { ClientCredentials: 600, AccessToken: 600 },
  clientBasedCORS: () => false,
  enabledJWA: {
    idTokenSigningAlgValues: ['ES256', 'RS256'], userinfoSigningAlgValues: ['ES256', 'RS256'],
    introspectionSigningAlgValues: ['ES256', 'RS256'], authorizationSigningAlgValues: ['ES256', 'RS256'],
    requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'], clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'HS256'],
  },
  conformIdTokenClaims: false,
};

// Five ways to serve the grant: the floor; the gateway's configuration; the floor with the gateway's inline
// ES256 signing (src/protocols/oidc/inline-signing-keys.ts); the floor mounted in Fastify as
// src/protocols/oidc/mount.ts mounts it (an onRequest hook that hijacks the reply and hands the raw request
// to the provider); and the gateway itself (below).
const inlineSigning: Configuration = {
  ...minimal,
  jwks: { keys: withInlineSigning(keys as never) as never },
  features: { ...minimal.features, externalSigningSupport: { enabled: true, ack: EXTERNAL_SIGNING_ACK } },
};
const floor = new Provider(issuer, minimal).callback();
const fastify = Fastify({ logger: false });
fastify.addHook('onRequest', (req, reply, done) => { reply.hijack(); void floor(req.raw, reply.raw); done(); });
fastify.all('/*', async () => undefined);
await fastify.ready();
// The whole gateway, as src/main.ts builds it (log lines go to stdout: redirect it to a file).
const configFile = join(tmpdir(), `gatehouse-config-ab-${process.pid}.json`);
writeFileSync(configFile, JSON.stringify(gatewayConfig({ saml: false })));
const gwConfig = loadConfig({ env: {}, file: configFile, overrides: { server: { port, issuer }, database: { url: process.env.DATABASE_URL }, dataDir: ':memory:' } });
const gateway = await buildApp(await createServices(gwConfig, createLogger(gwConfig.log.level)), { issuer });
await gateway.ready();
/** The four library variants answer at /token; the gateway at /oidc/token. */
const atToken = (cb: (req: http.IncomingMessage, res: http.ServerResponse) => unknown) => (req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url?.startsWith('/oidc/token')) req.url = req.url.slice('/oidc'.length);
  return cb(req, res);
};
const configs = [
  ['minimal', floor],
  ['gateway-config', new Provider(issuer, gatewayLike).callback()],
  ['minimal+inline-ES256', new Provider(issuer, inlineSigning).callback()],
  ['minimal-in-fastify', (req: http.IncomingMessage, res: http.ServerResponse) => fastify.routing(req, res)],
  ['gateway', (req: http.IncomingMessage, res: http.ServerResponse) => gateway.routing(req, res)],
] as const;
const callbacks = configs.map(([name, cb]) => (name === 'gateway' ? cb : atToken(cb)));
let ci = 0;
const grants = configs.map(() => 0);
const cpu = configs.map(() => 0);
let last = process.cpuUsage();
setInterval(() => {
  const now = process.cpuUsage();
  cpu[ci]! += now.user - last.user + now.system - last.system;
  last = now;
  ci = (ci + 1) % configs.length;
}, PHASE_MS);
// Server-side time per grant (request received → response finished), by the variant that answered it:
// what the inline signing is kept for. Latencies are kept for the p50/p99 of each variant.
const latencies = configs.map(() => [] as number[]);
http.createServer((req, res) => {
  const i = ci;
  const t0 = performance.now();
  res.on('finish', () => {
    if (res.statusCode !== 200) return;
    grants[ci]!++;
    if (latencies[i]!.length < 2_000_000) latencies[i]!.push(performance.now() - t0);
  });
  void callbacks[i]!(req, res);
}).listen(port, '127.0.0.1');
const pct = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN; };
// The report (sorting up to millions of latencies) is charged to no variant: its CPU time is skipped.
setInterval(() => {
  const start = process.cpuUsage();
  const per = configs.map((_, i) => cpu[i]! / Math.max(1, grants[i]!));
  process.stdout.write(`${new Date().toISOString()} ${configs.map(([n], i) => `${n} ${per[i]!.toFixed(1)} µs/grant (${grants[i]}, ${i ? `${((per[i]! / per[0]! - 1) * 100).toFixed(1)} %` : 'floor'})`).join('; ')}\n`);
  process.stdout.write(`  server-side ms p50 / p99: ${configs.map(([n], i) => `${n} ${pct(latencies[i]!, 0.5).toFixed(2)} / ${pct(latencies[i]!, 0.99).toFixed(2)}`).join('; ')}\n`);
  const spent = process.cpuUsage(start);
  last = { user: last.user + spent.user, system: last.system + spent.system };
}, 10_000);
