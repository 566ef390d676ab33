// Certificates as SAML carries them: base64 DER without PEM armour or line breaks (what <X509Certificate>
// holds), converted to PEM where node:crypto wants one.
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';

/** Base64 DER of a PEM or base64 certificate; throws when it is not an X.509 certificate. */
export function normalizeCert(input: string): string {
  const b64 = input.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('not a PEM or base64 certificate');
  new X509Certificate(Buffer.from(b64, 'base64')); // throws when it does not parse
  return b64;
}

export const certToPem = (b64: string) => `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

export const certPublicKey = (b64: string): KeyObject => createPublicKey(certToPem(b64));

export const certKeyType = (b64: string) => new X509Certificate(Buffer.from(b64, 'base64')).publicKey.asymmetricKeyType;
