// Signing keys: created once and shared through the database, private parts encrypted at rest, and
// rotated without breaking tokens already issued (the previous keys stay published for the grace period).
import t from 'tap';
import type { Test } from 'tap';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startGateway, confidentialClient, TEST_SECRET, type Gateway } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetTokens } from '../helpers/oidc.ts';
import { freshDb, PG_URL, pgAvailable, defaultKind } from '../helpers/db.ts';
import { createDb, type Db } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createSecretBox } from '../../src/platform/secret-box.ts';
import { createSigningKeys } from '../../src/storage/signing-keys.ts';

/** A second client whose ID tokens are RS256, so both algorithms are exercised. */
const rsClient = { ...confidentialClient, clientId: 'rs-app', clientSecret: 'rs-app-secret-0123456789abcdef0', idTokenSigningAlg: 'RS256' };
const clientsOverride = { oidc: { clients: [confidentialClient, rsClient] } };
const pg = await pgAvailable();
if (!pg && PG_URL) t.fail(`TEST_DATABASE_URL is set but PostgreSQL at ${PG_URL} is not reachable`);

type Jwk = { kid: string; alg: string; kty: string; d?: string };
async function jwks(gw: Gateway): Promise<Jwk[]> {
  const res = await fetch(new URL('/oidc/jwks', gw.url));
  if (res.status !== 200) throw new Error(`jwks answered ${res.status}`);
  return ((await res.json()) as { keys: Jwk[] }).keys;
}
const kidsOf = (keys: Jwk[]) => keys.map((k) => k.kid).sort();
const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid as string;
const algOf = (jwt: string) => decodeProtectedHeader(jwt).alg as string;

async function keyRows(db: Db) {
  return (await db.query<{ kid: string; alg: string; private_enc: string; current: boolean }>(
    `SELECT kid, alg, private_enc, retired_at IS NULL AS current FROM signing_keys WHERE purpose = 'oidc' ORDER BY kid`)).rows;
}
async function currentKids(db: Db): Promise<Record<string, string>> {
  return Object.fromEntries((await keyRows(db)).filter((r) => r.current).map((r) => [r.alg, r.kid]));
}

/** A JWT access token from the client credentials grant (the API resource is JWT, ES256). */
async function clientCredentialsJwt(gw: Gateway): Promise<string> {
  const res = await fetch(new URL('/oidc/token', gw.url), {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }),
    headers: { authorization: 'Basic ' + Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
  });
  const body = await res.json() as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`client_credentials answered ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** ID tokens for both algorithms and a JWT access token, freshly issued by gw. */
async function issueTokens(gw: Gateway) {
  const es = (await loginAndGetTokens(gw, await discover(gw), 'alice', 'correct horse battery')).tokens.id_token!;
  const rs = (await loginAndGetTokens(gw, await discover(gw, rsClient), 'alice', 'correct horse battery')).tokens.id_token!;
  return { idTokenES256: es, idTokenRS256: rs, accessTokenJwt: await clientCredentialsJwt(gw) };
}

/** Verifies every token against the gateway's published JWKS (a fresh fetch, no cache). */
async function verifyAll(t: Test, gw: Gateway, tokens: Record<string, string>, issuer: string, label: string) {
  const keySet = createRemoteJWKSet(new URL('/oidc/jwks', gw.url));
  for (const [name, jwt] of Object.entries(tokens)) {
    const { payload } = await jwtVerify(jwt, keySet, { issuer });
    t.equal(payload.iss, issuer, `${label}: ${name} (kid ${kidOf(jwt).slice(0, 8)}…) verifies`);
  }
}

/** Waits for the sweeper tick (1 s in these tests) to reload the provider with the given kids published. */
async function waitForKids(gw: Gateway, kids: string[], ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const have = kidsOf(await jwks(gw));
    if (kids.every((k) => have.includes(k))) return have;
    if (Date.now() > until) throw new Error(`JWKS still ${have.join(',')} after ${ms} ms; wanted ${kids.join(',')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('keys: created on first start, encrypted at rest, rotated without breaking issued tokens', async (t) => {
  const gw = await startGateway(t, { overrides: { ...clientsOverride, database: { sweepIntervalSeconds: 1 } } });
  await addUser(gw);
  const db = gw.services.db;

  const rows = await keyRows(db);
  t.same(rows.map((r) => [r.alg, r.current]).sort(), [['ES256', true], ['RS256', true]], 'one current key per algorithm after the first start');
  const published = await jwks(gw);
  t.same(kidsOf(published), rows.map((r) => r.kid).sort(), 'the JWKS publishes exactly the stored keys');
  t.same(published.map((k) => k.alg).sort(), ['ES256', 'RS256'], 'ES256 and RS256 are both published');
  t.equal(published.filter((k) => 'd' in k).length, 0, 'the JWKS carries no private parts');

  const loaded = await gw.services.keys.load();
  t.equal(loaded.length, 2, 'two private keys load');
  for (const key of loaded) {
    const row = rows.find((r) => r.kid === key.kid)!;
    t.type(key.d, 'string', `${key.alg}: the loaded key is private`);
    t.notMatch(row.private_enc, /"d"\s*:/, `${key.alg}: private_enc has no visible "d":`);
    t.notOk(row.private_enc.includes(key.d!), `${key.alg}: the private exponent does not appear in private_enc`);
    t.match(row.private_enc, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/, `${key.alg}: private_enc is a sealed box`);
  }

  const before = await issueTokens(gw);
  const oldKids = await currentKids(db);
  t.same([algOf(before.idTokenES256), kidOf(before.idTokenES256)], ['ES256', oldKids.ES256], 'ES256 ID token signed with the current ES256 key');
  t.same([algOf(before.idTokenRS256), kidOf(before.idTokenRS256)], ['RS256', oldKids.RS256], 'RS256 ID token signed with the current RS256 key');
  t.same([algOf(before.accessTokenJwt), kidOf(before.accessTokenJwt)], ['ES256', oldKids.ES256], 'JWT access token signed with the current ES256 key');
  await verifyAll(t, gw, before, gw.url, 'before rotation');

  const rotated = await gw.services.keys.rotate(3600);
  const newKids = await currentKids(db);
  t.same(rotated.sort(), Object.values(newKids).sort(), 'rotate returns the new current kids');
  t.equal(Object.keys(newKids).length, 2, 'still one current key per algorithm');
  t.notOk(Object.values(newKids).some((k) => Object.values(oldKids).includes(k)), 'the current keys are new ones');

  // The sweeper notices the new key set (as if another instance had rotated) and reloads the provider.
  const after = await waitForKids(gw, rotated);
  t.same(after, [...Object.values(oldKids), ...Object.values(newKids)].sort(), 'old and new keys are both published');
  await verifyAll(t, gw, before, gw.url, 'after rotation and reload');

  const fresh = await issueTokens(gw);
  t.equal(kidOf(fresh.idTokenES256), newKids.ES256, 'new ES256 ID tokens use the new ES256 key');
  t.equal(kidOf(fresh.idTokenRS256), newKids.RS256, 'new RS256 ID tokens use the new RS256 key');
  t.equal(kidOf(fresh.accessTokenJwt), newKids.ES256, 'new JWT access tokens use the new ES256 key');
  await verifyAll(t, gw, fresh, gw.url, 'new tokens');
});

t.test('a second instance on the same database shares the keys and follows a rotation', { skip: !pg && 'PostgreSQL not reachable' }, async (t) => {
  const gw1 = await startGateway(t, { db: 'pg', overrides: { ...clientsOverride, database: { sweepIntervalSeconds: 1 } } });
  await addUser(gw1);
  const url = gw1.config.database.url!;
  const gw2 = await startGateway(t, { databaseUrl: url, overrides: { ...clientsOverride, database: { sweepIntervalSeconds: 1 } } });
  t.same(kidsOf(await jwks(gw2)), kidsOf(await jwks(gw1)), 'the second instance publishes the same kids');
  t.equal((await keyRows(gw1.services.db)).length, 2, 'and created no keys of its own');

  const before = await issueTokens(gw1);
  await gw2.services.keys.rotate(3600); // rotated by the *other* instance
  const newKids = await currentKids(gw1.services.db);
  await waitForKids(gw1, Object.values(newKids));
  await verifyAll(t, gw1, before, gw1.url, 'instance 1 after instance 2 rotated');
  t.equal(kidOf(await clientCredentialsJwt(gw1)), newKids.ES256, 'instance 1 signs with the key instance 2 created');

  // A restart on the same database: nothing in memory survives, the keys do.
  await gw2.close();
  const gw3 = await startGateway(t, { databaseUrl: url, overrides: clientsOverride });
  await verifyAll(t, gw3, before, gw1.url, 'a restarted instance');
  t.equal(kidOf(await clientCredentialsJwt(gw3)), newKids.ES256, 'the restarted instance signs with the current key');
});
if (!pg) t.comment('PostgreSQL not reachable: the shared-database instance test is skipped (PGlite is single-process)');

t.test('two ensure() calls at once on a fresh database create exactly one key per algorithm', async (t) => {
  const fresh = await freshDb(defaultKind);
  t.teardown(fresh.drop);
  await migrate(fresh.db);
  // On PostgreSQL a second pool stands for a second instance; PGlite has one connection per process.
  const other = fresh.url ? await createDb({ url: fresh.url, dataDir: '/nonexistent' }) : fresh.db;
  if (other !== fresh.db) t.teardown(() => other.close());
  const box = createSecretBox(TEST_SECRET);
  await Promise.all([fresh.db.ping(), other.ping()]);
  for (let round = 0; round < 3; round++) {
    await fresh.db.query('DELETE FROM signing_keys'); // a key-less database again
    await Promise.all([createSigningKeys(fresh.db, box).ensure(), createSigningKeys(other, box).ensure()]);
    const rows = await keyRows(fresh.db);
    t.same(rows.map((r) => r.alg).sort(), ['ES256', 'RS256'], `round ${round} (${fresh.db.kind}): exactly one key per algorithm`);
  }
});
