// A recovery code instead of the phone, then the account portal: changing the password demands a fresh
// second factor (the portal sends the user through the gateway again: password and a factor), after
// which the change goes through and the new password signs in.
import t from 'tap';
import { addUser, auditRows, clickAndWait, e2eStack, freshCode, launch, PASSWORD, shownAmr, typeCode, typePassword, walk, isScreenPath, isLoginPath } from './kit.ts';

t.setTimeout(15 * 60_000);
const browser = await launch(t);
const stack = await e2eStack(t, { duo: false, saml: false });
const { gateway: gw, oidcApp: app } = stack;
const NEW_PASSWORD = 'lantern orchard pebble staircase';
const atChoice = (u: URL) => u.origin === gw.url && isScreenPath(u.pathname);

t.test('recovery code sign-in, then a password change in the portal with a fresh factor', async (t) => {
  const { user, secret, recoveryCodes } = await addUser(stack, 'rita', { totp: true });
  const w = await walk(t, browser, stack, 'recovery-and-portal');
  await w.page.goto(app.url);
  await clickAndWait(w, '#sign-in');
  await typePassword(w, 'rita');
  await w.at(atChoice);
  await w.step('factor-choice');
  await clickAndWait(w, '#factor-recovery');
  await w.step('recovery-code');
  t.equal(await w.page.getAttribute('#code', 'autocomplete'), 'one-time-code');

  await typeCode(w, 'AAAA-BBBB-CCCC');
  await w.step('recovery-code-wrong');
  t.match(await w.text('#error'), /not valid or was already used/);
  t.match(await w.text('#remaining'), /4 tries left/);
  await typeCode(w, recoveryCodes[0]!);
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa'], 'a recovery code counts as a second factor');
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 9, 'and is spent');
  t.match(await auditRows(stack, user.id, 'mfa.recovery'), [{ outcome: 'failure' }, { outcome: 'success' }]);

  // The portal rides the same single sign-on session: no prompt.
  await w.page.goto(`${gw.url}/account`);
  await w.at((u) => u.origin === gw.url && u.pathname === '/account');
  await w.step('portal-home');
  t.equal(await w.text('#username'), 'rita');
  t.equal(await w.text('#recovery-remaining'), '9');

  // The second factor is no longer fresh (older than mfa.freshSeconds): the change asks for it again.
  await gw.services.db.query(
    `UPDATE account_sessions SET data = jsonb_set(data, '{mfaAt}', to_jsonb(floor(extract(epoch FROM now()))::bigint - $2)) WHERE user_id = $1`,
    [user.id, gw.config.mfa.freshSeconds + 60]);
  await clickAndWait(w, '#change-password');
  await w.at((u) => u.origin === gw.url && isLoginPath(u.pathname));
  t.equal(await w.page.inputValue('#username'), 'rita', 'the username is filled in');
  await w.page.waitForFunction(() => document.activeElement?.id === 'password', undefined, { timeout: 3000 }).catch(() => undefined); // autofocus settles after load
  t.equal(await w.page.evaluate(() => document.activeElement?.id), 'password', 'the cursor waits in the password field');
  await w.step('step-up-login');
  await typePassword(w, 'rita');
  await w.at(atChoice);
  await clickAndWait(w, '#factor-totp');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === gw.url && u.pathname === '/account/password');
  await w.step('password-form');

  await w.page.fill('#current', PASSWORD);
  await w.page.fill('#password', 'password');
  await w.page.fill('#confirm', 'password');
  await clickAndWait(w, '#change');
  await w.step('password-form-refused');
  t.ok(await w.page.isVisible('#error'), 'a weak password is refused with a reason');

  await w.page.fill('#current', PASSWORD);
  await w.page.fill('#password', NEW_PASSWORD);
  await w.page.fill('#confirm', NEW_PASSWORD);
  await clickAndWait(w, '#change');
  await w.at((u) => u.origin === gw.url && u.pathname === '/account');
  await w.step('portal-password-changed');
  t.match(await w.page.locator('[role=status]').first().innerText(), /password was changed/i);
  t.match(await auditRows(stack, user.id, 'account.password'), [{ outcome: 'failure' }, { outcome: 'success' }]);
  t.ok(await gw.services.passwords.verify((await gw.services.users.findById(user.id))!.passwordHash, NEW_PASSWORD), 'the new password is stored');

  // The portal's other task pages, while the second factor is still fresh: new recovery codes (confirm,
  // then shown once), removing the authenticator app (the last factor while MFA is required: refused
  // with a reason), signing out everywhere.
  await w.page.goto(`${gw.url}/account/recovery`);
  await w.at((u) => u.origin === gw.url && u.pathname === '/account/recovery');
  await w.step('portal-recovery-confirm');
  await clickAndWait(w, '#regenerate');
  await w.step('portal-recovery-codes');
  t.equal((await w.text('#recovery-codes')).split('\n').filter((l) => l.trim()).length, 10, 'ten new codes');
  await clickAndWait(w, '#done');
  await w.page.goto(`${gw.url}/account/totp/remove`);
  await w.step('portal-totp-remove');
  await w.page.goto(`${gw.url}/account/sign-out-everywhere`);
  await w.at((u) => u.origin === gw.url && u.pathname === '/account/sign-out-everywhere');
  await w.step('portal-sign-out-everywhere');
  t.ok(await w.page.isVisible('#confirm'), 'one button, after the explanation');
});
