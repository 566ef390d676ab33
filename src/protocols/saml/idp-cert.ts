// The IdP's self-signed signing certificate (RSA 2048, SHA-256), made when no key is supplied as files.
// SPs pin this certificate from the metadata; its validity dates are informational in SAML, so it is
// long-lived and replaced by rotation (rotateSamlKey), not by expiry.
import 'reflect-metadata'; // must run before @peculiar/x509 (tsyringe needs Reflect metadata)
import * as x509 from '@peculiar/x509';
import { createPrivateKey } from 'node:crypto';

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const YEAR_MS = 365 * 86400 * 1000;

function serial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  return Buffer.from(b).toString('hex');
}

/** A new RSA key (PKCS#8 PEM) and a self-signed certificate (base64 DER) naming the IdP host. */
export async function generateIdpCertificate(commonName: string): Promise<{ keyPem: string; certB64: string }> {
  x509.cryptoProvider.set(globalThis.crypto);
  const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cn = commonName.replace(/[,=+<>#;"\\]/g, '').slice(0, 64) || 'gatehouse';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${cn}, O=Gatehouse SAML IdP`,
    notBefore: new Date(Date.now() - 86400 * 1000),
    notAfter: new Date(Date.now() + 20 * YEAR_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }) as string;
  return { keyPem, certB64: Buffer.from(cert.rawData).toString('base64') };
}
