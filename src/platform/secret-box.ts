// Everything derived from the master secret (GATEHOUSE_SECRET): encryption at rest, cookie keys, CSRF MACs.
// Each purpose gets its own HKDF-derived key, so one use can never be replayed as another.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SecretBox {
  /** AES-256-GCM; the output is "v1.<iv>.<tag>.<ciphertext>" in base64url. */
  encrypt(purpose: string, plaintext: string): string;
  decrypt(purpose: string, boxed: string): string;
  /** HMAC-SHA256 of a message under a purpose-specific key, base64url. */
  mac(purpose: string, message: string): string;
  verifyMac(purpose: string, message: string, mac: string): boolean;
  /** Derived key material for libraries that want raw keys (cookie signing). */
  derive(purpose: string, bytes?: number): Buffer;
}

export function createSecretBox(secret: string): SecretBox {
  const master = Buffer.from(secret, 'utf8');
  const cache = new Map<string, Buffer>();
  const derive = (purpose: string, bytes = 32): Buffer => {
    const id = `${purpose}:${bytes}`;
    let k = cache.get(id);
    if (!k) { k = Buffer.from(hkdfSync('sha256', master, 'gatehouse', purpose, bytes)); cache.set(id, k); }
    return k;
  };
  const mac = (purpose: string, message: string) =>
    createHmac('sha256', derive(`mac:${purpose}`)).update(message).digest('base64url');
  return {
    derive,
    encrypt(purpose, plaintext) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', derive(`enc:${purpose}`), iv);
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decrypt(purpose, boxed) {
      const [v, iv, tag, ct] = boxed.split('.');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('GW_ERR_SECRET_FORMAT: unknown encrypted value format');
      const d = createDecipheriv('aes-256-gcm', derive(`enc:${purpose}`), Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
      } catch {
        throw new Error('GW_ERR_SECRET_MISMATCH: cannot decrypt stored data; is GATEHOUSE_SECRET the same on every instance and since the database was created?');
      }
    },
    mac,
    verifyMac(purpose, message, given) {
      const want = Buffer.from(mac(purpose, message));
      const got = Buffer.from(given);
      return want.length === got.length && timingSafeEqual(want, got);
    },
  };
}
