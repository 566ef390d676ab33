// Duo Universal Prompt in a real browser: the sample OIDC app → Gatehouse → the Duo emulator's page
// (interactive: Approve / Deny / Cancel) → back. Approve signs in with Duo's amr; deny, an error redirect
// and a Duo that never comes back (the state expires) all end at the factor choice with the reason,
// from where TOTP signs in. RP-initiated logout at the end of the happy path.
import t from 'tap';
import { addUser, auditRows, clickAndWait, duoClick, e2eStack, freshCode, launch, shownAcr, shownAmr, typeCode, typePassword, walk, type Walk, isScreenPath, isLoginPath } from './kit.ts';

t.setTimeout(15 * 60_000);
const browser = await launch(t);
const stack = await e2eStack(t, { saml: false });
const { gateway: gw, oidcApp: app } = stack;
const emulator = stack.duo!.emulator;

/** From the sample app's home to the gateway's login page, then the password. */
async function signIn(w: Walk, username: string, shots = true) {
  await w.page.goto(app.url);
  if (shots) await w.step('app-signed-out');
  await clickAndWait(w, '#sign-in');
  await w.at((u) => u.origin === gw.url && isLoginPath(u.pathname));
  if (shots) await w.step('gateway-login');
  await typePassword(w, username);
}

const onDuo = (u: URL) => u.origin === stack.duo!.url;
const atChoice = (u: URL) => u.origin === gw.url && isScreenPath(u.pathname);

t.test('Duo approve: signed in, amr from Duo shown by the app; then RP-initiated logout', async (t) => {
  await addUser(stack, 'dana');
  const w = await walk(t, browser, stack, 'duo-approve');
  await signIn(w, 'dana');
  // Duo is the only factor dana has: straight to Duo, a top-level redirect to the emulator's prompt.
  await w.at(onDuo);
  await w.step('duo-prompt', { foreign: true });
  t.equal(await w.text('#duo-username'), 'dana', 'Duo was asked about dana');
  await duoClick(w, '#duo-approve');
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'swk', 'user', 'mfa'], 'Duo Push: pwd swk user mfa');
  t.equal(await shownAcr(w), 'https://refeds.org/profile/mfa');
  t.match(await w.text('#amr-words'), /password, software key \(Duo Push\)/);

  await clickAndWait(w, '#sign-out');
  await w.at((u) => u.origin === gw.url);
  await w.step('gateway-sign-out');
  await clickAndWait(w, '#logout-yes');
  await w.at((u) => u.origin === app.url && u.searchParams.get('signed_out') === '1');
  await w.step('app-signed-out-again');
  t.match(await w.text('#notice'), /signed out/);
  // Signed out for real: the next sign-in asks for the password again.
  await clickAndWait(w, '#sign-in');
  t.ok(await w.page.locator('#password').isVisible(), 'the gateway asks for the password again');
});

t.test('Duo deny → the factor choice with the reason → TOTP → signed in', async (t) => {
  const { user, secret } = await addUser(stack, 'dennis', { totp: true });
  const w = await walk(t, browser, stack, 'duo-deny');
  await signIn(w, 'dennis', false);
  await w.at(atChoice);
  await w.step('factor-choice');
  await clickAndWait(w, '#factor-duo');
  await w.at(onDuo);
  await duoClick(w, '#duo-deny');
  await w.at(atChoice);
  await w.step('choice-after-deny');
  t.equal(await w.text('#error'), 'Duo: The request was denied. Choose a method below to continue.');
  t.equal(await w.page.getAttribute('#error', 'role'), 'alert', 'announced to screen readers');
  t.ok(await w.page.isEnabled('#factor-duo'), 'Duo may be tried again');
  await clickAndWait(w, '#factor-totp');
  await w.step('totp-code');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
  t.match(await auditRows(stack, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'denied' }]);
});

t.test('Duo cancel (error redirect) → the factor choice with the reason', async (t) => {
  const { secret } = await addUser(stack, 'erin', { totp: true });
  const w = await walk(t, browser, stack, 'duo-error-redirect');
  await signIn(w, 'erin', false);
  await w.at(atChoice);
  await clickAndWait(w, '#factor-duo');
  await w.at(onDuo);
  // Cancel in the prompt: Duo answers redirect_uri?error=access_denied.
  await duoClick(w, '#duo-cancel');
  await w.at(atChoice);
  await w.step('choice-after-cancel');
  t.equal(w.url().searchParams.get('failed'), 'denied');
  t.match(await w.text('#error'), /^Duo: The request was denied\./);
  await clickAndWait(w, '#factor-totp');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
});

t.test('scripted error_redirect outcome → the factor choice', async (t) => {
  await addUser(stack, 'ezra', { totp: true });
  emulator.setOutcome('ezra', 'error_redirect');
  const w = await walk(t, browser, stack, 'duo-error-outcome');
  await signIn(w, 'ezra', false);
  await w.at(atChoice);
  await clickAndWait(w, '#factor-duo');
  await w.at(atChoice);
  await w.step('choice-after-error');
  t.equal(w.url().searchParams.get('failed'), 'denied');
  t.ok(await w.page.isVisible('#factor-totp'), 'TOTP offered');
});

t.test('a Duo that never returns: the dead end, Back to the choice; an answer after the state expired → the choice', async (t) => {
  const { user, secret } = await addUser(stack, 'nora', { totp: true });
  emulator.setOutcome('nora', 'no_redirect');
  const w = await walk(t, browser, stack, 'duo-no-return');
  await signIn(w, 'nora', false);
  await w.at(atChoice);
  const choice = w.url().href;
  await clickAndWait(w, '#factor-duo');
  await w.at(onDuo);
  await w.step('duo-dead-end', { foreign: true });
  t.ok(await w.page.isVisible('#duo-dead-end'), 'Duo never sends the browser back');
  // The user gives up and goes back: the choice page (no-store) is fetched again, every factor offered.
  await w.page.goBack({ waitUntil: 'load' });
  await w.at(atChoice);
  t.equal(w.url().href, choice);
  await w.step('choice-after-back');
  t.ok(await w.page.isEnabled('#factor-duo') && await w.page.isEnabled('#factor-totp'), 'Duo and TOTP offered again');

  // Second try, interactive this time, but the user is away longer than the state lives.
  emulator.setOutcome('nora', 'interactive');
  await clickAndWait(w, '#factor-duo');
  await w.at(onDuo);
  await gw.services.db.query(`UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND factor = 'duo'`, [user.id]);
  await duoClick(w, '#duo-approve');
  await w.at(atChoice);
  await w.step('choice-after-expired');
  t.equal(w.url().searchParams.get('failed'), 'expired');
  t.equal(await w.text('#error'), 'Duo: That attempt expired or was already used. Choose a method below to continue.');
  await clickAndWait(w, '#factor-totp');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa'], 'signed in with TOTP, not with the late Duo answer');
  t.match(await auditRows(stack, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'expired' }]);
});
