// Managing second factors in the portal: the last-factor rule, removing and enrolling the authenticator
// app (QR, confirmation code, recovery codes shown once), regenerating recovery codes after a step-up.
import t from 'tap';
import { csrfToken } from '../../src/account/csrf.ts';
import type { PortalState } from '../../src/account/session.ts';
import { policyClient, totpNow, wrongCode, steadyStep } from '../helpers/mfa.ts';
import { accountCount, ageMfa, auditOf, checkPageRules, open, portalGateway, signedInBrowser, submit, walk } from './helpers.ts';
import type { Gateway } from '../helpers/gateway.ts';

/** The token the portal would put in `form` for this user's (single) portal session. */
async function tokenFor(gw: Gateway, userId: string, form: string): Promise<string> {
  const r = await gw.services.db.query<{ data: PortalState }>('SELECT data FROM account_sessions WHERE user_id = $1', [userId]);
  return csrfToken(r.rows[0]!.data, form);
}

t.test('the last factor cannot be removed while MFA is required', async (t) => {
  const { gw, user, secret } = await portalGateway(t); // account.mfa = required (default)
  const { b, home } = await signedInBrowser(gw, secret);
  t.match(home.page, /id="remove-totp"/);
  const page = await b.get(`${gw.url}/account/totp/remove`);
  const text = await page.text();
  t.equal(page.status, 409);
  t.match(text, /role="alert" id="error">You cannot remove your authenticator app: it is your only second factor/);
  t.notMatch(text, /<form method="post" action="\/account\/totp\/remove"/, 'no button to press');
  const post = await b.post(`${gw.url}/account/totp/remove`, { csrf: await tokenFor(gw, user.id, 'totp-remove') });
  t.equal(post.status, 409, 'a valid post is refused too');
  t.ok(await gw.services.mfa.totp.isEnrolled(user.id), 'still enrolled');
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 10, 'recovery codes kept');
  t.match(await auditOf(gw, user.id, 'account.totp.remove'), [{ outcome: 'denied', reason: 'last_factor' }]);
  t.equal(await accountCount(gw, 'totp_remove', 'denied'), 1);
});

t.test('no application requires MFA: remove, then enroll again from the portal', async (t) => {
  const { gw, user, secret, recoveryCodes } = await portalGateway(t, {
    overrides: { account: { mfa: 'optional' }, oidc: { clients: [policyClient('optional')] } },
  });
  const { b } = await signedInBrowser(gw, secret);

  const confirm = await open(gw, b, '/account/totp/remove', { secret });
  t.equal(confirm.status, 200);
  checkPageRules(t, confirm.page, 'remove page');
  const csrfMissing = await b.post(`${gw.url}/account/totp/remove`, {});
  t.equal(csrfMissing.status, 403, 'no CSRF token, no removal');
  t.ok(await gw.services.mfa.totp.isEnrolled(user.id));
  const removed = await submit(gw, b, confirm.page, '/account/totp/remove');
  t.equal(removed.status, 303);
  t.equal(removed.headers.get('location'), '/account?done=totp_removed');
  t.notOk(await gw.services.mfa.totp.isEnrolled(user.id), 'authenticator app removed');
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 0, 'its recovery codes with it');
  t.notOk(await gw.services.mfa.recovery.use(user.id, recoveryCodes[0]!), 'an old recovery code no longer works');
  const home = await (await b.get(`${gw.url}/account?done=totp_removed`)).text();
  t.match(home, /role="status">The authenticator app was removed, with its recovery codes\./);
  t.match(home, /Authenticator app: <strong>not set up<\/strong>/);
  t.match(home, /No method used yet\./, 'the removed factor is no longer "used last"');
  t.match(await auditOf(gw, user.id, 'account.totp.remove'), [{ outcome: 'denied', reason: 'csrf' }, { outcome: 'success' }]);

  const enroll = await b.get(`${gw.url}/account/totp/enroll`);
  const page = await enroll.text();
  t.equal(enroll.status, 200, 'no other factor: enrolling needs no step-up');
  checkPageRules(t, page, 'enroll page');
  t.match(page, /<div class="qr" role="img" aria-label="QR code for your authenticator app"><svg/, 'QR code, inline SVG');
  const newSecret = /id="totp-secret">([A-Z2-7 ]+)</.exec(page)![1]!.replace(/ /g, '');
  t.equal((await b.get(`${gw.url}/account/totp/enroll`)).status, 200);
  t.equal((await gw.services.mfa.totp.find(user.id))!.secret, newSecret, 'reloading keeps the same pending seed');

  await steadyStep();
  const wrong = await submit(gw, b, page, '/account/totp/enroll', { code: wrongCode(newSecret) });
  t.equal(wrong.status, 401);
  t.match(await wrong.text(), /That code is not right/);
  t.notOk(await gw.services.mfa.totp.isEnrolled(user.id));
  const ok = await submit(gw, b, page, '/account/totp/enroll', { code: totpNow(newSecret) });
  const codesPage = await ok.text();
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('cache-control'), 'no-store');
  const codes = [...codesPage.matchAll(/<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})<\/li>/g)].map((m) => m[1]!);
  t.equal(codes.length, 10, 'ten recovery codes, shown once');
  t.ok(await gw.services.mfa.totp.isEnrolled(user.id), 'enrolled');
  t.ok(await gw.services.mfa.recovery.use(user.id, codes[0]!), 'the codes shown are the valid ones');
  t.equal((await b.get(`${gw.url}/account/totp/enroll`)).status, 303, 'already set up: back to the overview');
  t.match(await auditOf(gw, user.id, 'account.totp.enroll'), [{ outcome: 'failure', reason: 'invalid' }, { outcome: 'success' }]);
  t.equal(await accountCount(gw, 'totp_enroll', 'success'), 1);
});

t.test('regenerate recovery codes: step-up when stale, back at the same action, old codes void', async (t) => {
  const { gw, user, secret, recoveryCodes } = await portalGateway(t);
  const { b } = await signedInBrowser(gw, secret);
  await ageMfa(gw, user.id, gw.config.mfa.freshSeconds + 5);
  const res = await b.get(`${gw.url}/account/recovery`);
  t.equal(res.status, 303);
  t.match(new URL(res.headers.get('location')!).searchParams.get('max_age'), '0', 'step-up');
  const back = await walk(b, res, new URL(`${gw.url}/account/recovery`), { secret });
  t.equal(back.url.pathname, '/account/recovery', 'after MFA: back at the same action');
  t.match(back.page, /id="regenerate"/);
  const done = await submit(gw, b, back.page, '/account/recovery');
  const page = await done.text();
  t.equal(done.status, 200);
  const codes = [...page.matchAll(/<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})<\/li>/g)].map((m) => m[1]!);
  t.equal(codes.length, 10);
  t.notOk(await gw.services.mfa.recovery.use(user.id, recoveryCodes[0]!), 'an old code no longer works');
  t.ok(await gw.services.mfa.recovery.use(user.id, codes[0]!), 'a new one does');
  t.match(await auditOf(gw, user.id, 'account.recovery.regenerate'), [{ outcome: 'success', client_id: 'gatehouse-account' }]);
  t.equal(await accountCount(gw, 'recovery_regenerate', 'step_up'), 1);
  t.equal(await accountCount(gw, 'recovery_regenerate', 'success'), 1);
});
