// `gatehouse duo check` against the emulator: OK, wrong secret, unreachable, skewed clock, not configured.
import t from 'tap';
import { startDuo } from '../helpers/duo.ts';
import { cliSetup, run } from './helpers.ts';

t.test('duo check', async (t) => {
  const duo = await startDuo(t);
  const e = duo.emulator;
  const setup = await cliSetup(t);
  const env = { ...setup.env, DUO_CLIENT_ID: e.clientId, DUO_CLIENT_SECRET: e.clientSecret, DUO_API_HOST: e.apiHost, GATEHOUSE_MFA__DUO__CA_FILE: duo.caFile, GATEHOUSE_MFA__DUO__TIMEOUT_MS: '1500' };

  const ok = await run(env, ['duo', 'check']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /Duo health check OK/);
  t.notMatch(ok.stdout + ok.stderr, e.clientSecret, 'the secret is never printed');

  const wrong = await run({ ...env, DUO_CLIENT_SECRET: 'w'.repeat(40) }, ['duo', 'check']);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /credentials: Duo refused the client assertion/);
  t.notMatch(wrong.stderr, 'w'.repeat(40));

  e.setClockOffset(-400);
  const skew = await run(env, ['duo', 'check']);
  t.equal(skew.code, 1, 'a skewed clock is reported');
  e.setClockOffset(0);

  e.setFault('down');
  const down = await run(env, ['duo', 'check']);
  t.equal(down.code, 1);
  t.match(down.stderr, /network: cannot reach the Duo API host/);
  e.setFault(null);

  const noTls = await run({ ...env, GATEHOUSE_MFA__DUO__CA_FILE: '' }, ['duo', 'check']);
  t.equal(noTls.code, 1);
  t.match(noTls.stderr, /tls: the Duo API certificate is not trusted/);

  const none = await run(setup.env, ['duo', 'check']);
  t.equal(none.code, 2);
  t.match(none.stderr, /Duo is not configured/);
});
