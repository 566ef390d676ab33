// TOTP in a real browser, TOTP-only gateway (enrollment during sign-in is offered only without Duo):
// first sign-in enrolls an authenticator app (QR + key, a wrong code refused, ten recovery codes shown
// once), the sample app shows amr pwd otp mfa; after signing out, a second sign-in asks for a code.
import t from 'tap';
import { codeAt, stepAt } from '../../src/mfa/totp/totp-code.ts';
import { addUser, clickAndWait, e2eStack, ENROLL_PAGE_BUDGET_BYTES, freshCode, launch, shownAcr, shownAmr, typeCode, typePassword, walk, isScreenPath } from './kit.ts';

t.setTimeout(15 * 60_000);
const browser = await launch(t);
const stack = await e2eStack(t, { duo: false, saml: false });
const { gateway: gw, oidcApp: app } = stack;

t.test('first sign-in enrolls TOTP; the second asks for a code', async (t) => {
  const { user } = await addUser(stack, 'tom');
  const w = await walk(t, browser, stack, 'totp-enroll-and-login');
  await w.page.goto(app.url);
  await w.step('app-signed-out');
  await clickAndWait(w, '#sign-in');
  await w.step('gateway-login');

  // A wrong password first: the reason is announced, the username kept.
  await typePassword(w, 'tom', 'not the password');
  await w.step('gateway-login-wrong-password');
  t.equal(await w.text('#error'), 'The username or password is incorrect.');
  t.equal(await w.page.inputValue('#username'), 'tom', 'the username is kept');
  await typePassword(w, 'tom');

  await w.at((u) => u.pathname.endsWith('/mfa/enroll'));
  await w.step('enroll', { budget: ENROLL_PAGE_BUDGET_BYTES });
  t.equal(await w.page.getAttribute('.qr', 'role'), 'img', 'the QR code is an image with a text alternative');
  t.equal(await w.page.locator('.qr svg').count(), 1, 'an inline SVG (no external QR service sees the seed)');
  const secret = (await w.text('#totp-secret')).replace(/\s/g, '');
  t.match(secret, /^[A-Z2-7]{32}$/, 'the key is shown for typing');

  const now = stepAt(Date.now());
  const near = new Set([-2, -1, 0, 1, 2].map((o) => codeAt(secret, now + o)));
  let wrong = '000000';
  for (let i = 1; near.has(wrong); i++) wrong = String(i * 7919 % 1_000_000).padStart(6, '0');
  await typeCode(w, wrong);
  await w.step('enroll-wrong-code', { budget: ENROLL_PAGE_BUDGET_BYTES });
  t.match(await w.text('#error'), /not right/);

  await typeCode(w, await freshCode(secret));
  await w.step('recovery-codes');
  const codes = (await w.text('#recovery-codes')).split('\n').map((s) => s.trim()).filter(Boolean);
  t.equal(codes.length, 10, 'ten recovery codes shown once');
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 10);
  await clickAndWait(w, '#continue');
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
  t.equal(await shownAcr(w), 'https://refeds.org/profile/mfa');

  await clickAndWait(w, '#sign-out');
  await w.step('gateway-sign-out');
  await clickAndWait(w, '#logout-yes');
  await w.at((u) => u.origin === app.url && u.searchParams.get('signed_out') === '1');

  // Second sign-in: password, then the authenticator app's code form straight away (the last used
  // factor), with the choice one click away.
  await clickAndWait(w, '#sign-in');
  await typePassword(w, 'tom');
  await w.at((u) => u.origin === gw.url && isScreenPath(u.pathname));
  await w.page.waitForFunction(() => document.activeElement?.id === 'code', undefined, { timeout: 3000 }).catch(() => undefined); // autofocus settles after load
  t.equal(await w.page.evaluate(() => document.activeElement?.id), 'code', 'the code form of the last used factor, its field focused');
  await w.step('totp-code-last-used');
  await clickAndWait(w, '#use-another');
  t.match(await w.text('#factor-totp'), /\(last used\)/, '"Use another method": the choice, the authenticator app pre-selected');
  await w.page.waitForFunction(() => document.activeElement?.id === 'factor-totp', undefined, { timeout: 3000 }).catch(() => undefined); // autofocus settles after load
  t.equal(await w.page.evaluate(() => document.activeElement?.id), 'factor-totp', 'and focused');
  await w.step('factor-choice');
  await clickAndWait(w, '#factor-totp');
  await w.step('totp-code');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in-again');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
  t.equal(await w.text('#claim-preferred_username'), '"tom"');
});
