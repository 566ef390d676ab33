// The MFA outcomes that go wrong, through SAML (the OIDC side: test/mfa/duo.test.ts, duo-bypass.test.ts,
// duo-failmode.test.ts, totp.test.ts, recovery.test.ts, test/reliability/duo-faults.test.ts). SP-initiated logins
// with @node-saml/node-saml as the SP, the real Duo SDK against the emulator. For every case: what the user sees
// (the factor choice with the plain reason, never a dead end), that nothing reaches the SP when it must not (no
// auto-post page, no saml.sso row), the factor's audit row under the SP's internal client, and where the login
// then succeeds, a Response node-saml accepts with the AuthnContextClassRef of what really happened.
// Covered: Duo fraud; the Duo state forged, replayed (before and after success), opened in another browser;
// Duo answering for another username; Duo hanging and answering HTTP 500 at the health check (fail mode closed,
// open per SP, open gateway-wide) and at the code exchange (closed and open); TOTP replay, the same code from
// parallel logins, the tries per challenge and the account lockout; a recovery code used twice.
import t, { type Test } from 'tap';
import { Browser, readForm } from '../helpers/browser.ts';
import { type Gateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { authorizeRequest, duoAnswer, duoCalls, openUrl, startDuo } from '../helpers/duo.ts';
import {
  AMR_TOTP, advance, alertText, auditRows, chooseFactor, choiceButtons, enrollTotp, freshTotp, isChoicePage, isCodePage, isLoginPage,
  matchAll, mfaCount, submitCode, wrongCode,
} from '../helpers/mfa.ts';
import { createSdkDuoClient, type DuoClient } from '../../src/mfa/duo/duo-client.ts';
import { clientIdFor } from '../../src/protocols/saml/sp-registry.ts';
import { errorCode } from './helpers.ts';
import {
  AMR_PUSH, FAIL_OPEN, REQUIRED, asFlow, assertSignedIn, assertStatus, duoRows, isAutoPost, samlLogin, samlToDuo, startMfaGateway,
  throughDuo, type SamlFlow,
} from './mfa-harness.ts';

/** Short, so a hanging Duo costs little; still far above what the in-process emulator needs. */
const TIMEOUT_MS = 1000;
const TOTP_LABEL = 'Authenticator app';
const choose = (reason: string) => `${reason} Choose a method below to continue.`;
const SAYS = {
  fraud: choose('Duo: The request was reported as not made by you. If that was a mistake, try again; otherwise tell your administrator.'),
  expired: choose('Duo: That attempt expired or was already used.'),
  error: choose('Duo: Something went wrong with that method.'),
  unavailable: choose('Duo: That method is unavailable right now.'),
  tooMany: choose(`${TOTP_LABEL}: Too many wrong codes for this attempt.`),
  totpExpired: choose(`${TOTP_LABEL}: That attempt expired or was already used.`),
  locked: (label: string) => choose(`${label}: Too many failed attempts for this account. Wait a few minutes and try again.`),
  wrongTotp: 'That code is not right. Check the current code in your app and try again.',
  wrongRecovery: 'That recovery code is not valid or was already used.',
};
const ALL = { duo: true, totp: true, recovery: true };
/** What the code form says about the tries this challenge has left. */
const triesLeft = (n: number) => `<p class="muted" id="remaining">${n} ${n === 1 ? 'try' : 'tries'} left for this attempt.</p>`;

const duo = await startDuo(t);
// Duo cannot be made to answer for another user than the prompt's, so the closed gateway's Duo client (the
// real SDK, trusting the emulator) opens the prompt for "wally" as "wallace", an alias Duo resolved: the
// id_token then names someone other than the username stored with the state. Every other name passes unchanged.
const sdk = createSdkDuoClient({
  clientId: duo.emulator.clientId, clientSecret: duo.emulator.clientSecret, apiHost: duo.emulator.apiHost, timeoutMs: TIMEOUT_MS, caPem: duo.emulator.caPem,
});
const aliasing: DuoClient = { ...sdk, createAuthUrl: (name, state, redirect) => sdk.createAuthUrl(name === 'wally' ? 'wallace' : name, state, redirect) };
// Fail mode closed gateway-wide (FAIL_OPEN overrides it with open), and a gateway whose own fail mode is open.
const [gw, gwOpen] = await Promise.all([
  startMfaGateway(t, duo, { failMode: 'closed', bypassPolicy: 'mfa', timeoutMs: TIMEOUT_MS }, { duoClient: aliasing }),
  startMfaGateway(t, duo, { failMode: 'open', timeoutMs: TIMEOUT_MS }),
]);

const tokenCalls = () => duoCalls(duo.emulator, 'token').length;

/** The flow is back at the factor choice with the plain reason, offering these factors. */
function assertChoice(t: Test, f: SamlFlow, reason: string, alert: string, buttons: Record<string, boolean>) {
  t.equal(f.status, 200);
  t.ok(isChoicePage(f.page), 'the factor choice, not a dead end');
  t.equal(f.url.searchParams.get('failed'), reason);
  t.equal(alertText(f.page), alert, 'the reason, in plain words');
  t.same(choiceButtons(f.page), buttons);
}

/** Nothing reached the SP: no auto-post page, and the user's SAML sign-ins are still `signIns`. */
async function assertNothingSent(t: Test, f: SamlFlow, userId: string, signIns = 0) {
  t.notOk(isAutoPost(f), 'no auto-post page: nothing for the SP');
  t.equal((await auditRows(f.gw, userId, 'saml.sso')).length, signIns, `${signIns} saml.sso row(s) for the user`);
}

/** The page for an interaction that is gone or belongs to another browser. */
function assertExpiredPage(t: Test, f: SamlFlow) {
  t.equal(f.status, 400);
  t.equal(errorCode(f.page), 'GW_INTERACTION_EXPIRED');
  t.match(f.page, /Go back to the application and sign in again\./, 'it says what to do next');
}

/** From the factor choice: TOTP with a fresh code, and the SAML Response that follows (amr pwd otp mfa). */
async function totpSignsIn(t: Test, f: SamlFlow, username: string, secret: string, userId: string) {
  await chooseFactor(asFlow(f), 'totp');
  await submitCode(asFlow(f), await freshTotp(secret));
  await assertSignedIn(t, f, username, AMR_TOTP, userId);
}

const failOpens = (g: Gateway) => mfaCount(g, { factor: 'duo', result: 'fail-open' });

/** A user with TOTP and recovery codes. */
async function withTotp(g: Gateway, username: string) {
  const user = await addUser(g, username);
  return { user, ...await enrollTotp(g, user.id) };
}

/** A SAML login standing on the code form of `factor`. */
async function samlToForm(username: string, factor: 'totp' | 'recovery'): Promise<SamlFlow> {
  const f = await samlLogin(gw, REQUIRED, username);
  // The factor choice, or (TOTP used last time) the TOTP form with "Use another method" under it.
  if (!isChoicePage(f.page) && !isCodePage(f.page)) throw new Error(`expected the factor choice or the TOTP form, got ${f.status} ${f.url.href}`);
  await chooseFactor(asFlow(f), factor);
  if (!f.page.includes(`/mfa/${factor}"`)) throw new Error(`expected the ${factor} form, got ${f.status} ${f.url.href}`);
  return f;
}

// ---- Duo's answers ------------------------------------------------------------------------------------------

t.test('Duo fraud: back at the choice with the fraud reason, nothing reaches the SP; Duo again signs in', async (t) => {
  const user = await addUser(gw, 'fred');
  duo.emulator.setOutcome('fred', 'fraud');
  const tokens = tokenCalls();
  const fraud = await mfaCount(gw, { factor: 'duo', result: 'failure', reason: 'fraud' });
  const f = await samlToDuo(gw, REQUIRED, 'fred');
  await throughDuo(f, duo);
  t.equal(tokenCalls(), tokens + 1, 'the code was exchanged: Duo\'s id_token says fraud');
  assertChoice(t, f, 'fraud', SAYS.fraud, { duo: true });
  await assertNothingSent(t, f, user.id);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'failure', reason: 'fraud', factor: 'duo', client_id: clientIdFor(REQUIRED), detail: { duoReason: 'user_marked_fraud' } }]);
  t.equal(await mfaCount(gw, { factor: 'duo', result: 'failure', reason: 'fraud' }), fraud + 1, 'counted as fraud');
  // The user retries (the push was theirs after all).
  duo.emulator.setOutcome('fred', 'allow');
  await chooseFactor(asFlow(f), 'duo');
  await throughDuo(f, duo);
  await assertSignedIn(t, f, 'fred', AMR_PUSH, user.id);
  t.same((await duoRows(gw, user.id)).map((r) => r.reason ?? r.outcome), ['fraud', 'success']);
});

t.test('Duo answers for another username than the stored one: refused before the SP, TOTP signs in', async (t) => {
  const { user, secret } = await withTotp(gw, 'wally');
  const f = await samlToDuo(gw, REQUIRED, 'wally');
  t.equal(authorizeRequest(f.url).duo_uname, 'wallace', 'the prompt ran for another name');
  await throughDuo(f, duo);
  t.match(duoCalls(duo.emulator, 'token').at(-1), { status: 200 }, 'Duo answered; the gateway refused the answer');
  assertChoice(t, f, 'error', SAYS.error, ALL);
  await assertNothingSent(t, f, user.id);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'error', reason: 'error', factor: 'duo', client_id: clientIdFor(REQUIRED), detail: { problem: /^username:/ } }]);
  await totpSignsIn(t, f, 'wally', secret, user.id);
});

// ---- the Duo state --------------------------------------------------------------------------------------------

t.test('forged Duo state: back at the choice with expired, no exchange; the real callback still signs in', async (t) => {
  const user = await addUser(gw, 'sly');
  const f = await samlToDuo(gw, REQUIRED, 'sly');
  const cb = await duoAnswer(asFlow(f), duo);
  const forged = new URL(cb);
  forged.searchParams.set('state', 'f'.repeat(36));
  const tokens = tokenCalls();
  await openUrl(asFlow(f), forged);
  assertChoice(t, f, 'expired', SAYS.expired, { duo: true });
  t.equal(tokenCalls(), tokens, 'the code never went to Duo');
  await assertNothingSent(t, f, user.id);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'failure', reason: 'expired', client_id: clientIdFor(REQUIRED), detail: { problem: 'unknown or spent state' } }]);
  await openUrl(asFlow(f), cb);
  await assertSignedIn(t, f, 'sly', AMR_PUSH, user.id);
  t.equal(tokenCalls(), tokens + 1, 'one exchange, for the real state');
});

t.test('replayed Duo callback: expired the second time; after the assertion, the expired page and no second one', async (t) => {
  const user = await addUser(gw, 'rex');
  duo.emulator.setOutcome('rex', 'deny');
  const f = await samlToDuo(gw, REQUIRED, 'rex');
  const denied = await throughDuo(f, duo);
  t.equal(f.url.searchParams.get('failed'), 'denied', 'first use: exchanged, Duo said deny');
  const tokens = tokenCalls();
  await openUrl(asFlow(f), denied);
  assertChoice(t, f, 'expired', SAYS.expired, { duo: true });
  t.equal(tokenCalls(), tokens, 'no second exchange');
  await assertNothingSent(t, f, user.id);

  duo.emulator.setOutcome('rex', 'allow');
  await chooseFactor(asFlow(f), 'duo');
  const allowed = await throughDuo(f, duo);
  await assertSignedIn(t, f, 'rex', AMR_PUSH, user.id);
  // The same callback again after the SP got its assertion: the interaction is gone.
  await openUrl(asFlow(f), allowed);
  assertExpiredPage(t, f);
  await assertNothingSent(t, f, user.id, 1);
  t.equal(tokenCalls(), tokens + 1, 'exactly one more exchange: the successful one');
  t.same((await duoRows(gw, user.id)).map((r) => r.reason ?? r.outcome), ['denied', 'expired', 'success']);
});

t.test('the Duo callback opened in another browser: refused, and both logins still finish as themselves', async (t) => {
  const amy = await addUser(gw, 'amy');
  const ben = await addUser(gw, 'ben');
  const a = await samlToDuo(gw, REQUIRED, 'amy');
  const cbA = await duoAnswer(asFlow(a), duo);
  const b = await samlToDuo(gw, REQUIRED, 'ben');
  // A's code and state on B's own callback path (what B's browser would reach with A's answer).
  const grafted = new URL(String(authorizeRequest(b.url).redirect_uri));
  grafted.search = cbA.search;
  const tokens = tokenCalls();

  const stranger = { ...a, browser: new Browser(), url: new URL(a.url) };
  await openUrl(asFlow(stranger), cbA);
  assertExpiredPage(t, stranger);
  t.notOk(isAutoPost(stranger), 'a browser without the login: nothing');

  await openUrl(asFlow(b), cbA);
  assertExpiredPage(t, b);
  await openUrl(asFlow(b), grafted);
  assertChoice(t, b, 'expired', SAYS.expired, { duo: true });
  await assertNothingSent(t, b, ben.id);
  matchAll(t, await duoRows(gw, ben.id), [{ outcome: 'failure', reason: 'expired', client_id: clientIdFor(REQUIRED) }]);
  t.equal(tokenCalls(), tokens, 'nothing was exchanged');
  t.same(await duoRows(gw, amy.id), [], 'nothing recorded against A');

  await openUrl(asFlow(a), cbA);
  await assertSignedIn(t, a, 'amy', AMR_PUSH, amy.id);
  await chooseFactor(asFlow(b), 'duo');
  await throughDuo(b, duo);
  await assertSignedIn(t, b, 'ben', AMR_PUSH, ben.id);
});

// ---- Duo hanging or answering HTTP 500 ----------------------------------------------------------------------

const FAULTS = { hang: /^timeout:/, http500: /^response:/ } as const;
type Fault = keyof typeof FAULTS;
function inject(t: Test, fault: Fault) {
  duo.emulator.setFault(fault);
  t.teardown(() => duo.emulator.setFault(null));
}

for (const fault of Object.keys(FAULTS) as Fault[]) {
  const problem = FAULTS[fault];

  t.test(`Duo ${fault} at the health check, fail mode closed: Duo unavailable, TOTP signs in; Duo-only users get no assertion`, async (t) => {
    const { user, secret } = await withTotp(gw, `closed-${fault}`);
    const solo = await addUser(gw, `solo-${fault}`);
    inject(t, fault);
    const f = await samlLogin(gw, REQUIRED, `closed-${fault}`);
    const duoOut = { ...ALL, duo: false };
    t.ok(isChoicePage(f.page), 'the choice, Duo greyed out with why');
    t.same(choiceButtons(f.page), duoOut);
    t.match(f.page, /id="factor-duo"[^>]* aria-disabled="true"[^>]*>Duo<br><span class="muted">Unavailable right now<\/span><\/button>\s*<p class="muted why" id="factor-duo-why">Duo is not answering, so it cannot be used for this sign-in\./,
      'the button and the sentence below it say why');
    // The greyed-out button still submits (aria-disabled keeps it focusable): the server checks again.
    await chooseFactor(asFlow(f), 'duo');
    assertChoice(t, f, 'unavailable', SAYS.unavailable, duoOut);
    await assertNothingSent(t, f, user.id);
    matchAll(t, await duoRows(gw, user.id), [{ outcome: 'error', reason: 'unavailable', client_id: clientIdFor(REQUIRED), detail: { problem } }]);
    await totpSignsIn(t, f, `closed-${fault}`, secret, user.id);

    // Duo is all this user has: the no-factor page, whose cancel tells the SP the sign-in failed.
    const s = await samlLogin(gw, REQUIRED, `solo-${fault}`);
    t.match(s.page, '<p id="no-factor">No verification method is available for your account right now. Contact your administrator.</p>');
    await assertNothingSent(t, s, solo.id);
    matchAll(t, await auditRows(gw, solo.id, 'mfa.choice'), [{ outcome: 'failure', reason: 'no_usable_factor', client_id: clientIdFor(REQUIRED), detail: { duo: problem, totp: 'not_enrolled' } }]);
    const cancel = readForm(s.page, '/abort');
    const target = new URL(cancel.action, gw.url);
    await advance(asFlow(s), await s.browser.post(target, cancel.fields), target);
    await assertStatus(t, s, ['Responder', 'AuthnFailed'], 'GW_SAML_AUTHN_FAILED');
    t.same(await auditRows(gw, solo.id, 'saml.sso'), [], 'no SAML sign-in for the user');
  });

  for (const [mode, g, sp] of [['open for the SP', gw, FAIL_OPEN], ['open gateway-wide', gwOpen, REQUIRED]] as const) {
    t.test(`Duo ${fault} at the health check, fail mode ${mode}: the password-only class, audited as fail-open`, async (t) => {
      const username = `open-${fault}-${g === gw ? 'sp' : 'gw'}`;
      const user = await addUser(g, username);
      inject(t, fault);
      const before = await failOpens(g);
      const tokens = tokenCalls();
      const f = await samlLogin(g, sp, username);
      await assertSignedIn(t, f, username, ['pwd'], user.id);
      matchAll(t, await duoRows(g, user.id), [
        { outcome: 'fail-open', reason: 'fail-open', factor: 'duo', client_id: clientIdFor(sp), detail: { amr: ['pwd'], problem } },
      ]);
      t.equal(await failOpens(g), before + 1, 'counted');
      t.equal(tokenCalls(), tokens, 'no code exchange');
    });
  }

  for (const [mode, sp] of [['closed', REQUIRED], ['open', FAIL_OPEN]] as const) {
    t.test(`Duo ${fault} at the code exchange, fail mode ${mode}: refused with the reason, never fail-open, TOTP signs in`, async (t) => {
      const username = `exchange-${fault}-${mode}`;
      const { user, secret } = await withTotp(gw, username);
      const failOpen = await failOpens(gw);
      const f = await samlToDuo(gw, sp, username);
      const cb = await duoAnswer(asFlow(f), duo);
      const tokens = tokenCalls();
      inject(t, fault);
      await openUrl(asFlow(f), cb);
      t.equal(tokenCalls(), tokens + 1, 'one exchange was tried');
      t.match(duoCalls(duo.emulator, 'token').at(-1), { status: fault === 'hang' ? 0 : 500 });
      // The health check fails too: closed shows Duo disabled, open still offers it.
      assertChoice(t, f, 'error', SAYS.error, { duo: mode === 'open', totp: true, recovery: true });
      await assertNothingSent(t, f, user.id);
      matchAll(t, await duoRows(gw, user.id), [{ outcome: 'error', reason: 'error', factor: 'duo', client_id: clientIdFor(sp), detail: { problem } }]);
      t.equal(await failOpens(gw), failOpen, 'no fail-open after the redirect');
      // Duo is back: the callback cannot be retried into a sign-in, its state is spent.
      duo.emulator.setFault(null);
      await openUrl(asFlow(f), cb);
      assertChoice(t, f, 'expired', SAYS.expired, ALL);
      t.equal(tokenCalls(), tokens + 1, 'no second exchange');
      await totpSignsIn(t, f, username, secret, user.id);
    });
  }
}

// ---- TOTP ----------------------------------------------------------------------------------------------------

t.test('TOTP replay: a code that signed in is refused for the next SAML login, a new code signs in', async (t) => {
  const { user, secret } = await withTotp(gw, 'rita');
  const first = await samlToForm('rita', 'totp');
  const code = await freshTotp(secret);
  await submitCode(asFlow(first), code);
  await assertSignedIn(t, first, 'rita', AMR_TOTP, user.id);

  const second = await samlToForm('rita', 'totp');
  const { res } = await submitCode(asFlow(second), code);
  t.equal(res.status, 401, 'the used code is refused');
  t.equal(alertText(second.page), SAYS.wrongTotp);
  t.match(second.page, triesLeft(4), 'still the code form, one try used');
  await assertNothingSent(t, second, user.id, 1);
  t.match((await auditRows(gw, user.id, 'mfa.totp')).at(-1), { outcome: 'failure', reason: 'invalid', client_id: clientIdFor(REQUIRED), detail: { replay: true } });
  await submitCode(asFlow(second), await freshTotp(secret));
  await assertSignedIn(t, second, 'rita', AMR_TOTP, user.id);
  t.same((await auditRows(gw, user.id, 'mfa.totp')).map((r) => r.reason ?? r.outcome), ['success', 'invalid', 'success']);
});

t.test('one TOTP code submitted in parallel from 8 SAML logins: exactly one assertion', async (t) => {
  const N = 8; // under the account lockout (10), so every loser is refused as a replay
  const { user, secret } = await withTotp(gw, 'conny');
  const flows = await Promise.all(Array.from({ length: N }, () => samlToForm('conny', 'totp')));
  const code = await freshTotp(secret);
  const answers = await Promise.all(flows.map((f) => submitCode(asFlow(f), code)));
  const winners = flows.filter(isAutoPost);
  t.equal(winners.length, 1, 'exactly one login got a SAML Response');
  await assertSignedIn(t, winners[0]!, 'conny', AMR_TOTP, user.id);
  t.same(answers.map((a) => a.res.status).sort(), [303, ...Array(N - 1).fill(401)], 'the others: 401 on the code form');
  for (const f of flows.filter((x) => !isAutoPost(x))) t.equal(alertText(f.page), SAYS.wrongTotp);
  const rows = await auditRows(gw, user.id, 'mfa.totp');
  t.equal(rows.filter((r) => r.outcome === 'success').length, 1, 'one success audited');
  t.match(rows.filter((r) => r.outcome !== 'success'), Array(N - 1).fill({ outcome: 'failure', reason: 'invalid', detail: { replay: true } }), 'every other one a replay');
  t.equal(rows.length, N);
  t.equal((await auditRows(gw, user.id, 'saml.sso')).length, 1, 'one saml.sso row');
});

t.test('wrong TOTP codes: 5 per challenge, then back at the choice; the account lockout stops every factor', async (t) => {
  const maxAttempts = gw.config.mfa.totp.maxAttempts;
  const lockout = gw.config.security.lockoutThreshold;
  t.same([maxAttempts, lockout], [5, 10], 'the defaults: 5 tries per challenge, 10 failures lock the account');
  const { user, secret } = await withTotp(gw, 'mallory');
  const f = await samlToForm('mallory', 'totp');
  t.match(f.page, triesLeft(5), 'the form says how many tries this attempt has');
  const stale = readForm(f.page, '/mfa/totp');
  for (let i = 1; i < maxAttempts; i++) {
    t.equal((await submitCode(asFlow(f), wrongCode(secret))).res.status, 401, `wrong code ${i}`);
    t.match(f.page, triesLeft(maxAttempts - i));
  }
  t.equal((await submitCode(asFlow(f), wrongCode(secret))).res.status, 303, `wrong code ${maxAttempts}: redirected`);
  assertChoice(t, f, 'too_many_attempts', SAYS.tooMany, ALL);
  await assertNothingSent(t, f, user.id);
  // The spent challenge's form takes no further try, not even the right code.
  const target = new URL(stale.action, gw.url);
  await advance(asFlow(f), await f.browser.post(target, { ...stale.fields, code: await freshTotp(secret) }), target);
  assertChoice(t, f, 'expired', SAYS.totpExpired, ALL);
  await assertNothingSent(t, f, user.id);

  // A fresh challenge: five more tries, and the fifth of those is the account's tenth failure.
  await chooseFactor(asFlow(f), 'totp');
  t.match(f.page, triesLeft(5), 'choosing TOTP again starts a fresh challenge');
  for (let i = maxAttempts + 1; i < lockout; i++) t.equal((await submitCode(asFlow(f), wrongCode(secret))).res.status, 401, `wrong code ${i}`);
  await submitCode(asFlow(f), wrongCode(secret));
  assertChoice(t, f, 'too_many_attempts', SAYS.tooMany, ALL);
  // Locked: no factor starts, not even a Duo push.
  const authorizes = duoCalls(duo.emulator, 'authorize').length;
  await chooseFactor(asFlow(f), 'totp');
  assertChoice(t, f, 'locked', SAYS.locked(TOTP_LABEL), ALL);
  await chooseFactor(asFlow(f), 'duo');
  assertChoice(t, f, 'locked', SAYS.locked('Duo'), ALL);
  t.equal(duoCalls(duo.emulator, 'authorize').length, authorizes, 'no Duo prompt for a locked account');
  await assertNothingSent(t, f, user.id);
  t.same((await auditRows(gw, user.id, 'mfa.totp')).map((r) => r.reason),
    [...Array(maxAttempts).fill('invalid'), 'expired', ...Array(lockout - maxAttempts).fill('invalid'), 'locked']);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'failure', reason: 'locked', client_id: clientIdFor(REQUIRED) }]);
  // A new SAML login is refused at the password.
  const again = await samlLogin(gw, REQUIRED, 'mallory');
  t.equal(again.status, 429, 'the password is refused while locked');
  t.ok(isLoginPage(again.page), 'the login page, with the reason');
  t.equal(alertText(again.page), 'Too many failed attempts for this account. Wait a few minutes and try again, or contact your administrator.');
  await assertNothingSent(t, again, user.id);
});

// ---- recovery codes ----------------------------------------------------------------------------------------

t.test('a recovery code signs in once: the second SAML login with it is refused, another code signs in', async (t) => {
  const { user, recoveryCodes } = await withTotp(gw, 'rob');
  const code = recoveryCodes[5]!;
  const first = await samlToForm('rob', 'recovery');
  await submitCode(asFlow(first), code);
  await assertSignedIn(t, first, 'rob', AMR_TOTP, user.id);
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 9);

  const second = await samlToForm('rob', 'recovery');
  const { res } = await submitCode(asFlow(second), code);
  t.equal(res.status, 401, 'the spent code is refused');
  t.equal(alertText(second.page), SAYS.wrongRecovery);
  await assertNothingSent(t, second, user.id, 1);
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 9, 'nothing more spent');
  await submitCode(asFlow(second), recoveryCodes[6]!);
  await assertSignedIn(t, second, 'rob', AMR_TOTP, user.id);
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 8);
  matchAll(t, await auditRows(gw, user.id, 'mfa.recovery'), [
    { outcome: 'success', factor: 'recovery', client_id: clientIdFor(REQUIRED), detail: { amr: AMR_TOTP, remaining: 9 } },
    { outcome: 'failure', reason: 'invalid', factor: 'recovery', client_id: clientIdFor(REQUIRED) },
    { outcome: 'success', factor: 'recovery', client_id: clientIdFor(REQUIRED), detail: { amr: AMR_TOTP, remaining: 8 } },
  ]);
});

t.test('no internal error in the whole file', async (t) => {
  t.same([gw, gwOpen].flatMap((g) => g.logs.filter((l) => /GW_ERR_INTERNAL|"level":(50|60)/.test(l))), []);
});
