// TOTP as the second factor, through real OIDC logins (openid-client as the RP): amr/acr in the ID token,
// audit rows, bounded tries per challenge, the account lockout, RFC 6238 replay protection (also under 20
// concurrent submissions of one code), the ±1 step window, and CSRF. One gateway for the file (start-up
// is the slow part); every case uses its own user so their throttles and TOTP steps never meet.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { readForm } from '../helpers/browser.ts';
import { addUser } from '../helpers/oidc.ts';
import {
  ACR_MFA, AMR_TOTP, advance, alertText, atClient, auditRows, chooseFactor, choiceButtons, enrollTotp, freshTotp,
  idClaims, isChoicePage, isCodePage, isLoginPage, login, policyClient, steadyStep, submitCode, totpNow, wrongCode, matchAll, type Flow,
} from '../helpers/mfa.ts';

const MAX_ATTEMPTS = 3;
const LOCKOUT = 5;
const app = policyClient('required');
const gw = await startGateway(t, {
  overrides: {
    oidc: { clients: [app] },
    mfa: { factors: ['totp'], totp: { maxAttempts: MAX_ATTEMPTS } },
    // Every request comes from 127.0.0.1: the per-IP limit would mix the cases up.
    security: { lockoutThreshold: LOCKOUT, ipLimitPerMinute: 10_000 },
  },
});

/** A user with TOTP, logged in with the password and standing on the TOTP form. */
async function atTotpForm(username: string) {
  const user = await addUser(gw, username);
  const { secret } = await enrollTotp(gw, user.id);
  const f = await toTotpForm(username);
  return { user, secret, f };
}

async function toTotpForm(username: string): Promise<Flow> {
  const f = await login(gw, app, username);
  // The first TOTP login chooses; later ones open on the TOTP form (the last used factor).
  if (!isChoicePage(f.page) && !isCodePage(f.page)) throw new Error(`expected the factor choice or the TOTP form, got ${f.status} ${f.url.pathname}`);
  return chooseFactor(f, 'totp');
}

t.test('success: amr pwd otp mfa, acr refeds mfa, audit row, preferred factor', async (t) => {
  const { user, secret, f } = await atTotpForm('tina');
  t.match(f.page, /autocomplete="one-time-code"/, 'the code field is marked for one-time codes');
  t.match(f.page, new RegExp(`${MAX_ATTEMPTS} tries left`));
  await submitCode(f, await freshTotp(secret));
  t.ok(atClient(f), 'back at the client with a code');
  const claims = await idClaims(f);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
  t.equal(claims.sub, user.id);
  const rows = await auditRows(gw, user.id, 'mfa.totp');
  t.equal(rows.length, 1);
  t.match(rows[0], { outcome: 'success', factor: 'totp', client_id: app.clientId, detail: { amr: AMR_TOTP } });
  t.equal((await gw.services.users.findById(user.id))!.preferredFactor, 'totp');
});

t.test('wrong code: 401, the same form with the remaining tries, failure audited', async (t) => {
  const { user, secret, f } = await atTotpForm('walter');
  const { res } = await submitCode(f, wrongCode(secret));
  t.equal(res.status, 401);
  t.match(alertText(f.page), /That code is not right/);
  t.match(f.page, /id="remaining">2 tries left for this attempt/);
  t.match(f.page, /action="\/interaction\/[^"]+\/mfa\/totp"/, 'still the TOTP form');
  matchAll(t, await auditRows(gw, user.id, 'mfa.totp'), [{ outcome: 'failure', reason: 'invalid' }]);
  // The right code still works on the same challenge.
  await submitCode(f, await freshTotp(secret));
  t.same((await idClaims(f)).amr, AMR_TOTP);
});

t.test(`after ${MAX_ATTEMPTS} wrong codes: back at the choice with too_many_attempts`, async (t) => {
  const { user, secret, f } = await atTotpForm('mallory');
  const { action: staleAction, fields: staleFields } = readForm(f.page, '/mfa/totp');
  for (let i = 1; i < MAX_ATTEMPTS; i++) t.equal((await submitCode(f, wrongCode(secret))).res.status, 401, `wrong code ${i}`);
  const { res } = await submitCode(f, wrongCode(secret));
  t.equal(res.status, 303);
  t.equal(f.url.searchParams.get('failed'), 'too_many_attempts');
  t.ok(isChoicePage(f.page), 'the factor choice, not a dead end');
  t.equal(alertText(f.page), 'Authenticator app: Too many wrong codes for this attempt. Choose a method below to continue.');
  t.same(choiceButtons(f.page), { totp: true, recovery: true }, 'both factors offered again');
  // The spent challenge is gone: its form cannot be used for one more try, not even with the right code.
  const stale = await f.browser.post(new URL(staleAction, gw.url), { ...staleFields, code: await freshTotp(secret) });
  await advance(f, stale, new URL(staleAction, gw.url));
  t.equal(f.url.searchParams.get('failed'), 'expired', 'the old form is refused');
  t.notOk(atClient(f));
  await chooseFactor(f, 'totp');
  t.match(f.page, new RegExp(`${MAX_ATTEMPTS} tries left`), 'choosing TOTP again starts a fresh challenge');
  t.equal((await auditRows(gw, user.id, 'mfa.totp')).filter((r) => r.reason === 'invalid').length, MAX_ATTEMPTS, 'each wrong code audited');
});

t.test('replay: a code accepted in one login is refused in a second login (RFC 6238 §5.2)', async (t) => {
  const { user, secret, f } = await atTotpForm('rita');
  const code = await freshTotp(secret);
  await submitCode(f, code);
  t.ok(atClient(f), 'first login signed in');
  const second = await toTotpForm('rita');
  const { res } = await submitCode(second, code);
  t.equal(res.status, 401, 'the same code is refused');
  t.notOk(atClient(second));
  const rows = await auditRows(gw, user.id, 'mfa.totp');
  t.match(rows.at(-1), { outcome: 'failure', reason: 'invalid', detail: { replay: true } });
});

t.test('20 concurrent submissions of one valid code in 20 logins: exactly one reaches the client', async (t) => {
  const user = await addUser(gw, 'conny');
  const { secret } = await enrollTotp(gw, user.id);
  const flows = await Promise.all(Array.from({ length: 20 }, () => toTotpForm('conny')));
  t.ok(flows.every((f) => /mfa\/totp/.test(readAction(f.page))), 'all 20 logins wait at their TOTP form');
  const code = await freshTotp(secret);
  await Promise.all(flows.map((f) => submitCode(f, code)));
  const winners = flows.filter(atClient);
  t.equal(winners.length, 1, 'exactly one login signed in');
  t.same((await idClaims(winners[0]!)).amr, AMR_TOTP);
  const rows = await auditRows(gw, user.id, 'mfa.totp');
  t.equal(rows.filter((r) => r.outcome === 'success').length, 1, 'one success audited');
  t.equal(rows.filter((r) => r.outcome === 'failure').length, 19, 'every other submission audited as a failure');
});

t.test('clock drift: ±1 step accepted, ±2 refused', async (t) => {
  const { secret, f } = await atTotpForm('drift');
  await steadyStep();
  t.equal((await submitCode(f, totpNow(secret, -2))).res.status, 401, 'two steps behind: refused');
  await steadyStep();
  t.equal((await submitCode(f, totpNow(secret, +2))).res.status, 401, 'two steps ahead: refused');
  await steadyStep();
  await submitCode(f, totpNow(secret, -1));
  t.ok(atClient(f), 'one step behind: accepted');
  const next = await toTotpForm('drift');
  await steadyStep();
  await submitCode(next, totpNow(secret, +1));
  t.ok(atClient(next), 'one step ahead: accepted');
});

t.test('the account lockout counts TOTP failures too', async (t) => {
  const { user, secret, f } = await atTotpForm('lockie');
  for (let i = 0; i < MAX_ATTEMPTS; i++) await submitCode(f, wrongCode(secret));
  t.equal(f.url.searchParams.get('failed'), 'too_many_attempts');
  await chooseFactor(f, 'totp');
  for (let i = MAX_ATTEMPTS; i < LOCKOUT; i++) t.equal((await submitCode(f, wrongCode(secret))).res.status, 401, `wrong code ${i + 1}`);
  // The account is now locked: even the right code is refused, with a reason, on the choice page.
  const { res } = await submitCode(f, await freshTotp(secret));
  t.equal(res.status, 303);
  t.notOk(atClient(f));
  t.equal(f.url.searchParams.get('failed'), 'locked');
  t.match(alertText(f.page), /Too many failed attempts for this account/);
  t.match(await auditRows(gw, user.id, 'mfa.totp').then((r) => r.at(-1)), { outcome: 'failure', reason: 'locked' });
  // …and the password step of a new login is refused as well.
  const again = await login(gw, app, 'lockie');
  t.equal(again.status, 429, 'password refused while locked');
  t.ok(isLoginPage(again.page));
});

t.test('CSRF token missing: 403, no try counted', async (t) => {
  const { secret, f } = await atTotpForm('csrf');
  const action = new URL(readAction(f.page), gw.url);
  const res = await f.browser.post(action, { code: totpNow(secret) });
  t.equal(res.status, 403);
  t.match(await res.text(), /GW_CSRF/);
  const back = await f.browser.get(action);
  await advance(f, back, action);
  t.match(f.page, new RegExp(`${MAX_ATTEMPTS} tries left`), 'the forged post used no try');
  await submitCode(f, await freshTotp(secret));
  t.same((await idClaims(f)).amr, AMR_TOTP, 'the real form still works');
});

function readAction(page: string): string {
  return /<form method="post" action="([^"]+\/mfa\/(?:totp|recovery))"/.exec(page)?.[1] ?? '';
}
