// Duo unreachable (the emulator's listener closed) before the redirect, in a real browser.
// Fail mode closed (default): Duo is shown as unavailable on the choice, TOTP signs in.
// Fail mode open: the user passes, the sample app shows amr without `mfa`, and the audit log says fail-open.
import t from 'tap';
import { accessible, addUser, auditRows, clickAndWait, e2eStack, freshCode, launch, shownAcr, shownAmr, typeCode, typePassword, walk, isScreenPath } from './kit.ts';
import { duoReachable } from '../helpers/duo.ts';

t.setTimeout(15 * 60_000);
const browser = await launch(t);

t.test('fail mode closed: Duo shown unavailable, TOTP offered and signs in', async (t) => {
  const stack = await e2eStack(t, { saml: false, gatewayOverrides: { mfa: { duo: { failMode: 'closed', healthCacheSeconds: 0 } } } });
  const { gateway: gw, oidcApp: app } = stack;
  const emulator = stack.duo!.emulator;
  const { user, secret } = await addUser(stack, 'carla', { totp: true });
  emulator.setFault('down');
  t.teardown(() => emulator.setFault(null));
  const w = await walk(t, browser, stack, 'duo-down-closed');
  await w.page.goto(app.url);
  await clickAndWait(w, '#sign-in');
  await typePassword(w, 'carla');
  await w.at((u) => u.origin === gw.url && isScreenPath(u.pathname));
  await w.step('choice-duo-unavailable');
  t.equal(await w.page.getAttribute('#factor-duo', 'aria-disabled'), 'true', 'the Duo button is marked unavailable');
  t.match(await w.text('#factor-duo'), /Unavailable right now/, 'and says so');
  t.ok(await w.page.isEnabled('#factor-totp'), 'TOTP is offered');
  // The reason reaches keyboard and screen-reader users: the button stays in the Tab order, and the
  // browser's accessibility tree (what a screen reader announces on focus) carries the reason.
  await w.page.mouse.click(1, 1);
  for (let i = 0; i < 10 && await w.page.evaluate(() => document.activeElement?.id) !== 'factor-duo'; i++) await w.page.keyboard.press('Tab');
  t.equal(await w.page.evaluate(() => document.activeElement?.id), 'factor-duo', 'Tab reaches the unavailable Duo button');
  const ax = await accessible(w, '#factor-duo');
  t.match(ax, { role: 'button', name: 'Duo Unavailable right now', disabled: true }, 'announced as an unavailable button');
  t.match(ax.description, /^Duo is not answering, so it cannot be used for this sign-in\. Choose another method/, 'with the visible reason as its description');
  t.ok(await w.page.isVisible('#factor-duo-why'), 'the reason is visible text, not a tooltip');
  // Pressed anyway: the same choice, the reason as an alert, TOTP still there.
  await Promise.all([w.page.waitForNavigation({ waitUntil: 'load' }), w.page.keyboard.press('Enter')]);
  await w.at((u) => u.origin === gw.url && isScreenPath(u.pathname));
  await w.step('choice-after-pressing-unavailable-duo');
  t.equal(await w.text('#error'), 'Duo: That method is unavailable right now. Choose a method below to continue.');
  await clickAndWait(w, '#factor-totp');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
  t.notOk((await auditRows(stack, user.id, 'mfa.duo')).some((r) => r.outcome === 'fail-open'), 'no fail-open in closed mode');
  emulator.setFault(null);
  await duoReachable(emulator);
});

t.test('fail mode open: signed in without mfa in amr, audited as fail-open', async (t) => {
  const stack = await e2eStack(t, { saml: false, gatewayOverrides: { mfa: { duo: { failMode: 'open', healthCacheSeconds: 0 } } } });
  const { oidcApp: app } = stack;
  const emulator = stack.duo!.emulator;
  const { user } = await addUser(stack, 'otto');
  emulator.setFault('down');
  t.teardown(() => emulator.setFault(null));
  const w = await walk(t, browser, stack, 'duo-down-open');
  await w.page.goto(app.url);
  await clickAndWait(w, '#sign-in');
  await w.step('gateway-login');
  await typePassword(w, 'otto');
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in-password-only');
  t.same(await shownAmr(w), ['pwd'], 'the gateway claims no more than happened');
  t.equal(await shownAcr(w), 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport');
  t.equal(await w.text('#amr-words'), 'password');
  t.match(await auditRows(stack, user.id, 'mfa.duo'), [{ outcome: 'fail-open', reason: 'fail-open', client_id: 'demo-app', detail: { amr: ['pwd'] } }], 'audited');
  t.ok(stack.logs.some((l) => l.includes('fail-open') || l.includes('fail_open')), 'and logged');
  emulator.setFault(null);
  await duoReachable(emulator);
});
