// The IdP signing key and certificate. Either supplied as files (saml.keyFile + saml.certFile), or
// generated on first use and stored like the OIDC keys: a `signing_keys` row with purpose 'saml', the
// private JWK encrypted under the master secret, and the PEM certificate in the `certificate` column
// (migrations/003_saml.sql). Rotation retires the current key; its certificate stays in the metadata for
// saml.keyRotationGraceSeconds so SPs that refresh metadata keep verifying during the change.
import { createPrivateKey, createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/schema.ts';
import type { Db } from '../../storage/db.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { Services } from '../../services.ts';
import { certToPem, normalizeCert } from './certs.ts';

export interface IdpKey { kid: string; keyPem: string; certB64: string }
/** What signs now, and every certificate the metadata publishes (the signing one first). */
export interface IdpKeySet { signing: IdpKey; published: string[] }

const PURPOSE = 'saml';
const LOCK_KEY = 7_414_243_103; // "gatehouse saml keys" (storage/signing-keys.ts uses …102)
const ENC_PURPOSE = 'signing-key'; // the same encryption purpose as storage/signing-keys.ts
type SamlConfig = Config['saml'];

interface Row { kid: string; private_enc: string; certificate: string; retired: boolean }

function fromFiles(c: SamlConfig, read: (f: string) => string): IdpKeySet {
  const keyPem = read(c.keyFile!);
  const certB64 = normalizeCert(read(c.certFile!));
  const cert = new X509Certificate(Buffer.from(certB64, 'base64'));
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new Error('GW_ERR_SAML_CONFIG: saml.keyFile must be an RSA key of at least 2048 bits');
  }
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (!pub.equals(cert.publicKey.export({ format: 'der', type: 'spki' }))) {
    throw new Error('GW_ERR_SAML_CONFIG: saml.certFile does not belong to saml.keyFile');
  }
  const extra = c.extraCertFiles.map((f) => normalizeCert(read(f)));
  return { signing: { kid: 'file', keyPem: key.export({ format: 'pem', type: 'pkcs8' }) as string, certB64 }, published: [certB64, ...extra.filter((e) => e !== certB64)] };
}

export function createIdpKeys(d: { db: Db; box: SecretBox; config: SamlConfig; issuer: string; read?: (file: string) => string }) {
  const read = d.read ?? ((f: string) => readFileSync(f, 'utf8'));
  if ((d.config.keyFile === undefined) !== (d.config.certFile === undefined)) {
    throw new Error('GW_ERR_SAML_CONFIG: set both saml.keyFile and saml.certFile, or neither');
  }
  const files = d.config.keyFile ? fromFiles(d.config, read) : undefined;
  let cache: { version: string; set: IdpKeySet } | undefined;

  /** A new key as the parameters of an INSERT (generation takes ~100 ms: done before any lock is held). */
  async function newKeyRow(): Promise<{ kid: string; params: unknown[] }> {
    // @peculiar/x509 (and its reflect-metadata, tsyringe, asn1 stack) only when a key is made, not per start.
    const { generateIdpCertificate } = await import('./idp-cert.ts');
    const { keyPem, certB64 } = await generateIdpCertificate(new URL(d.issuer).hostname);
    const kid = randomUUID();
    const jwk = { ...createPrivateKey(keyPem).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    const pub = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' };
    return { kid, params: [kid, PURPOSE, 'RS256', d.box.encrypt(ENC_PURPOSE, JSON.stringify(jwk)), JSON.stringify(pub), certToPem(certB64)] };
  }
  const INSERT = 'INSERT INTO signing_keys (kid, purpose, alg, private_enc, public_jwk, certificate) VALUES ($1,$2,$3,$4,$5,$6)';
  const CURRENT = 'SELECT 1 FROM signing_keys WHERE purpose = $1 AND retired_at IS NULL';

  const version = async () => (await d.db.query<{ v: string }>(`SELECT coalesce(string_agg(kid || ':' || (retired_at IS NULL)::text, ',' ORDER BY kid), '') AS v
    FROM signing_keys WHERE purpose = $1 AND (unpublish_at IS NULL OR unpublish_at > now())`, [PURPOSE])).rows[0]?.v ?? '';

  return {
    fromFiles: !!files,

    /** Creates the first key when there is none. Instances starting together serialise on an advisory lock. */
    async ensure(): Promise<void> {
      if (files || (await d.db.query(CURRENT, [PURPOSE])).rowCount > 0) return;
      const row = await newKeyRow();
      await d.db.transaction(async (q) => {
        await q.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        // The loser of a start-up race finds the winner's key and adds none.
        if ((await q.query(CURRENT, [PURPOSE])).rowCount > 0) return;
        await q.query(INSERT, row.params);
      });
    },

    /**
     * The current key set. Signing does not ask the database: the set read last is used until refresh()
     * (the SAML housekeeping timer, every database.sweepIntervalSeconds) or a `fresh` load (the metadata
     * endpoint) sees that the published set changed. A rotation elsewhere is therefore picked up within one
     * timer period; the previous key is still published then (keyRotationGraceSeconds), so SPs accept either.
     */
    async load(o: { fresh?: boolean } = {}): Promise<IdpKeySet> {
      if (files) return files;
      if (cache && !o.fresh) return cache.set;
      return this.refresh();
    },

    /** Re-reads the key set when its version (kids and which one signs) changed; returns the current set. */
    async refresh(): Promise<IdpKeySet> {
      if (files) return files;
      const v = await version();
      if (cache && cache.version === v) return cache.set;
      if (!v.includes(':true')) { await this.ensure(); return this.refresh(); }
      const rows = (await d.db.query<Row>(`SELECT kid, private_enc, certificate, retired_at IS NOT NULL AS retired FROM signing_keys
        WHERE purpose = $1 AND (unpublish_at IS NULL OR unpublish_at > now()) ORDER BY (retired_at IS NOT NULL), created_at DESC`, [PURPOSE])).rows;
      const current = rows.find((r) => !r.retired)!;
      const jwk = JSON.parse(d.box.decrypt(ENC_PURPOSE, current.private_enc)) as import('node:crypto').JsonWebKey;
      const keyPem = createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }) as string;
      const set: IdpKeySet = {
        signing: { kid: current.kid, keyPem, certB64: normalizeCert(current.certificate) },
        published: rows.map((r) => normalizeCert(r.certificate)),
      };
      cache = { version: v, set };
      return set;
    },

    /** Retires the current key (published for graceSeconds more) and makes a new one. Returns its kid. */
    async rotate(graceSeconds: number): Promise<string> {
      if (files) throw new Error('GW_ERR_SAML_KEYS_FROM_FILES: the SAML key is supplied as files (saml.keyFile); replace the files to rotate');
      const row = await newKeyRow();
      await d.db.transaction(async (q) => {
        await q.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        await q.query(`UPDATE signing_keys SET retired_at = now(), unpublish_at = now() + make_interval(secs => $2::int)
          WHERE purpose = $1 AND retired_at IS NULL`, [PURPOSE, graceSeconds]);
        await q.query(INSERT, row.params);
      });
      return row.kid;
    },
  };
}
export type IdpKeys = ReturnType<typeof createIdpKeys>;

/**
 * Rotates the SAML signing key (for the CLI: `gatehouse keys rotate --saml` or similar). The new
 * certificate signs at once; the previous one stays in /saml/metadata for saml.keyRotationGraceSeconds.
 */
export async function rotateSamlKey(s: Services, issuer: string, graceSeconds = s.config.saml.keyRotationGraceSeconds): Promise<{ kid: string; certificate: string }> {
  const keys = createIdpKeys({ db: s.db, box: s.box, config: s.config.saml, issuer });
  const kid = await keys.rotate(graceSeconds);
  const set = await keys.load();
  await s.audit.record({ type: 'keys.rotate', outcome: 'success', detail: { purpose: 'saml', kid } });
  return { kid, certificate: certToPem(set.signing.certB64) };
}
