import t from 'tap';
import { createSecretBox } from '../../src/platform/secret-box.ts';
import { createSigningKeys } from '../../src/storage/signing-keys.ts';
import { TEST_SECRET } from '../helpers/gateway.ts';
import { cliSetup, run } from './helpers.ts';

const { env, withDb } = await cliSetup(t, { env: { GATEHOUSE_OIDC__KEY_ROTATION_GRACE_SECONDS: '3600' } });
const KID = '[0-9a-f-]{36}';
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';

t.test('keys list before any key exists says how keys come to be', async (t) => {
  t.same(await run(env, ['keys', 'list']), {
    code: 0, stdout: '',
    stderr: 'No signing keys yet: the gateway creates them when it first starts (or run `npx gatehouse keys rotate`).\n',
  });
});

t.test('keys rotate twice, then keys list: new keys current, retired ones still published for the grace period', async (t) => {
  const first = await run(env, ['keys', 'rotate']);
  t.equal(first.code, 0);
  t.match(first.stdout, new RegExp(`^New current keys:\n  ${KID}  ES256\n  ${KID}  RS256\nNo previous keys: these are the first OIDC signing keys.\n$`));
  const firstKids = [...first.stdout.matchAll(new RegExp(KID, 'g'))].map((m) => m[0]);

  const second = await run(env, ['keys', 'rotate']);
  t.equal(second.code, 0);
  const unpublish = await withDb(async (db) => (await db.query<{ kid: string; until: string }>(
    `SELECT kid, to_char(unpublish_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS until FROM signing_keys
     WHERE retired_at IS NOT NULL AND unpublish_at BETWEEN now() + interval '3500 seconds' AND now() + interval '3600 seconds'`)).rows);
  t.same(unpublish.map((r) => r.kid).sort(), [...firstKids].sort(), 'the first keys retired, unpublished in an hour');
  const until = unpublish[0]!.until;
  const [es, rs] = firstKids;
  t.match(second.stdout, new RegExp(`^New current keys:\n  (${KID})  ES256\n  (${KID})  RS256\n` +
    `Retired keys stay published \\(oidc.keyRotationGraceSeconds = 3600\\):\n  ${es}  ES256  until ${until}\n  ${rs}  RS256  until ${until}\n$`));
  const newKids = [...second.stdout.matchAll(new RegExp(KID, 'g'))].map((m) => m[0]).slice(0, 2);

  const list = await run(env, ['keys', 'list']);
  t.equal(list.code, 0);
  t.match(list.stdout, new RegExp([
    'KID {35}PURPOSE  ALG    CREATED               STATUS',
    `${newKids[0]}  oidc     ES256  ${ISO}  current`,
    `${newKids[1]}  oidc     RS256  ${ISO}  current`,
    `${es}  oidc     ES256  ${ISO}  retired, published until ${until}`,
    `${rs}  oidc     RS256  ${ISO}  retired, published until ${until}`,
  ].join('\n') + '\n$'));

  const { published, audits } = await withDb(async (db) => ({
    published: (await createSigningKeys(db, createSecretBox(TEST_SECRET)).load()).map((k) => k.kid),
    audits: (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'keys.rotate'`)).rows[0]!.n,
  }));
  t.same([...published].sort(), [...newKids, ...firstKids].sort(), 'the JWKS still holds the retired keys');
  t.same(published.slice(0, 2).sort(), [...newKids].sort(), 'current keys come first: they sign');
  t.equal(audits, 2, 'each rotation audited');
});
