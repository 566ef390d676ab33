// SAML in a real browser: the sample SP (node-saml) → Gatehouse (password, Duo approve in the emulator)
// → auto-posted signed assertion whose AuthnContextClassRef says MFA; then the sample OIDC app signs in on
// the same session without any prompt; then single logout from the SP ends the gateway session too.
import t from 'tap';
import { addUser, clickAndWait, duoClick, e2eStack, launch, shownAmr, typePassword, walk, isLoginPath } from './kit.ts';

t.setTimeout(15 * 60_000);
const browser = await launch(t);
const stack = await e2eStack(t);
const { gateway: gw, oidcApp: app } = stack;
const sp = stack.samlSp!;

t.test('SAML SP-initiated login with MFA, SSO into the OIDC app, single logout', async (t) => {
  const { user } = await addUser(stack, 'sam');
  const w = await walk(t, browser, stack, 'saml-sso-slo');
  await w.page.goto(sp.url);
  await w.step('sp-signed-out');
  await clickAndWait(w, '#sign-in');
  await w.at((u) => u.origin === gw.url && isLoginPath(u.pathname));
  await w.step('gateway-login');
  t.match(await w.page.locator('main').innerText(), /Sample SAML service provider/, 'the login page names the SP');
  await typePassword(w, 'sam');
  await w.at((u) => u.origin === stack.duo!.url);
  await duoClick(w, '#duo-approve');
  // The gateway's auto-post page (a same-origin script submits it) lands on the SP's ACS, then its home.
  await w.at((u) => u.origin === sp.url && u.pathname === '/');
  await w.step('sp-signed-in');
  t.equal(await w.text('#authn-context'), 'https://refeds.org/profile/mfa', 'AuthnContextClassRef: MFA');
  t.equal(await w.text('#name-id'), 'sam@example.com');
  const attributes = await w.text('#attributes');
  t.match(attributes, /uid\s+sam/);
  t.match(attributes, /sam@example\.com/);
  t.match(attributes, /groups\s+staff/);
  const sessions = await gw.services.db.query('SELECT 1 FROM saml_sessions WHERE user_id = $1', [user.id]);
  t.equal(sessions.rowCount, 1, 'the gateway keeps the SAML session (for single logout)');

  // Single sign-on: the OIDC app gets a code without the gateway showing anything.
  await w.page.goto(app.url);
  const seen: string[] = [];
  const track = (f: { url(): string }) => { seen.push(f.url()); };
  w.page.on('framenavigated', track);
  await clickAndWait(w, '#sign-in');
  await w.at((u) => u.origin === app.url && u.pathname === '/');
  w.page.off('framenavigated', track);
  t.notOk(seen.some((u) => u.includes('/interaction/')), 'no gateway page on the way');
  await w.step('oidc-app-signed-in-by-sso');
  t.same(await shownAmr(w), ['pwd', 'swk', 'user', 'mfa'], 'the same sign-in, the same amr');

  // The gateway's own SAML pages get the same checks. The auto-post page normally submits itself at once
  // (its same-origin script); with the script held back it stays, and its Continue button does the same.
  const postScript = `${gw.url}/assets/saml-post.js`;
  await w.page.route(postScript, (r) => r.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: '' }));
  await w.page.goto(`${sp.url}/login`);
  // Signed in already: /saml/sso answers the AuthnRequest itself (src/protocols/saml/inline-authorize.ts).
  await w.at((u) => u.origin === gw.url && u.pathname === '/saml/sso');
  // Its size is mostly the signed SAMLResponse it carries (about 8 KB of base64), not page weight.
  await w.step('saml-auto-post', { budget: 24 * 1024 });
  t.match(await w.page.locator('main').innerText(), /Signing you in to Sample SAML service provider/, 'the page names the SP');
  await w.page.unroute(postScript);
  await clickAndWait(w, '#continue');
  await w.at((u) => u.origin === sp.url && u.pathname === '/');
  t.equal(await w.text('#authn-context'), 'https://refeds.org/profile/mfa', 'Continue without the script signs in too');
  // Not a SAML request at all: the gateway's SAML error page, with a reference code.
  await w.page.goto(`${gw.url}/saml/sso`);
  await w.step('saml-error');
  t.match(await w.text('#error-code'), /^GW_SAML_\w+ \(/);

  // Single logout from the SP: signed LogoutRequest → gateway ends the session → LogoutResponse back.
  await w.page.goto(sp.url);
  await clickAndWait(w, '#sign-out');
  await w.at((u) => u.origin === sp.url && u.searchParams.get('signed_out') === '1');
  await w.step('sp-signed-out-slo');
  t.match(await w.text('#notice'), /signed out/);
  t.equal((await gw.services.db.query('SELECT 1 FROM saml_sessions WHERE user_id = $1', [user.id])).rowCount, 0, 'no SAML session left');

  // The gateway session is gone too: the OIDC app's next sign-in asks for the password.
  await w.page.goto(`${app.url}/login`);
  await w.at((u) => u.origin === gw.url && isLoginPath(u.pathname));
  t.ok(await w.page.isVisible('#password'), 'the password is asked again');
  await w.step('gateway-login-after-slo');
});
