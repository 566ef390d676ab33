// Keyboard only: from the sample app through password, factor choice and code, back, and out again,
// with Tab, typing and Enter (focus lands where the user needs it; every stop shows a visible focus).
// Then the pages no other browser test passes through (consent, an application error, an expired
// sign-in, the gateway's own sign-out pages, a phone-sized screen) get the same checks.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { addUser, e2eStack, freshCode, launch, shownAmr, walk, PASSWORD, clickAndWait, typePassword, typeCode, type Walk, isScreenPath, isLoginPath } from './kit.ts';

t.setTimeout(15 * 60_000);
const browser = await launch(t);
// Themed with a logo (ui.logoFile): every page here carries it inline, under the same audit and budget.
const LOGO = fileURLToPath(new URL('./fixtures/logo.svg', import.meta.url));
const stack = await e2eStack(t, { duo: false, saml: false, gatewayOverrides: { ui: { logoFile: LOGO } } });
const { gateway: gw, oidcApp: app } = stack;
const partner = stack.partnerApp!;

const focused = (w: Walk) => w.page.evaluate(() => document.activeElement?.id ?? '');
/** The element autofocus settles on: Chromium applies `autofocus` a moment after the load event. */
const autofocused = async (w: Walk, id: string) => {
  await w.page.waitForFunction((x) => document.activeElement?.id === x, id, { timeout: 3000 }).catch(() => undefined);
  return focused(w);
};

/** Presses Tab until the element with this id has the focus. */
async function tabTo(w: Walk, id: string, max = 25) {
  for (let i = 0; i < max; i++) {
    await w.page.keyboard.press('Tab');
    if (await focused(w) === id) return;
  }
  throw new Error(`#${id} not reached with Tab`);
}

/** Presses Enter on the focused control and waits for the page it leads to. */
async function enter(w: Walk) {
  await Promise.all([w.page.waitForNavigation({ waitUntil: 'load' }), w.page.keyboard.press('Enter')]);
}

t.test('keyboard-only sign-in and sign-out', async (t) => {
  const { secret } = await addUser(stack, 'kim', { totp: true });
  const w = await walk(t, browser, stack, 'keyboard-only');
  await w.page.goto(app.url);
  await w.step('app-signed-out');
  await tabTo(w, 'sign-in');
  await enter(w);
  await w.at((u) => u.origin === gw.url && isLoginPath(u.pathname));
  t.equal(await autofocused(w, 'username'), 'username', 'the cursor starts in the username field');
  t.equal(await w.page.getAttribute('.brand img', 'alt'), 'Gatehouse', 'the logo, named by the product name');
  t.ok(await w.page.evaluate(() => (document.querySelector('.brand img') as HTMLImageElement).naturalWidth > 0), 'and shown (the CSP lets the data: image through)');
  await w.page.keyboard.type('kim');
  await w.page.keyboard.press('Tab');
  t.equal(await focused(w), 'password', 'Tab goes on to the password');
  await w.page.keyboard.type(PASSWORD);
  await w.step('gateway-login-filled');
  await tabTo(w, 'password');
  await enter(w);

  await w.at((u) => u.origin === gw.url && isScreenPath(u.pathname));
  await w.step('factor-choice');
  await tabTo(w, 'factor-totp');
  await enter(w);
  t.equal(await autofocused(w, 'code'), 'code', 'the cursor waits in the code field');
  await w.page.keyboard.type(await freshCode(secret));
  await w.step('totp-code-filled');
  await tabTo(w, 'code');
  await enter(w);

  await w.at((u) => u.origin === app.url && u.pathname === '/');
  await w.step('app-signed-in');
  t.same(await shownAmr(w), ['pwd', 'otp', 'mfa']);
  await tabTo(w, 'sign-out');
  await enter(w);
  await w.at((u) => u.origin === gw.url);
  t.equal(await autofocused(w, 'logout-yes'), 'logout-yes', '"Sign out" has the focus');
  await w.step('gateway-sign-out');
  await tabTo(w, 'logout-yes');
  await enter(w);
  await w.at((u) => u.origin === app.url && u.searchParams.get('signed_out') === '1');
  await w.step('app-signed-out-again');
});

t.test('every other page: consent, errors, expiry, the gateway sign-out pages, a phone', async (t) => {
  const { secret } = await addUser(stack, 'pat', { totp: true });
  const w = await walk(t, browser, stack, 'other-pages');

  // A third-party application: the user is asked to allow it.
  await w.page.goto(partner.url);
  await w.step('partner-app');
  await clickAndWait(w, '#sign-in');
  await typePassword(w, 'pat');
  await w.at((u) => u.origin === gw.url && isScreenPath(u.pathname));
  await clickAndWait(w, '#factor-totp');
  await typeCode(w, await freshCode(secret));
  await w.at((u) => u.origin === gw.url && isScreenPath(u.pathname));
  t.equal(await autofocused(w, 'allow'), 'allow', 'the consent page focuses its main action');
  await w.step('consent');
  t.match(await w.page.locator('main').innerText(), /Partner app/);
  await clickAndWait(w, '#deny');
  await w.at((u) => u.origin === partner.url);
  await w.step('partner-app-denied');
  t.equal(await w.text('#error'), 'The sign-in was cancelled.');

  // An application sending a redirect_uri it did not register: the gateway's own error page.
  await w.page.goto(`${gw.url}/oidc/auth?client_id=demo-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`);
  await w.step('oidc-error');
  t.match(await w.text('#error'), /^The application asked Gatehouse to send you back to an address it has not registered/, 'said plainly');
  t.equal(await w.text('#error-code'), 'GW_OIDC_REDIRECT_URI');

  // A sign-in page that has expired (or belongs to another browser).
  await w.page.goto(`${gw.url}/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
  await w.step('expired-sign-in');
  t.equal(await w.text('#error-code'), 'GW_INTERACTION_EXPIRED');

  // Signing out at the gateway itself (no application asked): confirmation, then the done page.
  await w.page.goto(`${gw.url}/oidc/session/end`);
  await w.step('gateway-sign-out');
  await clickAndWait(w, '#logout-yes');
  await w.step('gateway-signed-out');
  t.ok(await w.page.isVisible('#signed-out'));

  // A phone: the login page at 360 px.
  const phone = await walk(t, browser, stack, 'phone', { viewport: { width: 360, height: 740 } });
  await phone.page.goto(app.url);
  await phone.step('app-signed-out');
  await clickAndWait(phone, '#sign-in');
  await phone.step('gateway-login');
  await typePassword(phone, 'pat', 'wrong password');
  await phone.step('gateway-login-error');
});
