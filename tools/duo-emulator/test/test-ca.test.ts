// The in-process test PKI: a CA and a localhost server certificate.
import t from 'tap';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createTestCa } from '../test-ca.ts';

t.test('CA and server certificate', async (t) => {
  const { caPem, keyPem, certPem } = await createTestCa();
  const ca = new X509Certificate(caPem);
  const leaf = new X509Certificate(certPem);
  t.ok(ca.ca, 'CA has basicConstraints CA:TRUE');
  t.notOk(leaf.ca, 'leaf is not a CA');
  t.ok(leaf.checkIssued(ca));
  t.ok(leaf.verify(ca.publicKey), 'leaf signed by the CA');
  t.equal(leaf.checkHost('localhost'), 'localhost');
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(leaf.checkHost('example.com'), undefined);
  t.ok(leaf.checkPrivateKey(createPrivateKey(keyPem)), 'key matches the certificate');
  t.match(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']); // serverAuth
  t.ok(new Date(leaf.validFrom) < new Date() && new Date(leaf.validTo) > new Date());
});

t.test('every call makes a fresh CA', async (t) => {
  const [a, b] = await Promise.all([createTestCa(), createTestCa()]);
  t.not(a.caPem, b.caPem);
});
