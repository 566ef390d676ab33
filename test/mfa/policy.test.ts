// When the MFA step runs (src/mfa/policy.ts through the `mfa` prompt), proven with real OIDC logins:
// the client's policy (off / optional / required), acr_values, single sign-on with and without a second
// factor already in the session, prompt=login, and the last used factor pre-selected (TOTP: its code form
// straight away, the choice one click behind it).
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import {
  ACR_MFA, ACR_PASSWORD, AMR_TOTP, atClient, auditRows, chooseFactor, enrollTotp, freshTotp, wrongCode, idClaims, isChoicePage,
  isCodePage, isLoginPage, interactionPage, login, policyClient, submitCode, type Flow,
} from '../helpers/mfa.ts';

const off = policyClient('off');
const optional = policyClient('optional');
const required = policyClient('required');
const required2 = policyClient('required', 'app-required-2');
const gw = await startGateway(t, {
  overrides: {
    oidc: { clients: [off, optional, required, required2] }, mfa: { factors: ['totp'] }, security: { ipLimitPerMinute: 10_000 },
  },
});

async function userWithTotp(username: string) {
  const user = await addUser(gw, username);
  const { secret } = await enrollTotp(gw, user.id);
  return { user, secret };
}

/** From the factor choice (or the TOTP form it skips to), signs in with a fresh TOTP code. */
async function passTotp(f: Flow, secret: string): Promise<Flow> {
  if (!isChoicePage(f.page) && !isCodePage(f.page)) throw new Error(`expected the factor choice or the TOTP form, got ${f.status} ${f.url.href}`);
  await chooseFactor(f, 'totp');
  await submitCode(f, await freshTotp(secret));
  return f;
}

const passwordLogins = async (userId: string) => (await auditRows(gw, userId, 'login.password')).length;

t.test('off: no MFA even for a user with TOTP (amr pwd, acr PasswordProtectedTransport)', async (t) => {
  const { user } = await userWithTotp('olive');
  const f = await login(gw, off, 'olive');
  t.ok(atClient(f), 'straight back to the client after the password');
  const claims = await idClaims(f);
  t.same(claims.amr, ['pwd']);
  t.equal(claims.acr, ACR_PASSWORD);
  t.same((await auditRows(gw, user.id)).map((r) => r.type), ['login.password'], 'no MFA step ran');
});

t.test('optional: MFA only when the user has TOTP', async (t) => {
  await addUser(gw, 'opal');
  const without = await login(gw, optional, 'opal');
  t.ok(atClient(without), 'no factor: signed in with the password');
  t.same((await idClaims(without)).amr, ['pwd']);

  const { secret } = await userWithTotp('otto');
  const withTotp = await login(gw, optional, 'otto');
  t.ok(isChoicePage(withTotp.page), 'TOTP enrolled: the MFA step runs');
  await passTotp(withTotp, secret);
  const claims = await idClaims(withTotp);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
});

t.test('required: MFA', async (t) => {
  const { secret } = await userWithTotp('quinn');
  const f = await login(gw, required, 'quinn');
  t.notOk(atClient(f));
  t.ok(isChoicePage(f.page), 'the factor choice after the password');
  await passTotp(f, secret);
  const claims = await idClaims(f);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
});

t.test('acr_values=https://refeds.org/profile/mfa on an off client: MFA', async (t) => {
  const { secret } = await userWithTotp('alex');
  const f = await login(gw, off, 'alex', { extra: { acr_values: ACR_MFA } });
  t.ok(isChoicePage(f.page), 'the RP asked for MFA: the factor choice');
  await passTotp(f, secret);
  const claims = await idClaims(f);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
});

t.test('single sign-on after MFA: a second client asks for nothing', async (t) => {
  const { user, secret } = await userWithTotp('sso');
  const first = await login(gw, required, 'sso');
  await passTotp(first, secret);
  const firstClaims = await idClaims(first);
  const second = await login(gw, required2, 'sso', { browser: first.browser });
  t.ok(atClient(second), 'no password page, no factor page');
  const claims = await idClaims(second);
  t.equal(claims.aud, required2.clientId);
  t.same(claims.amr, AMR_TOTP, 'the session keeps its second factor');
  t.equal(claims.acr, ACR_MFA);
  t.equal(claims.auth_time, firstClaims.auth_time, 'the same authentication');
  t.equal(await passwordLogins(user.id), 1);
  t.equal((await auditRows(gw, user.id, 'mfa.totp')).length, 1, 'one MFA step in total');
});

t.test('single sign-on with the password only: a required client steps up with MFA, not the password', async (t) => {
  const { user, secret } = await userWithTotp('steppy');
  const first = await login(gw, off, 'steppy');
  t.same((await idClaims(first)).amr, ['pwd']);
  const second = await login(gw, required, 'steppy', { browser: first.browser });
  t.notOk(isLoginPage(second.page), 'not the password page');
  t.ok(isChoicePage(second.page), 'the factor choice');
  await passTotp(second, secret);
  const claims = await idClaims(second);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
  t.equal(await passwordLogins(user.id), 1, 'the password was asked once');
});

t.test('prompt=login: password and MFA again', async (t) => {
  const { user, secret } = await userWithTotp('paula');
  const first = await login(gw, required, 'paula');
  await passTotp(first, secret);
  await idClaims(first);
  const again = await login(gw, required, 'paula', { browser: first.browser, extra: { prompt: 'login' } });
  t.equal(await passwordLogins(user.id), 2, 'the password page was shown and submitted again');
  t.ok(isCodePage(again.page), 'then the second factor again (the last used TOTP, directly)');
  await passTotp(again, secret);
  t.same((await idClaims(again)).amr, AMR_TOTP);
  t.equal((await auditRows(gw, user.id, 'mfa.totp')).filter((r) => r.outcome === 'success').length, 2);
});

t.test('the last used factor is pre-selected on the next login', async (t) => {
  const { secret } = await userWithTotp('lu');
  const first = await login(gw, required, 'lu');
  t.notMatch(first.page, /\(last used\)|autofocus/, 'nothing pre-selected before any use');
  await passTotp(first, secret);
  await idClaims(first);
  const next = await login(gw, required, 'lu');
  t.ok(isCodePage(next.page), 'the TOTP code form straight away, in place of the choice');
  t.match(next.url.pathname, /^\/interaction\/[^/]+\/login$/, '… as the password POST\'s own answer (no extra redirect)');
  t.match(next.page, /<input[^>]*id="code"[^>]*autofocus/, 'the code field focused');
  const another = /<a href="([^"]+)" id="use-another">Use another method<\/a>/.exec(next.page);
  t.ok(another, '"Use another method" one click away');
  const choice = await (await next.browser.get(new URL(another![1]!.replace(/&amp;/g, '&'), gw.url))).text();
  t.ok(isChoicePage(choice), 'which is the choice');
  t.match(choice, /<button[^>]*id="factor-totp"[^>]*autofocus>Authenticator app \(last used\)/, 'TOTP marked and focused there');
  t.notMatch(choice, /id="factor-recovery"[^>]*autofocus/);
  t.equal((choice.match(/\(last used\)/g) ?? []).length, 1);
  // Reloading the form keeps its challenge: the tries left do not reset.
  await submitCode(next, wrongCode(secret));
  t.equal(next.status, 401);
  const reloaded = await (await next.browser.get(interactionPage(next))).text();
  t.ok(isCodePage(reloaded));
  t.match(reloaded, /4 tries left/, 'the wrong code still counts after a reload');
  await submitCode(next, await freshTotp(secret));
  t.ok(atClient(next), 'and the right code signs in');
});
