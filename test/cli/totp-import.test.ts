// `gatehouse user totp-import`: an existing seed is stored encrypted and verifies codes; bad seeds are refused.
import t from 'tap';
import { cliSetup, run } from './helpers.ts';
import { createSecretBox } from '../../src/platform/secret-box.ts';
import { createTotpStore } from '../../src/mfa/totp/totp-store.ts';
import { TEST_SECRET } from '../helpers/gateway.ts';

t.test('user totp-import', async (t) => {
  const setup = await cliSetup(t);
  const added = await run(setup.env, ['user', 'add', 'erin'], { stdin: 'a-long-enough-password\n' });
  t.equal(added.code, 0, added.stderr);
  const seed = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const ok = await run(setup.env, ['user', 'totp-import', 'erin'], { stdin: `${seed.toLowerCase()}\n` });
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /Imported an authenticator seed for erin/);
  t.notMatch(ok.stdout + ok.stderr, /JBSWY3DP/i, 'the seed is never printed');
  await setup.withDb(async (db) => {
    const userId = (await db.query<{ id: string }>(`SELECT id FROM users WHERE username = 'erin'`)).rows[0]!.id;
    const row = (await db.query<{ secret_enc: string }>('SELECT secret_enc FROM mfa_totp WHERE user_id = $1', [userId])).rows[0]!;
    t.notMatch(row.secret_enc, /JBSWY3DP/, 'encrypted at rest');
    const store = createTotpStore(db, createSecretBox(TEST_SECRET));
    t.same(await store.find(userId), { secret: seed, confirmed: true }, 'confirmed, usable at the next sign-in');
    const audit = await db.query<{ type: string }>(`SELECT type FROM audit_events WHERE user_id = $1 AND type = 'mfa.totp.import'`, [userId]);
    t.equal(audit.rowCount, 1, 'audited');
  });
  t.equal((await run(setup.env, ['user', 'totp-import', 'erin'], { stdin: 'not base32 !!\n' })).code, 2, 'not base32 → usage error');
  t.equal((await run(setup.env, ['user', 'totp-import', 'erin'], { stdin: 'JBSWY3DP\n' })).code, 2, 'too short → usage error');
  t.equal((await run(setup.env, ['user', 'totp-import', 'nobody'], { stdin: `${seed}\n` })).code, 1, 'unknown user');
});
