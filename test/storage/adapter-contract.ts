// An executable contract for oidc-provider adapters, derived from panva/node-oidc-provider
// example/my_adapter.js and the `Adapter` type in @types/oidc-provider. Not a test file itself:
// adapter.test.ts runs it once per database kind, so PGlite and PostgreSQL are held to the same rules.
import { randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import type { AdapterPayload } from 'oidc-provider';
import type { Db } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createOidcAdapter } from '../../src/storage/oidc-adapter.ts';

/** Gives the contract its own database; `drop` runs at teardown. */
export type MakeDb = () => Promise<{ db: Db; drop(): Promise<void> }>;

const nowSec = () => Math.floor(Date.now() / 1000);
const newId = () => randomUUID().replace(/-/g, '');

/** A realistic token payload; `extra` overrides or adds fields. */
function tokenPayload(kind: string, grantId: string | undefined, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  const iat = nowSec();
  return {
    jti: newId(), kind, iat, exp: iat + 60, accountId: 'acct-1', clientId: 'web-app', ...(grantId ? { grantId } : {}),
    scope: 'openid profile', claims: { id_token: { email: null } }, amr: ['pwd', 'otp'], acr: 'urn:gatehouse:mfa',
    extra: { 'nested': { 'ünïcode': '✓', list: [1, 2, 3] } }, ...extra,
  };
}

/** Invokes fn and returns what it threw (fails the test when it did not throw). */
async function rejection(t: Test, fn: () => Promise<unknown>): Promise<{ error?: string; message?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as { error?: string };
  }
  t.fail('expected a rejection');
  return {};
}

/** Runs the whole adapter contract against one fresh database from makeDb. */
export async function adapterContract(t: Test, makeDb: MakeDb): Promise<void> {
  const { db, drop } = await makeDb();
  t.teardown(drop);
  await migrate(db); // a no-op on an already migrated template, required on an empty schema
  const Adapter = createOidcAdapter(db);
  const adapter = (model: string) => new Adapter(model);
  const expiresAt = async (model: string, id: string) =>
    (await db.query<{ secs: number | null }>(
      'SELECT extract(epoch FROM expires_at - now())::float8 AS secs FROM oidc_models WHERE model = $1 AND id = $2', [model, id])).rows[0]?.secs;
  const backdate = (model: string, id: string) =>
    db.query(`UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE model = $1 AND id = $2`, [model, id]);

  /** A grant with one row per grant-bound model; returns the ids so tests can look them up. */
  async function seedGrant(grantId = newId()) {
    const rows: Array<[string, string]> = [['Grant', grantId]];
    await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'acct-1', clientId: 'web-app', openid: { scope: 'openid' } }, 600);
    for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']) {
      const id = newId();
      await adapter(model).upsert(id, tokenPayload(model, grantId, { jti: id, ...(model === 'DeviceCode' ? { userCode: `UC-${id}` } : {}) }), 600);
      rows.push([model, id]);
    }
    return { grantId, rows };
  }
  const present = async (rows: Array<[string, string]>) =>
    Promise.all(rows.map(async ([model, id]) => (await adapter(model).find(id)) !== undefined));

  t.test('upsert → find round-trips the payload exactly, per model', async (t) => {
    const models = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'DeviceCode',
      'Grant', 'Session', 'Interaction', 'ReplayDetection', 'PushedAuthorizationRequest'];
    for (const model of models) {
      const id = newId();
      const payload = tokenPayload(model, model === 'Grant' ? undefined : newId(), { jti: id });
      await adapter(model).upsert(id, payload, 60);
      t.same(await adapter(model).find(id), payload, `${model} payload is returned unchanged`);
      t.notOk('consumed' in (await adapter(model).find(id) ?? {}), `${model}: no "consumed" before consume`);
    }
    t.equal(await adapter('AccessToken').find(newId()), undefined, 'unknown id → undefined');
  });

  t.test('models are separate namespaces: the same id in two models is two records', async (t) => {
    const id = newId();
    await adapter('AccessToken').upsert(id, tokenPayload('AccessToken', undefined, { jti: id, scope: 'a' }), 60);
    await adapter('RefreshToken').upsert(id, tokenPayload('RefreshToken', undefined, { jti: id, scope: 'b' }), 60);
    t.equal((await adapter('AccessToken').find(id))?.scope, 'a');
    t.equal((await adapter('RefreshToken').find(id))?.scope, 'b');
    t.equal(await adapter('AuthorizationCode').find(id), undefined, 'absent in a third model');
    await adapter('AccessToken').destroy(id);
    t.equal(await adapter('AccessToken').find(id), undefined, 'destroyed in its model');
    t.equal((await adapter('RefreshToken').find(id))?.scope, 'b', 'untouched in the other model');
  });

  t.test('upsert overwrites the whole payload and the expiry', async (t) => {
    const id = newId();
    const a = adapter('Session');
    await a.upsert(id, { jti: id, kind: 'Session', uid: 'uid-old', accountId: 'acct-1', loginTs: 1 }, 60);
    await a.upsert(id, { jti: id, kind: 'Session', uid: 'uid-new', loginTs: 2 }, 3600);
    t.same(await a.find(id), { jti: id, kind: 'Session', uid: 'uid-new', loginTs: 2 }, 'fields absent from the new payload are gone');
    t.equal(await a.findByUid('uid-old'), undefined, 'the old uid no longer finds it');
    t.equal((await a.findByUid('uid-new'))?.jti, id, 'the new uid does');
    const secs = await expiresAt('Session', id);
    t.ok(secs! > 3590 && secs! <= 3601, `expiry replaced by the new expiresIn (${secs} s left)`);
  });

  t.test('expiresIn is in seconds and expired records are invisible to every finder', async (t) => {
    const id = newId();
    const uid = `uid-${id}`;
    const userCode = `UC-${id}`;
    await adapter('Session').upsert(id, { jti: id, kind: 'Session', uid }, 60);
    await adapter('DeviceCode').upsert(id, tokenPayload('DeviceCode', undefined, { jti: id, userCode }), 60);
    await adapter('AccessToken').upsert(id, tokenPayload('AccessToken', undefined, { jti: id }), 60);
    const secs = await expiresAt('AccessToken', id);
    t.ok(secs! > 58 && secs! <= 61, `expires 60 s from now, not 60 ms nor 60 min (${secs} s left)`);
    t.ok(await adapter('AccessToken').find(id), 'live before expiry');
    t.ok(await adapter('Session').findByUid(uid), 'findByUid live before expiry');
    t.ok(await adapter('DeviceCode').findByUserCode(userCode), 'findByUserCode live before expiry');
    for (const model of ['Session', 'DeviceCode', 'AccessToken']) await backdate(model, id);
    t.equal(await adapter('AccessToken').find(id), undefined, 'find: expired → undefined');
    t.equal(await adapter('Session').find(id), undefined, 'find (Session): expired → undefined');
    t.equal(await adapter('Session').findByUid(uid), undefined, 'findByUid: expired → undefined');
    t.equal(await adapter('DeviceCode').findByUserCode(userCode), undefined, 'findByUserCode: expired → undefined');
  });

  t.test('undefined expiresIn stores without expiry; 0 or less is already expired', async (t) => {
    const forever = newId();
    await adapter('Grant').upsert(forever, { jti: forever, kind: 'Grant', accountId: 'acct-1' });
    t.ok(await adapter('Grant').find(forever), 'no expiresIn → found');
    const row = await db.query<{ expires_at: unknown }>('SELECT expires_at FROM oidc_models WHERE model = $1 AND id = $2', ['Grant', forever]);
    t.equal(row.rows[0]?.expires_at, null, 'no expiresIn → expires_at IS NULL');
    // oidc-provider re-saves sessions and interactions with `exp - now`, which reaches 0 at the boundary.
    for (const ttl of [0, -5]) {
      const id = newId();
      await adapter('Interaction').upsert(id, { jti: id, kind: 'Interaction', uid: `uid-${id}` }, ttl);
      t.equal(await adapter('Interaction').find(id), undefined, `expiresIn ${ttl} → not found (not "forever")`);
    }
  });

  t.test('consume marks the record: find returns `consumed` as epoch seconds, payload intact', async (t) => {
    const { grantId } = await seedGrant();
    const id = newId();
    const payload = tokenPayload('AuthorizationCode', grantId, { jti: id });
    await adapter('AuthorizationCode').upsert(id, payload, 60);
    const before = nowSec();
    await adapter('AuthorizationCode').consume(id);
    const found = await adapter('AuthorizationCode').find(id);
    t.type(found?.consumed, 'number', 'consumed is a number');
    t.ok(found!.consumed >= before - 1 && found!.consumed <= nowSec() + 1, `consumed ≈ now (${found?.consumed} vs ${before})`);
    t.same({ ...found, consumed: undefined }, { ...payload, consumed: undefined }, 'rest of the payload unchanged');
    t.ok(await adapter('Grant').find(grantId), 'a first consume does not revoke anything');
    // A re-save of a consumed value must not make it usable again.
    await adapter('AuthorizationCode').upsert(id, payload, 60);
    t.type((await adapter('AuthorizationCode').find(id))?.consumed, 'number', 'upsert does not clear consumed');
  });

  t.test('findByUid finds a Session by its uid, and only a Session', async (t) => {
    const id = newId();
    const uid = `uid-${id}`;
    const interactionId = newId();
    await adapter('Interaction').upsert(interactionId, { jti: interactionId, kind: 'Interaction', uid }, 60);
    t.equal(await adapter('Session').findByUid(uid), undefined, 'an Interaction with that uid is not a Session');
    const payload = { jti: id, kind: 'Session', uid, accountId: 'acct-1', loginTs: nowSec(), authorizations: { 'web-app': { sid: 's1', grantId: 'g1' } } };
    await adapter('Session').upsert(id, payload, 60);
    t.same(await adapter('Session').findByUid(uid), payload);
    t.equal(await adapter('Session').findByUid('uid-unknown'), undefined, 'unknown uid → undefined');
  });

  t.test('findByUserCode finds a DeviceCode by its user code', async (t) => {
    const id = newId();
    const payload = tokenPayload('DeviceCode', newId(), { jti: id, userCode: `WDJB-${id.slice(0, 4)}`, params: { scope: 'openid' } });
    await adapter('DeviceCode').upsert(id, payload, 60);
    t.same(await adapter('DeviceCode').findByUserCode(payload.userCode as string), payload);
    t.equal(await adapter('DeviceCode').findByUserCode('NOPE-NOPE'), undefined, 'unknown user code → undefined');
    await adapter('DeviceCode').consume(id);
    t.type((await adapter('DeviceCode').findByUserCode(payload.userCode as string))?.consumed, 'number', 'consumed shows through findByUserCode too');
  });

  t.test('destroy removes one record and nothing else', async (t) => {
    const { rows } = await seedGrant();
    const [model, id] = rows[1]!;
    await adapter(model).destroy(id);
    t.equal(await adapter(model).find(id), undefined, `${model} destroyed`);
    t.same(await present(rows), [true, false, true, true, true, true], 'the rest of the grant is untouched');
    await adapter(model).destroy(id); // destroying twice is not an error
    await adapter('Session').destroy(newId());
    t.pass('destroying an unknown id resolves');
  });

  t.test('revokeByGrantId removes that model\'s records of the grant and nothing else', async (t) => {
    const g1 = await seedGrant();
    const g2 = await seedGrant();
    const sessionId = newId();
    await adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: `uid-${sessionId}`, authorizations: { 'web-app': { grantId: g1.grantId } } }, 60);
    // An interaction carries the grant id too; oidc-provider still needs it after a revocation.
    const interactionId = newId();
    await adapter('Interaction').upsert(interactionId, { jti: interactionId, kind: 'Interaction', grantId: g1.grantId } as never, 60);
    // oidc-provider revokes model by model (lib/helpers/revoke.js): do the same.
    for (const [model] of g1.rows) if (model !== 'Grant') await adapter(model).revokeByGrantId(g1.grantId);
    t.same(await present(g1.rows), g1.rows.map(([m]) => m === 'Grant'), 'every token model of the grant is gone; the Grant row is destroyed separately');
    t.same(await present(g2.rows), g2.rows.map(() => true), 'the other grant is untouched');
    t.ok(await adapter('Session').find(sessionId), 'the session is not a grant record');
    t.ok(await adapter('Interaction').find(interactionId), 'an interaction sharing the grant id survives');
    t.equal(await adapter('DeviceCode').findByUserCode(`UC-${g1.rows[4]![1]}`), undefined, 'secondary lookups are gone as well');
    const g3 = await seedGrant();
    await adapter('AccessToken').revokeByGrantId(g3.grantId);
    t.same(await present(g3.rows), g3.rows.map(([m]) => m !== 'AccessToken'), 'one call revokes only its own model');
  });

  t.test('ids PostgreSQL cannot store (NUL, oversized) are unknown, never an error', async (t) => {
    for (const id of ['a\u0000b', 'x'.repeat(5000)]) {
      t.equal(await adapter('AccessToken').find(id), undefined);
      t.equal(await adapter('Session').findByUid(id), undefined);
      t.equal(await adapter('DeviceCode').findByUserCode(id), undefined);
      await adapter('AccessToken').destroy(id);
      await adapter('AccessToken').revokeByGrantId(id);
      t.equal((await rejection(t, () => adapter('AuthorizationCode').consume(id))).error, 'invalid_grant');
    }
  });

  t.test('consuming an already consumed record throws invalid_grant and revokes its grant', async (t) => {
    const g = await seedGrant();
    const g2 = await seedGrant();
    const [, codeId] = g.rows.find(([m]) => m === 'AuthorizationCode')!;
    await adapter('AuthorizationCode').consume(codeId);
    const err = await rejection(t, () => adapter('AuthorizationCode').consume(codeId));
    t.equal(err.error, 'invalid_grant', 'the error is invalid_grant');
    t.same(await present(g.rows), g.rows.map(() => false), 'reuse revoked the whole grant');
    t.same(await present(g2.rows), g2.rows.map(() => true), 'other grants survive');
    // A one-time value outside any grant (a pushed authorization request) is still one-time.
    const par = newId();
    await adapter('PushedAuthorizationRequest').upsert(par, { jti: par, kind: 'PushedAuthorizationRequest', request: 'eyJ...' }, 60);
    await adapter('PushedAuthorizationRequest').consume(par);
    t.equal((await rejection(t, () => adapter('PushedAuthorizationRequest').consume(par))).error, 'invalid_grant', 'grant-less reuse → invalid_grant');
  });

  t.test('20 parallel consumes of one id: exactly one wins, the rest get invalid_grant', async (t) => {
    for (let round = 0; round < 3; round++) {
      const g = await seedGrant();
      const [, rtId] = g.rows.find(([m]) => m === 'RefreshToken')!;
      const rt = adapter('RefreshToken');
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => rt.consume(rtId)));
      const won = results.filter((r) => r.status === 'fulfilled').length;
      const errors = results.flatMap((r) => r.status === 'rejected' ? [(r.reason as { error?: string }).error] : []);
      t.equal(won, 1, `round ${round}: exactly one consume resolved`);
      t.same(errors, Array(19).fill('invalid_grant'), `round ${round}: the other 19 rejected with invalid_grant`);
      t.equal(await adapter('Grant').find(g.grantId), undefined, `round ${round}: the losers revoked the grant`);
    }
  });
}
