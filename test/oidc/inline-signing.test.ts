// Elliptic-curve signatures are made on the calling thread (src/platform/inline-signing.ts), and they are
// the signatures WebCrypto would make: the same format, verified by WebCrypto itself and by jose. Anything
// the inline path does not take — RSA, HMAC, a key or parameters WebCrypto refuses — gets WebCrypto's own
// answer, errors included.
import t from 'tap';
import { SignJWT, jwtVerify, exportJWK, importJWK } from 'jose';
import { installInlineSigning, signInline } from '../../src/platform/inline-signing.ts';

const subtle = globalThis.crypto.subtle;
const originalSign = subtle.sign.bind(subtle);
installInlineSigning();

/** Whether the promise settled before a macrotask queued right after starting it (the pool never is). */
async function settledInline<T>(p: Promise<T>): Promise<boolean> {
  let settled = false;
  void p.then(() => { settled = true; }, () => { settled = true; });
  await new Promise((r) => setImmediate(r));
  const before = settled;
  await p.catch(() => undefined);
  return before;
}

const CASES = [
  { name: 'ES256', gen: { name: 'ECDSA', namedCurve: 'P-256' }, params: { name: 'ECDSA', hash: 'SHA-256' }, len: 64 },
  { name: 'ES384', gen: { name: 'ECDSA', namedCurve: 'P-384' }, params: { name: 'ECDSA', hash: { name: 'SHA-384' } }, len: 96 },
  { name: 'ES512', gen: { name: 'ECDSA', namedCurve: 'P-521' }, params: { name: 'ECDSA', hash: 'SHA-512' }, len: 132 },
  { name: 'EdDSA', gen: { name: 'Ed25519' }, params: 'Ed25519', len: 64 },
] as const;

for (const c of CASES) {
  t.test(`${c.name}: made inline, in WebCrypto's format, verified by WebCrypto`, async (t) => {
    const keys = await subtle.generateKey(c.gen as never, false, ['sign', 'verify']) as CryptoKeyPair;
    const whole = new Uint8Array(64).map((_, i) => i);
    // A view with an offset into a larger buffer, an ArrayBuffer and a DataView all sign their own bytes.
    for (const data of [whole.subarray(5, 40), whole.buffer, new DataView(whole.buffer, 3, 20)]) {
      const p = subtle.sign(c.params as never, keys.privateKey, data);
      t.ok(await settledInline(p), 'settled before the next macrotask: no thread-pool round trip');
      const sig = await p;
      t.ok(sig instanceof ArrayBuffer, 'an ArrayBuffer, as WebCrypto answers');
      t.equal(sig.byteLength, c.len, 'IEEE P1363 / raw length');
      t.ok(await subtle.verify(c.params as never, keys.publicKey, sig, data), 'WebCrypto verifies it');
      const other = new Uint8Array(ArrayBuffer.isView(data) ? data.byteLength : (data as ArrayBuffer).byteLength).fill(7);
      t.notOk(await subtle.verify(c.params as never, keys.publicKey, sig, other), 'and only for the bytes signed');
    }
  });
}

t.test('a JWT signed by jose through the inline path verifies with jose', async (t) => {
  const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair;
  const jwt = await new SignJWT({ sub: 'alice', scope: 'api' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('5m').sign(keys.privateKey);
  const pub = await importJWK(await exportJWK(keys.publicKey), 'ES256');
  const { payload, protectedHeader } = await jwtVerify(jwt, pub);
  t.equal(payload.sub, 'alice');
  t.equal(protectedHeader.kid, 'k1');
  // The signature part flipped: refused.
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const flipped = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
  await t.rejects(jwtVerify(flipped, pub), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});

t.test('RSA and HMAC are left to WebCrypto (the pool), and still sign', async (t) => {
  const rsa = await subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify']) as CryptoKeyPair;
  const data = new TextEncoder().encode('payload');
  t.equal(signInline('RSASSA-PKCS1-v1_5', rsa.privateKey, data), undefined, 'not taken inline');
  const sig = await subtle.sign('RSASSA-PKCS1-v1_5', rsa.privateKey, data);
  t.ok(await subtle.verify('RSASSA-PKCS1-v1_5', rsa.publicKey, sig, data));
  const hmac = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']) as CryptoKey;
  t.equal(signInline('HMAC', hmac, data), undefined, 'HMAC not taken inline');
  t.ok(await subtle.verify('HMAC', hmac, await subtle.sign('HMAC', hmac, data), data));
});

t.test("what WebCrypto refuses is refused with WebCrypto's own error", async (t) => {
  const ec = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as CryptoKeyPair;
  const ed = await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']) as CryptoKeyPair;
  const data = new Uint8Array([1, 2, 3]);
  const bad: Array<[string, unknown, CryptoKey]> = [
    ['a public key', { name: 'ECDSA', hash: 'SHA-256' }, ec.publicKey],
    ['ECDSA parameters with an Ed25519 key', { name: 'ECDSA', hash: 'SHA-256' }, ed.privateKey],
    ['Ed25519 parameters with an ECDSA key', 'Ed25519', ec.privateKey],
    ['ECDSA without a hash', { name: 'ECDSA' }, ec.privateKey],
    ['ECDSA with an unknown hash', { name: 'ECDSA', hash: 'SHA-1024' }, ec.privateKey],
  ];
  for (const [what, params, key] of bad) {
    t.equal(signInline(params as never, key, data), undefined, `${what}: not taken inline`);
    const mine = await subtle.sign(params as never, key, data).then(() => 'signed', (e: Error) => e.name);
    const theirs = await originalSign(params as never, key, data).then(() => 'signed', (e: Error) => e.name);
    t.not(mine, 'signed', `${what}: refused`);
    t.equal(mine, theirs, `${what}: the same error as WebCrypto's (${theirs})`);
  }
  // A private key created without the 'sign' usage (only possible through import).
  const jwk = await subtle.exportKey('jwk', (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']) as CryptoKeyPair).privateKey);
  const noUsage = await subtle.importKey('jwk', { ...jwk, key_ops: [] }, { name: 'ECDSA', namedCurve: 'P-256' }, false, []).catch(() => undefined);
  if (noUsage) {
    t.equal(signInline({ name: 'ECDSA', hash: 'SHA-256' } as never, noUsage, data), undefined, 'a key without the sign usage: not inline');
    await t.rejects(subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, noUsage, data), 'and refused');
  }
});

t.test('installing twice wraps once', async (t) => {
  const wrapped = subtle.sign;
  installInlineSigning();
  t.equal(subtle.sign, wrapped);
});
