// Signing keys shared by every instance: created on first start, private parts encrypted at rest.
// Rotation adds a new current key per algorithm and keeps the previous ones published (not used for
// signing) until the tokens they signed have expired.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import type { Db, Queryable } from './db.ts';
import type { SecretBox } from '../platform/secret-box.ts';

export const OIDC_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof OIDC_ALGS)[number];
export type PrivateJwk = JsonWebKey & { kid: string; alg: string; use: 'sig' };

interface Row { kid: string; alg: string; private_enc: string; retired: boolean }
const LOCK_KEY = 7_414_243_102;
const ENC_PURPOSE = 'signing-key';

function generate(alg: SigningAlg): PrivateJwk {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomUUID(), alg, use: 'sig' };
}

function publicPart(jwk: PrivateJwk): Record<string, unknown> {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  void d; void p; void q; void dp; void dq; void qi;
  return pub;
}

async function insertKey(q: Queryable, box: SecretBox, alg: SigningAlg, purpose: string) {
  const jwk = generate(alg);
  await q.query('INSERT INTO signing_keys (kid, purpose, alg, private_enc, public_jwk) VALUES ($1,$2,$3,$4,$5)',
    [jwk.kid, purpose, alg, box.encrypt(ENC_PURPOSE, JSON.stringify(jwk)), JSON.stringify(publicPart(jwk))]);
}

export function createSigningKeys(db: Db, box: SecretBox) {
  return {
    /** Creates a current key for every algorithm that lacks one (under a lock: instances may start together). */
    async ensure(purpose = 'oidc'): Promise<void> {
      await db.transaction(async (q) => {
        await q.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        const have = new Set((await q.query<{ alg: string }>(
          'SELECT alg FROM signing_keys WHERE purpose = $1 AND retired_at IS NULL', [purpose])).rows.map((r) => r.alg));
        for (const alg of OIDC_ALGS) if (!have.has(alg)) await insertKey(q, box, alg, purpose);
      });
    },

    /** Retires the current keys (still published for graceSeconds) and creates new current ones. */
    async rotate(graceSeconds: number, purpose = 'oidc'): Promise<string[]> {
      return db.transaction(async (q) => {
        await q.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        await q.query(`UPDATE signing_keys SET retired_at = now(), unpublish_at = now() + make_interval(secs => $2::int)
          WHERE purpose = $1 AND retired_at IS NULL`, [purpose, graceSeconds]);
        for (const alg of OIDC_ALGS) await insertKey(q, box, alg, purpose);
        return (await q.query<{ kid: string }>('SELECT kid FROM signing_keys WHERE purpose = $1 AND retired_at IS NULL', [purpose])).rows.map((r) => r.kid);
      });
    },

    /** Private JWKs for oidc-provider: current keys first (oidc-provider signs with the first of each alg). */
    async load(purpose = 'oidc'): Promise<PrivateJwk[]> {
      const r = await db.query<Row>(`SELECT kid, alg, private_enc, retired_at IS NOT NULL AS retired FROM signing_keys
        WHERE purpose = $1 AND (unpublish_at IS NULL OR unpublish_at > now())
        ORDER BY (retired_at IS NOT NULL), created_at DESC`, [purpose]);
      return r.rows.map((row) => JSON.parse(box.decrypt(ENC_PURPOSE, row.private_enc)) as PrivateJwk);
    },

    /** A cheap fingerprint of the published set, to notice rotations made by another instance. */
    async version(purpose = 'oidc'): Promise<string> {
      const r = await db.query<{ v: string }>(`SELECT coalesce(string_agg(kid || ':' || (retired_at IS NULL)::text, ',' ORDER BY kid), '') AS v
        FROM signing_keys WHERE purpose = $1 AND (unpublish_at IS NULL OR unpublish_at > now())`, [purpose]);
      return r.rows[0]?.v ?? '';
    },

    async sweep(): Promise<number> {
      return (await db.query('DELETE FROM signing_keys WHERE unpublish_at < now()')).rowCount;
    },
  };
}
export type SigningKeys = ReturnType<typeof createSigningKeys>;
