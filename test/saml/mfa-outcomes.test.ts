// The MFA outcome matrix of test/mfa/* run through SAML: SP-initiated logins (@node-saml/node-saml as the SP,
// HTTP-Redirect AuthnRequests) on a real gateway, the real Duo SDK against the emulator. SAML rides the OIDC
// pipeline, so the factor pages are the same; what this file proves is what reaches the SP afterwards: a
// Response that node-saml verifies (Response and Assertion signatures, InResponseTo, audience) whose
// AuthnContextClassRef is the one src/mfa/amr.ts derives from what really happened, never more, and the
// audit trail (the factor's row under the SP's internal client, then the saml.sso row with amr and class).
// Covered: Duo allow (and parity with an OIDC login), deny → choice → TOTP, error redirect, expired state,
// Duo down with fail mode closed and open, TOTP wrong then right, a recovery code, the three Duo bypass
// policies, per-SP policy off / optional / required, RequestedAuthnContext, and an SSO session without a
// second factor stepped up by a SAML SP without asking the password again.
// Fraud, the Duo state's guarantees, a wrong username, hang and HTTP 500, TOTP replay and limits, recovery code
// reuse: mfa-outcomes-faults.test.ts. Shared setup and assertions: mfa-harness.ts.
import t from 'tap';
import { Browser } from '../helpers/browser.ts';
import { addUser } from '../helpers/oidc.ts';
import { authorizeRequest, duoAnswer, duoCalls, duoReachable, openUrl, startDuo, toDuo } from '../helpers/duo.ts';
import {
  ACR_MFA, AMR_TOTP, alertText, auditRows, chooseFactor, choiceButtons, enrollTotp, freshTotp,
  idClaims, isChoicePage, matchAll, mfaCount, policyClient, submitCode, wrongCode,
} from '../helpers/mfa.ts';
import { amrFor } from '../../src/mfa/amr.ts';
import { clientIdFor } from '../../src/protocols/saml/sp-registry.ts';
import {
  AMR_PUSH, FAIL_OPEN, OFF, OPTIONAL, REQUIRED, asFlow, assertSignedIn, assertStatus, duoRows, isAutoPost, samlLogin, samlToDuo, spFor,
  startMfaGateway, throughDuo as viaDuo, type SamlFlow,
} from './mfa-harness.ts';

const oidcApp = policyClient('required');
const duo = await startDuo(t);
// The bypass policy is gateway-wide, and the fail mode is tested both gateway-wide and per SP (duoFailMode),
// so each combination gets its own gateway; they share the emulator and the subtests run one at a time.
const [gw, gwOpen, gwDeny] = await Promise.all([
  startMfaGateway(t, duo, { failMode: 'closed', bypassPolicy: 'mfa' }, { clients: [oidcApp] }),
  startMfaGateway(t, duo, { failMode: 'open', bypassPolicy: 'single-factor' }, { clients: [oidcApp] }),
  startMfaGateway(t, duo, { failMode: 'closed', bypassPolicy: 'deny' }, { clients: [oidcApp] }),
]);

/** The browser's round trip through this file's Duo, back at the gateway and on to the next page. */
const throughDuo = (f: SamlFlow) => viaDuo(f, duo);

t.test('Duo allow: a signed assertion with the REFEDS MFA class, the same amr an OIDC login gets', async (t) => {
  const user = await addUser(gw, 'alice');
  const tokens = duoCalls(duo.emulator, 'token').length;
  const f = await samlToDuo(gw, REQUIRED, 'alice');
  t.ok(f.sawLogin, 'the password first');
  const rq = authorizeRequest(f.url);
  t.equal(rq.duo_uname, 'alice');
  t.match(rq.redirect_uri, new RegExp(`^${gw.url}/interaction/[^/]+/mfa/duo/callback$`), 'Duo returns below the interaction');
  await throughDuo(f);
  t.same(AMR_PUSH, ['pwd', 'swk', 'user', 'mfa'], 'the amr table for a push');
  await assertSignedIn(t, f, 'alice', AMR_PUSH, user.id);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'success', factor: 'duo', client_id: clientIdFor(REQUIRED), detail: { duoFactor: 'duo_push', amr: AMR_PUSH } }],
    'the factor is audited under the SP\'s internal client');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens + 1, 'exactly one code exchange');

  // Another Duo method: the class stays REFEDS MFA, the amr (in the audit) follows the table.
  const phone = await addUser(gw, 'phil');
  duo.emulator.setFactor('phil', 'phone_call');
  const p = await samlToDuo(gw, REQUIRED, 'phil');
  await throughDuo(p);
  await assertSignedIn(t, p, 'phil', amrFor({ kind: 'duo', duoFactor: 'phone_call' }), phone.id);
  t.same(amrFor({ kind: 'duo', duoFactor: 'phone_call' }), ['pwd', 'tel', 'mfa']);

  // The same Duo push through OIDC: the ID token says what the SAML audit said.
  const o = await toDuo(gw, oidcApp, 'alice');
  await openUrl(o, await duoAnswer(o, duo));
  const claims = await idClaims(o);
  t.same(claims.amr, AMR_PUSH, 'OIDC amr = SAML amr');
  t.equal(claims.acr, ACR_MFA, 'OIDC acr = SAML AuthnContextClassRef');
});

t.test('Duo deny: back at the factor choice with the reason, then TOTP issues the assertion', async (t) => {
  const user = await addUser(gw, 'dana');
  const { secret } = await enrollTotp(gw, user.id);
  duo.emulator.setOutcome('dana', 'deny');
  const f = await samlToDuo(gw, REQUIRED, 'dana');
  await throughDuo(f);
  t.notOk(isAutoPost(f), 'nothing posted to the SP');
  t.ok(isChoicePage(f.page), 'the factor choice');
  t.equal(f.url.searchParams.get('failed'), 'denied');
  t.equal(alertText(f.page), 'Duo: The request was denied. Choose a method below to continue.');
  t.same(choiceButtons(f.page), { duo: true, totp: true, recovery: true }, 'every factor offered again');
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'failure', reason: 'denied', factor: 'duo', client_id: clientIdFor(REQUIRED) }]);
  await chooseFactor(asFlow(f), 'totp');
  await submitCode(asFlow(f), await freshTotp(secret));
  await assertSignedIn(t, f, 'dana', AMR_TOTP, user.id);
  matchAll(t, await auditRows(gw, user.id, 'mfa.totp'), [{ outcome: 'success', factor: 'totp', detail: { amr: AMR_TOTP } }]);
  matchAll(t, await auditRows(gw, user.id, 'saml.sso'), [{ outcome: 'success' }], 'one SAML sign-in, no failure status sent');
});

t.test('Duo error redirect: back at the choice, no code exchanged; Duo again then signs in', async (t) => {
  const user = await addUser(gw, 'erik');
  duo.emulator.setOutcome('erik', 'error_redirect');
  const tokens = duoCalls(duo.emulator, 'token').length;
  const f = await samlToDuo(gw, REQUIRED, 'erik');
  const cb = await throughDuo(f);
  t.equal(cb.searchParams.get('error'), 'access_denied');
  t.notOk(isAutoPost(f));
  t.ok(isChoicePage(f.page));
  t.equal(f.url.searchParams.get('failed'), 'denied');
  t.equal(alertText(f.page), 'Duo: The request was denied. Choose a method below to continue.');
  t.same(choiceButtons(f.page), { duo: true }, 'Duo (the only factor) can be tried again');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens, 'nothing exchanged');
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'failure', reason: 'denied', detail: { duoError: 'access_denied' } }]);
  duo.emulator.setOutcome('erik', 'allow');
  await chooseFactor(asFlow(f), 'duo');
  await throughDuo(f);
  await assertSignedIn(t, f, 'erik', AMR_PUSH, user.id);
});

t.test('expired Duo state: back at the choice with expired, no exchange; a new attempt signs in', async (t) => {
  const user = await addUser(gw, 'tardy');
  const f = await samlToDuo(gw, REQUIRED, 'tardy');
  const cb = await duoAnswer(asFlow(f), duo);
  await gw.services.db.query(`UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [cb.searchParams.get('state')]);
  const tokens = duoCalls(duo.emulator, 'token').length;
  await openUrl(asFlow(f), cb);
  t.notOk(isAutoPost(f));
  t.ok(isChoicePage(f.page));
  t.equal(f.url.searchParams.get('failed'), 'expired');
  t.equal(alertText(f.page), 'Duo: That attempt expired or was already used. Choose a method below to continue.');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'failure', reason: 'expired' }]);
  await chooseFactor(asFlow(f), 'duo');
  await throughDuo(f);
  await assertSignedIn(t, f, 'tardy', AMR_PUSH, user.id);
});

t.test('Duo down, fail mode closed: Duo shown unavailable, TOTP offered and issues the assertion', async (t) => {
  const user = await addUser(gw, 'clem');
  const { secret } = await enrollTotp(gw, user.id);
  duo.emulator.setFault('down');
  t.teardown(() => duo.emulator.setFault(null));
  const f = await samlLogin(gw, REQUIRED, 'clem');
  t.ok(isChoicePage(f.page));
  t.same(choiceButtons(f.page), { duo: false, totp: true, recovery: true }, 'Duo disabled, the others usable');
  t.match(f.page, /id="factor-duo"[^>]*disabled[^>]*>Duo<br><span class="muted">Unavailable right now/);
  await chooseFactor(asFlow(f), 'duo'); // a stale page
  t.equal(f.url.searchParams.get('failed'), 'unavailable');
  t.equal(alertText(f.page), 'Duo: That method is unavailable right now. Choose a method below to continue.');
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'error', reason: 'unavailable', client_id: clientIdFor(REQUIRED), detail: { problem: /^network:/ } }]);
  await chooseFactor(asFlow(f), 'totp');
  await submitCode(asFlow(f), await freshTotp(secret));
  await assertSignedIn(t, f, 'clem', AMR_TOTP, user.id);

  // Duo is all this user has: the no-factor page, and nothing reaches the SP.
  const solo = await addUser(gw, 'solo');
  const s = await samlLogin(gw, REQUIRED, 'solo');
  t.notOk(isAutoPost(s));
  t.match(s.page, /<p id="no-factor">No verification method is available/);
  matchAll(t, await auditRows(gw, solo.id, 'mfa.choice'), [{ outcome: 'failure', reason: 'no_usable_factor', client_id: clientIdFor(REQUIRED) }]);
  t.same(await auditRows(gw, solo.id, 'saml.sso'), []);
  duo.emulator.setFault(null);
  await duoReachable(duo.emulator);
});

t.test('Duo down, fail mode open: an assertion with the password-only class, audited and counted as fail-open', async (t) => {
  const user = await addUser(gwOpen, 'opie');
  duo.emulator.setFault('down');
  t.teardown(() => duo.emulator.setFault(null));
  const before = await mfaCount(gwOpen, { factor: 'duo', result: 'fail-open' });
  const f = await samlLogin(gwOpen, REQUIRED, 'opie');
  await assertSignedIn(t, f, 'opie', ['pwd'], user.id);
  matchAll(t, await duoRows(gwOpen, user.id), [
    { outcome: 'fail-open', reason: 'fail-open', factor: 'duo', client_id: clientIdFor(REQUIRED), detail: { amr: ['pwd'], problem: /^network:/ } },
  ]);
  t.equal(await mfaCount(gwOpen, { factor: 'duo', result: 'fail-open' }), before + 1, 'counted');

  // An SP that asks for the MFA class is told NoAuthnContext: the gateway never claims more than happened.
  const strict = await spFor(gwOpen, OFF, { authnContext: [ACR_MFA], racComparison: 'exact' });
  const user2 = await addUser(gwOpen, 'olga');
  const s = await samlLogin(gwOpen, OFF, 'olga', { sp: strict });
  await assertStatus(t, s, ['Responder', 'NoAuthnContext'], 'GW_SAML_NO_AUTHN_CONTEXT');
  matchAll(t, await duoRows(gwOpen, user2.id), [{ outcome: 'fail-open' }]);
  matchAll(t, await auditRows(gwOpen, user2.id, 'saml.sso'), [], 'no SAML sign-in for the user');
  duo.emulator.setFault(null);
  await duoReachable(duo.emulator);
});

t.test('Duo down, per-SP duoFailMode open on a fail-closed gateway: that SP alone lets the password through', async (t) => {
  const user = await addUser(gw, 'pat');
  duo.emulator.setFault('down');
  t.teardown(() => duo.emulator.setFault(null));
  const f = await samlLogin(gw, FAIL_OPEN, 'pat');
  await assertSignedIn(t, f, 'pat', ['pwd'], user.id);
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'fail-open', factor: 'duo', client_id: clientIdFor(FAIL_OPEN) }]);
  // The same user at an SP without the override meets the gateway's closed fail mode.
  const closed = await samlLogin(gw, REQUIRED, 'pat');
  t.notOk(isAutoPost(closed), 'no assertion for the fail-closed SP');
  t.match(closed.page, /<p id="no-factor">No verification method is available/);
  duo.emulator.setFault(null);
  await duoReachable(duo.emulator);
});

t.test('TOTP: a wrong code is refused on the code page, the right one issues the assertion', async (t) => {
  const user = await addUser(gw, 'tom');
  const { secret } = await enrollTotp(gw, user.id);
  const f = await samlLogin(gw, REQUIRED, 'tom');
  t.same(choiceButtons(f.page), { duo: true, totp: true, recovery: true });
  await chooseFactor(asFlow(f), 'totp');
  const wrong = await submitCode(asFlow(f), wrongCode(secret));
  t.equal(wrong.res.status, 401);
  t.equal(alertText(f.page), 'That code is not right. Check the current code in your app and try again.');
  t.notOk(isAutoPost(f));
  await submitCode(asFlow(f), await freshTotp(secret));
  await assertSignedIn(t, f, 'tom', AMR_TOTP, user.id);
  matchAll(t, await auditRows(gw, user.id, 'mfa.totp'), [
    { outcome: 'failure', reason: 'invalid', client_id: clientIdFor(REQUIRED) },
    { outcome: 'success', client_id: clientIdFor(REQUIRED), detail: { amr: AMR_TOTP } },
  ]);
});

t.test('a recovery code issues the assertion (counted as a one-time password)', async (t) => {
  const user = await addUser(gw, 'rob');
  const { recoveryCodes } = await enrollTotp(gw, user.id);
  const f = await samlLogin(gw, REQUIRED, 'rob');
  await chooseFactor(asFlow(f), 'recovery');
  await submitCode(asFlow(f), recoveryCodes[2]!);
  t.same(amrFor({ kind: 'recovery-code' }), AMR_TOTP);
  await assertSignedIn(t, f, 'rob', AMR_TOTP, user.id);
  matchAll(t, await auditRows(gw, user.id, 'mfa.recovery'), [{ outcome: 'success', factor: 'recovery', client_id: clientIdFor(REQUIRED), detail: { amr: AMR_TOTP, remaining: 9 } }]);
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 9);
});

t.test('Duo bypass under each bypass policy', async (t) => {
  t.test('mfa: counts as MFA (REFEDS class), audited as bypass', async (t) => {
    const user = await addUser(gw, 'bea');
    duo.emulator.setOutcome('bea', 'bypass');
    const f = await samlToDuo(gw, REQUIRED, 'bea');
    await throughDuo(f);
    t.same(amrFor({ kind: 'duo', duoFactor: undefined }), ['pwd', 'mfa']);
    await assertSignedIn(t, f, 'bea', ['pwd', 'mfa'], user.id);
    matchAll(t, await duoRows(gw, user.id), [{ outcome: 'bypass', detail: { duoReason: 'bypass_user', policy: 'mfa', amr: ['pwd', 'mfa'] } }]);
  });

  t.test('single-factor: the password-only class; an SP asking for MFA gets NoAuthnContext', async (t) => {
    const user = await addUser(gwOpen, 'sam');
    duo.emulator.setOutcome('sam', 'bypass');
    const before = await mfaCount(gwOpen, { factor: 'duo', result: 'bypass' });
    const f = await samlToDuo(gwOpen, REQUIRED, 'sam');
    await throughDuo(f);
    await assertSignedIn(t, f, 'sam', ['pwd'], user.id);
    matchAll(t, await duoRows(gwOpen, user.id), [
      { outcome: 'bypass', reason: 'bypass', factor: 'duo', client_id: clientIdFor(REQUIRED), detail: { amr: ['pwd'], duoReason: 'bypass_user', policy: 'single-factor' } },
    ]);
    t.equal(await mfaCount(gwOpen, { factor: 'duo', result: 'bypass' }), before + 1);

    // An SP with policy off that asks for the MFA class in its AuthnRequest: the MFA step runs (Duo), Duo
    // bypasses the user, and the SP is told NoAuthnContext rather than given a password-only assertion.
    const strict = await spFor(gwOpen, OFF, { authnContext: [ACR_MFA], racComparison: 'exact' });
    const s = await samlToDuo(gwOpen, OFF, 'sam', { sp: strict });
    await throughDuo(s);
    await assertStatus(t, s, ['Responder', 'NoAuthnContext'], 'GW_SAML_NO_AUTHN_CONTEXT');
    t.same((await duoRows(gwOpen, user.id)).map((r) => r.outcome), ['bypass', 'bypass']);
    t.equal((await auditRows(gwOpen, user.id, 'saml.sso')).length, 1, 'still one SAML sign-in');
  });

  t.test('deny: back at the choice with the reason, nothing reaches the SP', async (t) => {
    const user = await addUser(gwDeny, 'dora');
    duo.emulator.setOutcome('dora', 'bypass');
    const f = await samlToDuo(gwDeny, REQUIRED, 'dora');
    await throughDuo(f);
    t.notOk(isAutoPost(f));
    t.ok(isChoicePage(f.page));
    t.equal(f.url.searchParams.get('failed'), 'denied');
    t.equal(alertText(f.page), 'Duo: The request was denied. Choose a method below to continue.');
    t.same(choiceButtons(f.page), { duo: true });
    matchAll(t, await duoRows(gwDeny, user.id), [{ outcome: 'failure', reason: 'denied', client_id: clientIdFor(REQUIRED), detail: { bypass: true, duoReason: 'bypass_user' } }]);
    t.same(await auditRows(gwDeny, user.id, 'saml.sso'), []);
  });
});

t.test('per-SP MFA policy', async (t) => {
  t.test('off: the password alone, even for a user with TOTP', async (t) => {
    const user = await addUser(gw, 'olive');
    await enrollTotp(gw, user.id);
    const f = await samlLogin(gw, OFF, 'olive');
    t.ok(f.sawLogin);
    await assertSignedIn(t, f, 'olive', ['pwd'], user.id);
    t.same((await auditRows(gw, user.id)).map((r) => r.type), ['login.password', 'saml.sso'], 'no MFA step ran');
  });

  t.test('off, but the AuthnRequest asks for the MFA class: the MFA step runs', async (t) => {
    const user = await addUser(gw, 'alex');
    const { secret } = await enrollTotp(gw, user.id);
    const f = await samlLogin(gw, OFF, 'alex', { sp: await spFor(gw, OFF, { authnContext: [ACR_MFA], racComparison: 'minimum' }) });
    t.ok(isChoicePage(f.page));
    await chooseFactor(asFlow(f), 'totp');
    await submitCode(asFlow(f), await freshTotp(secret));
    await assertSignedIn(t, f, 'alex', AMR_TOTP, user.id);
  });

  t.test('optional: the password alone without a local factor; MFA once TOTP is enrolled', async (t) => {
    const opal = await addUser(gw, 'opal');
    const without = await samlLogin(gw, OPTIONAL, 'opal');
    await assertSignedIn(t, without, 'opal', ['pwd'], opal.id);
    t.same(await duoRows(gw, opal.id), [], 'Duo (offered to everyone) does not count as enrolled');

    const otto = await addUser(gw, 'otto');
    const { secret } = await enrollTotp(gw, otto.id);
    const f = await samlLogin(gw, OPTIONAL, 'otto');
    t.ok(isChoicePage(f.page), 'TOTP enrolled: the MFA step runs');
    t.notOk(isAutoPost(f));
    await chooseFactor(asFlow(f), 'totp');
    await submitCode(asFlow(f), await freshTotp(secret));
    await assertSignedIn(t, f, 'otto', AMR_TOTP, otto.id);
  });

  t.test('required: no assertion after the password alone', async (t) => {
    const user = await addUser(gw, 'quinn');
    const f = await samlLogin(gw, REQUIRED, 'quinn');
    t.ok(f.sawLogin);
    t.notOk(isAutoPost(f), 'no assertion yet');
    t.equal(f.url.pathname, '/oauth/v1/authorize', 'straight to Duo, the only factor');
    await throughDuo(f);
    await assertSignedIn(t, f, 'quinn', AMR_PUSH, user.id);
  });
});

t.test('an SSO session without a second factor is stepped up by a SAML SP, without the password again', async (t) => {
  const user = await addUser(gw, 'steppy');
  const browser = new Browser();
  const first = await samlLogin(gw, OFF, 'steppy', { browser });
  t.ok(first.sawLogin);
  const one = await assertSignedIn(t, first, 'steppy', ['pwd'], user.id);

  const second = await samlLogin(gw, REQUIRED, 'steppy', { browser });
  t.notOk(second.sawLogin, 'no password page');
  t.equal(second.url.pathname, '/oauth/v1/authorize', 'straight to the second factor (Duo)');
  await throughDuo(second);
  const two = await assertSignedIn(t, second, 'steppy', AMR_PUSH, user.id);
  t.equal((await auditRows(gw, user.id, 'login.password')).length, 1, 'the password was asked once');
  matchAll(t, await duoRows(gw, user.id), [{ outcome: 'success', client_id: clientIdFor(REQUIRED) }]);

  // One gateway session behind both SPs (single logout from either reaches the other).
  const rows = (await gw.services.db.query<{ sp_entity_id: string; session_uid: string; session_index: string }>(
    'SELECT sp_entity_id, session_uid, session_index FROM saml_sessions WHERE user_id = $1 ORDER BY sp_entity_id', [user.id])).rows;
  t.same(rows.map((r) => r.sp_entity_id), [OFF, REQUIRED]);
  t.equal(rows[0]!.session_uid, rows[1]!.session_uid, 'the step-up kept the gateway session');
  t.same(rows.map((r) => r.session_index), [one.sessionIndex, two.sessionIndex]);

  // The session now holds MFA: the policy-off SP gets the MFA class too, silently.
  const third = await samlLogin(gw, OFF, 'steppy', { browser });
  t.notOk(third.sawLogin);
  await assertSignedIn(t, third, 'steppy', AMR_PUSH, user.id);
  t.equal((await duoRows(gw, user.id)).length, 1, 'no second Duo prompt');
});
