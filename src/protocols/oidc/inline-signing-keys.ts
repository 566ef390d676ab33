// The provider's elliptic-curve keys sign on the calling thread, through oidc-provider's own hook for
// keys it does not hold (features.externalSigningSupport, `ExternalSigningKey`).
//
// Given a private JWK, oidc-provider signs with jose, and jose with WebCrypto's `crypto.subtle.sign`, which
// Node runs as a job on libuv's thread pool. An ES256 signature is ≈ 25–50 µs of work; the hand-off (queue,
// wake a pool thread, wake the event loop) adds latency on a busy core: at 1,500 grants per second the
// time from request to finished response was p50 0.30 / p99 0.83 ms signing here against 1.18 / 4.75 ms
// through the pool (bench/sut/config-ab.ts, bench/REPORT.md). It does not save CPU under load, where the
// pool's hand-offs are shared between many signatures.
//
// So each EC (and Ed25519) key is handed to oidc-provider as an ExternalSigningKey whose sign() is
// node:crypto's synchronous `sign` with a KeyObject made from the JWK once: the same bytes WebCrypto
// gives (IEEE P1363 r‖s for ECDSA), the same public JWK in /jwks (oidc-provider builds it from
// keyObject(), the public half). RSA keys stay JWKs: 1–2 ms per signature is better off the event loop.
// oidc-provider builds the JWS itself for such keys (lib/helpers/jwt.js `sign`:
// https://github.com/panva/node-oidc-provider/blob/v9.13.3/lib/helpers/jwt.js) and verifies its own
// tokens (id_token_hint) with keyObject().
//
// Until 2026-12 this was a patch of the global `crypto.subtle.sign` that turned jose's CryptoKey back into a
// KeyObject (KeyObject.from); Node 24.22 deprecates that for non-extractable keys (DEP0204), which is what
// jose makes, so every process printed a DeprecationWarning and a later Node would have ended the inline path.
import { createPrivateKey, createPublicKey, sign as signNow, type KeyObject } from 'node:crypto';
import { ExternalSigningKey } from 'oidc-provider';

/** The experiment's version this code was written against (oidc-provider fails at start on another). */
export const EXTERNAL_SIGNING_ACK = 'experimental-01';

type Jwk = JsonWebKey & { kid?: string; alg?: string };

// JWS alg → [JWK crv, digest]; EdDSA signs the message itself (no digest).
const CURVES: Record<string, [string, string | null]> = {
  ES256: ['P-256', 'sha256'], ES384: ['P-384', 'sha384'], ES512: ['P-521', 'sha512'], EdDSA: ['Ed25519', null], Ed25519: ['Ed25519', null],
};
const ALG_OF_CRV: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

export class InlineSigningKey extends ExternalSigningKey {
  readonly #private: KeyObject;
  readonly #public: KeyObject;
  readonly #digest: string | null;

  constructor(jwk: Jwk, alg: string) {
    super();
    const curve = CURVES[alg];
    if (!curve || jwk.crv !== curve[0]) throw new TypeError(`key ${jwk.kid ?? '(no kid)'}: ${alg} does not sign with curve ${jwk.crv}`);
    this.#private = createPrivateKey({ key: jwk as never, format: 'jwk' });
    this.#public = createPublicKey(this.#private);
    this.#digest = curve[1];
    // The base class keeps kid and alg behind setters its type declarations leave out.
    Object.assign(this, { kid: jwk.kid, alg });
  }

  /** The public half: /jwks and verification of the provider's own tokens use it. */
  override keyObject(): KeyObject { return this.#public; }

  /** The JWS signature of `data` (the `header.payload` octets), made now. */
  override sign(data: Uint8Array): Buffer {
    return this.#digest
      ? signNow(this.#digest, data, { key: this.#private, dsaEncoding: 'ieee-p1363' })
      : signNow(null, data, this.#private);
  }
}

/**
 * The provider's `jwks.keys`: private EC and Ed25519 JWKs as InlineSigningKeys, anything else (RSA) as
 * given. A JWK whose alg does not fit its curve is refused here, with its kid.
 */
export function withInlineSigning<K extends Jwk>(keys: readonly K[]): Array<K | InlineSigningKey> {
  return keys.map((jwk) => {
    if ((jwk.kty !== 'EC' && jwk.kty !== 'OKP') || typeof jwk.d !== 'string') return jwk;
    return new InlineSigningKey(jwk, jwk.alg ?? ALG_OF_CRV[jwk.crv ?? ''] ?? `(none for curve ${jwk.crv})`);
  });
}
