// Self-signed certificates for the bench (openssl): P-256 for the TLS listener (the cheaper handshake,
// as a production gateway would use), RSA-2048 for the bare samlify baseline.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles { keyFile: string; certFile: string }

export function makeCert(dir: string, kind: 'ec' | 'rsa'): CertFiles {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, `${kind}-key.pem`);
  const certFile = join(dir, `${kind}-cert.pem`);
  if (existsSync(keyFile) && existsSync(certFile)) return { keyFile, certFile };
  const newkey = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { keyFile, certFile };
}
