// Recovery codes as the factor of last resort, through real OIDC logins: one code signs in once (amr counts
// it as a one-time password), a second use and 19 of 20 concurrent uses are refused, and it is audited.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import {
  ACR_MFA, AMR_TOTP, alertText, atClient, auditRows, chooseFactor, enrollTotp, idClaims, isChoicePage, login, policyClient,
  submitCode, type Flow,
} from '../helpers/mfa.ts';

const app = policyClient('required');
const gw = await startGateway(t, {
  overrides: { oidc: { clients: [app] }, mfa: { factors: ['totp'] }, security: { ipLimitPerMinute: 10_000 } },
});

async function toRecoveryForm(username: string): Promise<Flow> {
  const f = await login(gw, app, username);
  if (!isChoicePage(f.page)) throw new Error(`expected the factor choice, got ${f.status} ${f.url.pathname}`);
  await chooseFactor(f, 'recovery');
  if (!/\/mfa\/recovery"/.test(f.page)) throw new Error('expected the recovery code form');
  return f;
}

t.test('a recovery code signs in once (amr pwd otp mfa); a second use is refused', async (t) => {
  const user = await addUser(gw, 'rob');
  const { recoveryCodes } = await enrollTotp(gw, user.id);
  const code = recoveryCodes[3]!;
  const f = await toRecoveryForm('rob');
  t.match(f.page, /autocomplete="one-time-code"/);
  // Typed loosely (lower case, no dashes): still the same code.
  await submitCode(f, code.toLowerCase().replace(/-/g, ' '));
  t.ok(atClient(f), 'signed in');
  const claims = await idClaims(f);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
  const rows = await auditRows(gw, user.id, 'mfa.recovery');
  t.equal(rows.length, 1);
  t.match(rows[0], { outcome: 'success', factor: 'recovery', client_id: app.clientId, detail: { amr: AMR_TOTP, remaining: 9 } });
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 9);
  t.equal((await gw.services.users.findById(user.id))!.preferredFactor, null, 'a recovery code never becomes the preferred factor');

  const again = await toRecoveryForm('rob');
  const { res } = await submitCode(again, code);
  t.equal(res.status, 401, 'the spent code is refused');
  t.equal(alertText(again.page), 'That recovery code is not valid or was already used.');
  t.notOk(atClient(again));
  t.match((await auditRows(gw, user.id, 'mfa.recovery')).at(-1), { outcome: 'failure', reason: 'invalid' });
  // Another unused code still works in the same challenge.
  await submitCode(again, recoveryCodes[4]!);
  t.same((await idClaims(again)).amr, AMR_TOTP);
});

t.test('20 concurrent uses of one recovery code: exactly one success', async (t) => {
  const user = await addUser(gw, 'racer');
  const { recoveryCodes } = await enrollTotp(gw, user.id);
  const flows = await Promise.all(Array.from({ length: 20 }, () => toRecoveryForm('racer')));
  await Promise.all(flows.map((f) => submitCode(f, recoveryCodes[0]!)));
  const winners = flows.filter(atClient);
  t.equal(winners.length, 1, 'exactly one login signed in');
  t.same((await idClaims(winners[0]!)).amr, AMR_TOTP);
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 9, 'exactly one code spent');
  const rows = await auditRows(gw, user.id, 'mfa.recovery');
  t.equal(rows.filter((r) => r.outcome === 'success').length, 1);
  t.equal(rows.filter((r) => r.outcome === 'failure').length, 19);
});

t.test('a user without recovery codes is not offered them', async (t) => {
  const user = await addUser(gw, 'norec');
  await enrollTotp(gw, user.id);
  await gw.services.mfa.recovery.removeAll(user.id);
  const f = await login(gw, app, 'norec');
  // TOTP is the only usable factor: the choice is skipped, its code form served in its place.
  t.match(f.page, /action="\/interaction\/[^"]+\/mfa\/totp"/);
  t.match(f.url.pathname, /^\/interaction\/[^/]+\/login$/, 'the password POST\'s own answer, no redirect to the form');
  t.notMatch(f.page, /recovery/i);
});
