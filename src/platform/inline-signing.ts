// Elliptic-curve signatures made on the calling thread instead of libuv's pool.
//
// jose, and through it oidc-provider, signs every JWT with the global WebCrypto `crypto.subtle.sign`
// (jose/dist/webapi/lib/jws_sign.js; https://github.com/panva/jose/blob/main/src/lib/jws_sign.ts).
// Node runs each WebCrypto signature as a job on libuv's thread pool and resolves a promise when it comes
// back. An ES256 signature is ≈ 25–50 µs of work; the hand-off (queue, wake a pool thread, wake the
// event loop) costs more than that when the process has one core, as the benchmark's gateway does
// (bench/REPORT.md, baselines: a JWT signed inline for 98 µs of CPU against 184 µs through the pool, one at
// a time, on a noisy machine). Under load that no longer holds: with many signatures in flight the pool's
// hand-offs are shared, and a same-process A/B (bench/sut/config-ab.ts) found inline 1–2 % more CPU per
// client-credentials grant in a flood and at 55 % of a core. It is kept for latency: at 1,500 grants per
// second the time from request to finished response was p50 0.30 / p99 0.83 ms inline against 1.18 / 4.75 ms
// through the pool.
//
// So ECDSA and Ed25519 signatures with a private CryptoKey that may sign are made here with node:crypto's
// synchronous `sign`: the same key (KeyObject.from), the same output (IEEE P1363 for ECDSA, as WebCrypto
// gives), the same promise-shaped answer. Anything else — RSA, whose 1–2 ms per signature is better off
// the event loop, HMAC, a key or algorithm WebCrypto would refuse, any error at all — goes to the
// original method, so WebCrypto's own checks and errors still apply.
import { KeyObject, sign as signNow } from 'node:crypto';

type Subtle = typeof globalThis.crypto.subtle;
type SignArgs = Parameters<Subtle['sign']>;

const INSTALLED = Symbol.for('gatehouse.inline-signing');
const HASHES: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

const nameOf = (a: unknown): string | undefined =>
  typeof a === 'string' ? a : (a && typeof a === 'object' && typeof (a as { name?: unknown }).name === 'string' ? (a as { name: string }).name : undefined);

const bytesOf = (data: unknown): Buffer | undefined => {
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return undefined;
};

const keyObjectOf = (key: CryptoKey): KeyObject => {
  let ko = keyObjects.get(key);
  if (!ko) { ko = KeyObject.from(key); keyObjects.set(key, ko); }
  return ko;
};

/** The signature, or undefined when WebCrypto itself should answer. */
export function signInline(algorithm: SignArgs[0], key: CryptoKey, data: SignArgs[2]): ArrayBuffer | undefined {
  if (!(key instanceof CryptoKey) || key.type !== 'private' || !key.usages.includes('sign')) return undefined;
  const name = nameOf(algorithm)?.toUpperCase();
  if (name !== key.algorithm.name.toUpperCase()) return undefined;
  const bytes = bytesOf(data);
  if (!bytes) return undefined;
  let sig: Buffer;
  if (name === 'ECDSA') {
    const hash = HASHES[nameOf((algorithm as { hash?: unknown }).hash)?.toUpperCase() ?? ''];
    if (!hash) return undefined;
    sig = signNow(hash, bytes, { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' });
  } else if (name === 'ED25519') {
    sig = signNow(null, bytes, keyObjectOf(key));
  } else {
    return undefined;
  }
  return sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.byteLength) as ArrayBuffer;
}

/** Installs the inline path on the global `crypto.subtle` once per process (idempotent). */
export function installInlineSigning(subtle: Subtle = globalThis.crypto.subtle): void {
  const s = subtle as Subtle & { [INSTALLED]?: true };
  if (s[INSTALLED]) return;
  const original = s.sign.bind(s);
  s.sign = function sign(algorithm: SignArgs[0], key: CryptoKey, data: SignArgs[2]): Promise<ArrayBuffer> {
    let sig: ArrayBuffer | undefined;
    try { sig = signInline(algorithm, key, data); } catch { sig = undefined; }
    return sig ? Promise.resolve(sig) : original(algorithm, key, data);
  };
  Object.defineProperty(s, INSTALLED, { value: true });
}
