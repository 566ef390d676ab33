// The provider's EC keys sign on the calling thread through oidc-provider's ExternalSigningKey hook
// (src/protocols/oidc/inline-signing-keys.ts): the signatures WebCrypto and jose accept, the same public
// JWKS, RSA left to WebCrypto, and no deprecated KeyObject.from on the way (Node's DEP0204).
import t from 'tap';
import { generateKeyPairSync, createPublicKey, verify } from 'node:crypto';
import * as jose from 'jose';
import * as client from 'openid-client';
import { InlineSigningKey, withInlineSigning } from '../../src/protocols/oidc/inline-signing-keys.ts';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetTokens } from '../helpers/oidc.ts';

const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name} ${(w as { code?: string }).code ?? ''} ${w.message}`));

const jwkOf = (type: 'ec' | 'ed25519' | 'rsa', curve?: string) => {
  const { privateKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: curve! })
    : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'jwk' }) as JsonWebKey & { kid?: string; alg?: string };
};

const CASES = [
  { alg: 'ES256', type: 'ec', curve: 'P-256', webcrypto: { name: 'ECDSA', hash: 'SHA-256' }, imp: { name: 'ECDSA', namedCurve: 'P-256' }, len: 64 },
  { alg: 'ES384', type: 'ec', curve: 'P-384', webcrypto: { name: 'ECDSA', hash: 'SHA-384' }, imp: { name: 'ECDSA', namedCurve: 'P-384' }, len: 96 },
  { alg: 'ES512', type: 'ec', curve: 'P-521', webcrypto: { name: 'ECDSA', hash: 'SHA-512' }, imp: { name: 'ECDSA', namedCurve: 'P-521' }, len: 132 },
  { alg: 'EdDSA', type: 'ed25519', webcrypto: { name: 'Ed25519' }, imp: { name: 'Ed25519' }, len: 64 },
] as const;

for (const c of CASES) {
  t.test(`${c.alg}: signed now, in the JWS format, verified by WebCrypto and jose`, async (t) => {
    const jwk = { ...jwkOf(c.type, 'curve' in c ? c.curve : undefined), kid: `k-${c.alg}`, alg: c.alg };
    const [key] = withInlineSigning([jwk]);
    t.ok(key instanceof InlineSigningKey, 'taken inline');
    const k = key as InlineSigningKey;
    t.equal(k.kid, jwk.kid);
    t.equal(k.alg, c.alg);
    t.equal(k.use, 'sig');
    // The public half only: what /jwks shows and what verifies the provider's own tokens.
    t.equal(k.keyObject().type, 'public');
    const { d, ...pub } = jwk; void d;
    t.same({ kty: k.kty, crv: k.crv, x: k.x, y: k.y }, { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y }, 'public parameters of the JWK');

    const data = new TextEncoder().encode('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9');
    const sig = k.sign(data);
    t.ok(Buffer.isBuffer(sig), 'a value, not a promise: no thread-pool round trip');
    t.equal(sig.length, c.len, 'IEEE P1363 / raw length, as JWS wants');
    const wcPub = await crypto.subtle.importKey('jwk', pub, c.imp as never, false, ['verify']);
    t.ok(await crypto.subtle.verify(c.webcrypto as never, wcPub, new Uint8Array(sig), data), 'WebCrypto verifies it');
    t.notOk(await crypto.subtle.verify(c.webcrypto as never, wcPub, new Uint8Array(sig), new Uint8Array(data.length)), 'only for the bytes signed');
    if (c.type === 'ed25519') t.ok(verify(null, data, createPublicKey({ key: pub as never, format: 'jwk' }), sig), 'node:crypto verifies it');

    // A compact JWS assembled as oidc-provider assembles it for such keys (lib/helpers/jwt.js).
    const header = Buffer.from(JSON.stringify({ alg: c.alg, kid: jwk.kid })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url');
    const jws = `${header}.${payload}.${k.sign(Buffer.from(`${header}.${payload}`)).toString('base64url')}`;
    const verified = await jose.compactVerify(jws, await jose.importJWK(pub, c.alg));
    t.equal(new TextDecoder().decode(verified.payload), '{"sub":"alice"}', 'jose verifies the JWS');
  });
}

t.test('RSA keys and public keys are left as given; an alg that does not fit the curve is refused', async (t) => {
  const rsa = { ...jwkOf('rsa'), kid: 'r1', alg: 'RS256' };
  const { d, ...ecPublic } = { ...jwkOf('ec', 'P-256'), kid: 'p1', alg: 'ES256' }; void d;
  const out = withInlineSigning([rsa, ecPublic]);
  t.equal(out[0], rsa, 'RSA: the JWK itself, signed through WebCrypto');
  t.equal(out[1], ecPublic, 'a public EC key: as given');
  t.throws(() => withInlineSigning([{ ...jwkOf('ec', 'P-384'), kid: 'bad', alg: 'ES256' }]), /key bad: ES256 does not sign with curve P-384/);
  const [noAlg] = withInlineSigning([{ ...jwkOf('ec', 'P-384'), kid: 'n1' }]);
  t.equal((noAlg as InlineSigningKey).alg, 'ES384', 'no alg: the one its curve signs with');
});

const rsClient = { ...confidentialClient, clientId: 'rs-app', clientSecret: 'rs-app-secret-0123456789abcdef012', idTokenSigningAlg: 'RS256' };

t.test('through the gateway: ES256 made inline, RS256 through WebCrypto, the same JWKS, no warning', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, rsClient] } } });
  await addUser(gw);
  const rp = await discover(gw);
  const jwks = await (await fetch(`${gw.url}/oidc/jwks`)).json() as { keys: Array<Record<string, unknown>> };
  t.ok(jwks.keys.some((k) => k.kty === 'EC') && jwks.keys.some((k) => k.kty === 'RSA'), 'both keys published');
  for (const k of jwks.keys) {
    t.notOk('d' in k || 'p' in k || 'q' in k, `${String(k.kid)}: no private parameter`);
    t.equal(k.use, 'sig');
    t.type(k.alg, 'string');
  }
  const remote = jose.createLocalJWKSet(jwks as jose.JSONWebKeySet);
  const cc = await client.clientCredentialsGrant(rp, { scope: 'api' });
  t.equal((await jose.jwtVerify(cc.access_token, remote, { algorithms: ['ES256'] })).protectedHeader.alg, 'ES256', 'client credentials: ES256, inline');
  for (const [c, alg] of [[confidentialClient, 'ES256'], [rsClient, 'RS256']] as const) {
    const { tokens } = await loginAndGetTokens(gw, await discover(gw, c), 'alice', 'correct horse battery');
    const { protectedHeader, payload } = await jose.jwtVerify(tokens.id_token!, remote, { algorithms: [alg], audience: c.clientId });
    t.equal(protectedHeader.alg, alg, `${c.clientId}: ID token ${alg}`);
    t.type(payload.sub, 'string');
  }
  t.same(warnings.filter((w) => /DEP0204|KeyObject/.test(w)), [], 'no DEP0204 (KeyObject.from on a non-extractable CryptoKey)');
});
