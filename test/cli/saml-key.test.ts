// `gatehouse saml rotate-key`: a new current SAML key each time; the previous certificate stays published.
import t from 'tap';
import { cliSetup, run } from './helpers.ts';

t.test('saml rotate-key', async (t) => {
  const setup = await cliSetup(t);
  const first = await run(setup.env, ['saml', 'rotate-key']);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /New SAML signing key: \S+/);
  t.match(first.stdout, /-----BEGIN CERTIFICATE-----/);
  const second = await run(setup.env, ['saml', 'rotate-key']);
  t.equal(second.code, 0, second.stderr);
  const kid = (s: string) => /New SAML signing key: (\S+)/.exec(s)![1];
  t.not(kid(first.stdout), kid(second.stdout), 'a new key each time');
  const rows = await setup.withDb((db) => db.query<{ current: boolean; published: boolean }>(
    `SELECT retired_at IS NULL AS current, (unpublish_at IS NULL OR unpublish_at > now()) AS published FROM signing_keys WHERE purpose = 'saml'`));
  t.equal(rows.rows.filter((r) => r.current).length, 1, 'one current SAML key');
  t.ok(rows.rows.filter((r) => !r.current && r.published).length >= 1, 'the previous one is still published');
});
