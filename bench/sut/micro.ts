// The physical limits, measured on the same pinned CPU as the gateway: JWT signing (jose, WebCrypto, as
// oidc-provider signs), argon2id verification with the configured parameters (@node-rs/argon2, as the
// gateway verifies), and a bare samlify login Response build + sign. CPU from getrusage (all threads).
// Bench-only.
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { hash, verify } from '@node-rs/argon2';
import * as samlify from 'samlify';
import { serveRpc, emit } from '../lib/proc.ts';
import { percentiles } from '../lib/stats.ts';
import type { PasswordParams } from '../../src/users/passwords.ts';
import { InlineSigningKey } from '../../src/protocols/oidc/inline-signing-keys.ts';
import { lowerPoolPriority } from '../../src/platform/pool-priority.ts';

interface RunResult { ops: number; cpuSeconds: number; wallSeconds: number }

async function measure(durationMs: number, inFlight: number, op: () => Promise<unknown>): Promise<RunResult> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  let ops = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) { await op(); ops++; }
  }));
  const c = process.cpuUsage(c0);
  return { ops, cpuSeconds: (c.user + c.system) / 1e6, wallSeconds: (performance.now() - t0) / 1000 };
}

const keys: Record<string, CryptoKey> = {};
async function signer(alg: 'ES256' | 'RS256') {
  keys[alg] ??= (await jose.generateKeyPair(alg, { extractable: false })).privateKey;
  const key = keys[alg]!;
  return () => new jose.SignJWT({
    client_id: 'bench-cc', scope: 'api', jti: randomUUID(),
  }).setProtectedHeader({ alg, typ: 'at+jwt', kid: 'k1' }).setIssuer('http://127.0.0.1:3000').setAudience('http://127.0.0.1:3000/api')
    .setIssuedAt().setExpirationTime('10m').sign(key);
}

/**
 * The same JWT as the gateway signs it (src/protocols/oidc/inline-signing-keys.ts): oidc-provider builds
 * the JWS (lib/helpers/jwt.js) and the key signs `header.payload` with node:crypto on this thread.
 */
function inlineSigner() {
  const key = new InlineSigningKey({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'k1' }, 'ES256');
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return async () => {
    const now = Math.floor(Date.now() / 1000);
    const data = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${b64({
      client_id: 'bench-cc', scope: 'api', jti: randomUUID(), iss: 'http://127.0.0.1:3000', aud: 'http://127.0.0.1:3000/api', iat: now, exp: now + 600,
    })}`;
    return `${data}.${key.sign(Buffer.from(data)).toString('base64url')}`;
  };
}

/** @node-rs/argon2's options for the configured parameters, as the gateway hashes (users/passwords.ts). */
const argonOpts = (p: PasswordParams) => ({ algorithm: 2, memoryCost: p.memoryKiB, timeCost: p.iterations, parallelism: p.parallelism });

async function argon(params: PasswordParams) {
  const opts = argonOpts(params);
  const stored = await hash('bench correct horse battery staple', opts);
  return () => verify(stored, 'bench correct horse battery staple');
}

function saml(keyFile: string, certFile: string, signResponse: boolean) {
  const keyPem = readFileSync(keyFile, 'utf8');
  const certB64 = readFileSync(certFile, 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const idp = samlify.IdentityProvider({
    entityID: 'http://127.0.0.1:3000/saml/metadata', privateKey: keyPem, signingCert: certB64,
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: 'http://127.0.0.1:3000/saml/sso' }],
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
  });
  const sp = samlify.ServiceProvider({
    entityID: 'https://sp.example.test/saml', wantAssertionsSigned: true, wantMessageSigned: signResponse,
    assertionConsumerService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: 'https://sp.example.test/saml/acs' }],
  });
  return () => idp.createLoginResponse(sp, { extract: { request: { id: `_${randomUUID()}` } } }, 'post', { email: 'user@bench.example' });
}

/**
 * How late the event loop answers while argon2id hashes run back to back on libuv's pool (the core shared):
 * a 2 ms timer followed by ≈ 0.3 ms of work, like a small request, repeated; lateness = time past 2 ms.
 * 'plain' first, then the pool threads at nice +10 (src/platform/pool-priority.ts: one-way, a process may
 * lower a thread's priority but not raise it back).
 */
async function loopLateness(durationMs: number, argon2: PasswordParams, lower: boolean) {
  if (lower) await lowerPoolPriority();
  const opts = argonOpts(argon2);
  let stop = false;
  let hashes = 0;
  const hashing = (async () => { while (!stop) { await hash('bench lateness', opts); hashes++; } })();
  const late: number[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const s = performance.now();
    await new Promise((r) => setTimeout(r, 2));
    const w = performance.now();
    while (performance.now() - w < 0.3);
    late.push(performance.now() - s - 2.3);
  }
  stop = true;
  await hashing;
  const { p50, p90, p99, max } = percentiles(late, [50, 90, 99]);
  return { samples: late.length, hashes, p50, p90, p99, max };
}

serveRpc({
  loopLateness: (p: { durationMs: number; argon2: PasswordParams; lower: boolean }) => loopLateness(p.durationMs, p.argon2, p.lower),
  async run(p: { kind: string; durationMs: number; inFlight?: number; argon2?: PasswordParams; rsa?: { keyFile: string; certFile: string } }) {
    let op: () => Promise<unknown>;
    if (p.kind === 'sign-ES256' || p.kind === 'sign-RS256') op = await signer(p.kind.slice(5) as 'ES256' | 'RS256');
    else if (p.kind === 'sign-ES256-inline') op = inlineSigner();
    else if (p.kind === 'argon2id-verify') op = await argon(p.argon2!);
    else if (p.kind === 'samlify-assertion' || p.kind === 'samlify-both') op = saml(p.rsa!.keyFile, p.rsa!.certFile, p.kind === 'samlify-both');
    else throw new Error(`unknown micro benchmark ${p.kind}`);
    await measure(Math.min(500, p.durationMs / 4), p.inFlight ?? 1, op); // warm-up
    return measure(p.durationMs, p.inFlight ?? 1, op);
  },
});
emit({ event: 'ready' });
