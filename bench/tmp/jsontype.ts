import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { cpuSeconds, pin } from '../lib/cpu.ts';
const url = 'postgres://postgres@127.0.0.1:5432/test';
const c = new pg.Client({ connectionString: url }); await c.connect();
const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
await c.query('SET synchronous_commit = off');
pin(pid, 0);
for (const ty of ['jsonb', 'json']) {
  await c.query(`DROP TABLE IF EXISTS zz_${ty}`);
  await c.query(`CREATE TABLE zz_${ty} (model text, id text, payload ${ty} NOT NULL, uid text, expires_at timestamptz, consumed_at timestamptz, PRIMARY KEY (model, id))`);
}
const q = { kind: 'Interaction', jti: 'x'.repeat(21), iat: 1764990000, exp: 1764993600, returnTo: 'http://localhost:3000/oidc/auth/' + 'y'.repeat(43), prompt: { name: 'login', reasons: ['no_session'], details: {} }, lastSubmission: { login: { accountId: '6f1c0b7e-1b2a-4d3c-9e8f-0a1b2c3d4e5f', amr: ['pwd'], acr: 'urn:gatehouse:password', remember: true } }, params: { client_id: 'bench-web', redirect_uri: 'http://localhost:9999/cb', response_type: 'code', scope: 'openid email profile', state: 's'.repeat(22), nonce: 'n'.repeat(22), code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' }, cid: 'z'.repeat(21), trusted: [], session: { accountId: '6f1c0b7e-1b2a-4d3c-9e8f-0a1b2c3d4e5f', uid: 'b'.repeat(21), cookie: 'c'.repeat(21) }, result: { login: { accountId: '6f1c0b7e-1b2a-4d3c-9e8f-0a1b2c3d4e5f', amr: ['pwd'] } } };
console.log('payload bytes', JSON.stringify(q).length);
const ids: string[] = [];
const res: Record<string, number[]> = {};
for (let round = 0; round < 6; round++) for (const ty of ['jsonb', 'json']) for (const op of ['upsert', 'find']) {
  const N = 2000;
  const p0 = cpuSeconds(pid)!;
  for (let i = 0; i < N; i++) {
    if (op === 'upsert') { const id = randomBytes(16).toString('base64url'); if (ty === 'json') ids.push(id); await c.query({ name: `u_${ty}`, text: `INSERT INTO zz_${ty} (model, id, payload, uid, expires_at) VALUES ($1,$2,$3,$4, now() + interval '1 hour') ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload`, values: ['Interaction', id, JSON.stringify({ ...q, jti: id }), id] }); }
    else await c.query({ name: `f_${ty}`, text: `SELECT payload, floor(extract(epoch FROM consumed_at))::text AS consumed FROM zz_${ty} WHERE model = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > now())`, values: ['Interaction', ids[(i * 7919) % Math.max(1, ids.length)] ?? 'x'] });
  }
  (res[`${op} ${ty}`] ??= []).push((cpuSeconds(pid)! - p0) * 1e6 / N);
}
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(14), v.map((x) => x.toFixed(0)).join(' '), ' median', v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(0));
for (const ty of ['jsonb', 'json']) await c.query(`DROP TABLE zz_${ty}`);
await c.end();
