// In-process test PKI for the Duo emulator: one throw-away CA and one server
// certificate for `localhost` / `127.0.0.1` / `::1`.
//
// Why in-process: tests and the CLI must not depend on an openssl binary, and
// a fresh CA per emulator means nothing long-lived is ever trusted.
// Why ECDSA P-256: key generation takes milliseconds (RSA-2048 takes ~100 ms+),
// and Node's TLS stack and browsers accept it.
import './reflect-shim.ts'; // must run before @peculiar/x509 (tsyringe needs Reflect metadata)
import * as x509 from '@peculiar/x509';

export interface TestCa {
  /** CA certificate (PEM): the only thing a client has to trust. */
  caPem: string;
  /** Server private key (PKCS#8 PEM). The CA key is discarded after signing. */
  keyPem: string;
  /** Server certificate (PEM), SANs: DNS localhost, IP 127.0.0.1, IP ::1. */
  certPem: string;
}

const ALG: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // keep the DER INTEGER positive
  bytes[0] = bytes[0]! | 0x01; // and without a leading zero byte
  return Buffer.from(bytes).toString('hex');
}

export async function createTestCa(): Promise<TestCa> {
  x509.cryptoProvider.set(globalThis.crypto);
  // Backdate a little so a client whose clock is slightly behind still accepts
  // the certificate (the emulator's clock offset never affects TLS).
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + 30 * DAY_MS);

  const caKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=Duo Emulator Test CA, O=Gatehouse tests',
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const pkcs8 = await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey);
  return {
    caPem: ca.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    certPem: server.toString('pem'),
  };
}
