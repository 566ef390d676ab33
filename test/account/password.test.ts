// Changing the password: fresh second factor (step-up when stale, back at the same form), CSRF, the
// current password, the new password's rules, then every other session ends and old tokens die.
import t from 'tap';
import * as client from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { discover, loginAndGetTokens, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import { ACR_MFA } from '../../src/mfa/amr.ts';
import { HashingBusyError } from '../../src/users/passwords.ts';
import { accountCount, ageMfa, auditOf, checkPageRules, open, PASSWORD, portalGateway, signedInBrowser, submit, walk } from './helpers.ts';

const NEW_PASSWORD = 'violet kettle drums at noon';
const alert = (page: string) => /<div class="alert" role="alert" id="error">([^<]*)<\/div>/.exec(page)?.[1];

t.test('password change', async (t) => {
  const { gw, user, secret } = await portalGateway(t);
  const rp = await discover(gw);
  // Elsewhere: an application holding a refresh token, its SSO session, and a second portal session.
  const b2 = new Browser();
  const { tokens } = await loginAndGetTokens(gw, rp, 'alice', PASSWORD, { browser: b2 });
  t.ok(tokens.refresh_token, 'the application got a refresh token');
  const { b: p2 } = await signedInBrowser(gw, secret);
  // Here: the browser that changes the password.
  const { b } = await signedInBrowser(gw, secret);
  const passwordUnchanged = async () => (await gw.services.users.findById(user.id))!.passwordHash === user.passwordHash;

  const form = await open(gw, b, '/account/password', { secret });
  t.equal(form.url.pathname, '/account/password', 'second factor just completed: the form, no step-up');
  checkPageRules(t, form.page, 'password form');
  t.match(form.page, /autocomplete="current-password"/);
  t.match(form.page, /autocomplete="new-password"/);

  t.test('CSRF: a post without this session\'s token is refused', async (t) => {
    const fields = { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD };
    const none = await b.post(`${gw.url}/account/password`, fields);
    t.equal(none.status, 403);
    t.match(await none.text(), /GW_CSRF/);
    const otherForm = await open(gw, p2, '/account/password', { secret });
    const foreign = await submit(gw, b, otherForm.page, '/account/password', fields);
    t.equal(foreign.status, 403, 'a token of another session does not work here');
    t.ok(await passwordUnchanged());
    t.match(await auditOf(gw, user.id, 'account.password'), [{ outcome: 'denied', reason: 'csrf' }, { outcome: 'denied', reason: 'csrf' }]);
    t.equal(await accountCount(gw, 'password_change', 'denied'), 2);
  });

  t.test('wrong current password, weak and common new passwords are refused', async (t) => {
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ current: 'not my password', password: NEW_PASSWORD, confirm: NEW_PASSWORD }, 401, /current password is not right/],
      [{ current: PASSWORD, password: 'password1234', confirm: 'password1234' }, 400, /too common/],
      [{ current: PASSWORD, password: 'PASSWORD1234', confirm: 'PASSWORD1234' }, 400, /too common/],
      [{ current: PASSWORD, password: 'sh0rt', confirm: 'sh0rt' }, 400, /too short: use at least 8 characters/],
      [{ current: PASSWORD, password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}!` }, 400, /do not match/],
    ];
    for (const [fields, status, text] of cases) {
      const res = await submit(gw, b, form.page, '/account/password', fields);
      const page = await res.text();
      t.equal(res.status, status, `${fields.password}: ${status}`);
      t.match(alert(page), text);
      t.match(page, /aria-describedby="error/, 'the field points at the error');
    }
    t.ok(await passwordUnchanged());
    t.match((await auditOf(gw, user.id, 'account.password')).slice(2).map((a) => a.reason), ['wrong_password', 'common', 'common', 'too_short', 'mismatch']);
  });

  t.test('a full hashing queue: 503 with Retry-After, the same form, nothing recorded', async (t) => {
    // The queue itself is exercised for real in test/security/hash-queue.test.ts; here only its refusal.
    const { verify } = gw.services.passwords;
    gw.services.passwords.verify = () => Promise.reject(new HashingBusyError(3));
    t.teardown(() => { gw.services.passwords.verify = verify; });
    const audited = (await auditOf(gw, user.id, 'account.password')).length;
    const throttleRows = async () => (await gw.services.db.query(`SELECT key, failures FROM login_throttle ORDER BY key`)).rows;
    const throttleBefore = await throttleRows();
    const res = await submit(gw, b, form.page, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const page = await res.text();
    t.equal(res.status, 503);
    t.equal(res.headers.get('retry-after'), '3');
    t.match(alert(page), /Many people are signing in right now/);
    t.match(page, /action="\/account\/password"/, 'the form again, to submit once more');
    t.ok(await passwordUnchanged());
    t.equal((await auditOf(gw, user.id, 'account.password')).length, audited, 'not an attempt: no audit row');
    t.same(await throttleRows(), throttleBefore, 'and no throttle failure');
  });

  t.test('stale second factor: step-up (max_age=0, MFA acr), then back at the same form', async (t) => {
    await ageMfa(gw, user.id, gw.config.mfa.freshSeconds + 60);
    const res = await submit(gw, b, form.page, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    t.equal(res.status, 303, 'not changed: sent to re-authenticate');
    const auth = new URL(res.headers.get('location')!);
    t.equal(auth.pathname, '/oidc/auth');
    t.match(Object.fromEntries(auth.searchParams), { client_id: 'gatehouse-account', max_age: '0', acr_values: ACR_MFA, login_hint: 'alice' });
    t.ok(await passwordUnchanged());
    const submitted: string[] = [];
    const back = await walk(b, res, new URL(`${gw.url}/account/password`), { secret, submitted });
    t.match(submitted, [/^\/interaction\/[^/]+\/login$/, /^\/interaction\/[^/]+\/mfa\/(begin|totp)$/], 'through an interaction: the password, then the second factor');
    t.equal(back.url.pathname, '/account/password', 'back at the same action');
    t.equal(back.status, 200);
    t.match(back.page, /action="\/account\/password"/);
    t.equal(await accountCount(gw, 'password_change', 'step_up'), 1);
    form.page = back.page;
  });

  t.test('success: other sessions end, old tokens are revoked, this browser stays signed in', async (t) => {
    const res = await submit(gw, b, form.page, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    t.equal(res.status, 303);
    t.equal(res.headers.get('location'), '/account?done=password');
    const home = await b.get(`${gw.url}/account?done=password`);
    t.equal(home.status, 200, 'this portal session is kept');
    t.match(await home.text(), /role="status">Your password was changed\. You were signed out everywhere else\./);
    t.notOk(await passwordUnchanged());
    const [ok] = (await auditOf(gw, user.id, 'account.password')).filter((a) => a.outcome === 'success');
    t.match(ok, { client_id: 'gatehouse-account', detail: { sessions: 2, portalSessions: 1 } }, 'two other gateway sessions and one portal session ended');
    t.equal(await accountCount(gw, 'password_change', 'success'), 1);

    const refused = await client.refreshTokenGrant(rp, tokens.refresh_token!).then(() => undefined, (e: { error?: string }) => e);
    t.equal(refused?.error, 'invalid_grant', 'the old refresh token is dead');
    const sso = await startAuthorize(gw, rp, { browser: b2, scope: 'openid', extra: { prompt: 'none' } });
    t.equal(sso.at.searchParams.get('error'), 'login_required', 'the old SSO session no longer gives a code');
    t.equal((await p2.get(`${gw.url}/account`)).status, 303, 'the other portal session is signed out');
    const mine = await startAuthorize(gw, rp, { browser: b, scope: 'openid', extra: { prompt: 'none' } });
    t.ok(mine.at.searchParams.get('code'), 'this browser\'s gateway session is kept');

    const fresh = await startAuthorize(gw, rp, { scope: 'openid' });
    const page = await fresh.res.text();
    t.equal((await submitLogin(fresh.browser, gw, page, 'alice', PASSWORD)).status, 401, 'the old password no longer works');
    t.equal((await submitLogin(fresh.browser, gw, page, 'alice', NEW_PASSWORD)).status, 303, 'the new one does');
  });
});
