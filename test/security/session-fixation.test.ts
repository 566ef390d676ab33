// Session fixation after the MFA step (the rotation at the password login is test/oidc/prompt.test.ts): a
// password-level SSO session stepped up by a second factor ends with a new session id, and the id it had
// before is dead: a copy of the old cookie gets login_required under prompt=none and its row is gone. A
// login's password and second factor write one session, after the factor (nothing to fixate between the
// steps); the account portal's own cookie is rotated at sign-in and at its step-up.
import t, { type Test } from 'tap';
import * as client from 'openid-client';
import { startGateway } from '../helpers/gateway.ts';
import { Browser, cookieJar, cookieValue } from '../helpers/browser.ts';
import { addUser, startAuthorize } from '../helpers/oidc.ts';
import {
  ACR_MFA, ACR_PASSWORD, AMR_TOTP, atClient, chooseFactor, enrollTotp, freshTotp, idClaims, isChoicePage, login, policyClient,
  submitCode, type Flow, type LoginClient,
} from '../helpers/mfa.ts';
import { open, walk } from '../account/helpers.ts';

const appOff = policyClient('off');
const appOptional = policyClient('optional');
const appRequired = policyClient('required');
const gw = await startGateway(t, { overrides: { oidc: { clients: [appOff, appOptional, appRequired] }, account: { mfa: 'off' } } });

/** A user with an authenticator app; one per test, so that no test waits for a fresh TOTP step. */
async function totpUser(username: string) {
  const user = await addUser(gw, username);
  return { user, username, ...(await enrollTotp(gw, user.id)) };
}

/** A second browser holding a copy of every gateway cookie of `b` (what a fixation or a stolen cookie gives). */
function copyOf(b: Browser): Browser {
  const copy = new Browser();
  for (const [k, v] of cookieJar(b, gw.url)) cookieJar(copy, gw.url).set(k, v);
  return copy;
}

/** The stored SSO session a `_session` id names, if any. */
async function sessionRow(id: string | undefined): Promise<{ amr?: string[]; accountId?: string } | undefined> {
  const r = await gw.services.db.query<{ payload: { amr?: string[]; accountId?: string } }>(
    `SELECT payload FROM oidc_models WHERE model = 'Session' AND id = $1`, [id ?? '']);
  return r.rows[0]?.payload;
}

/** What prompt=none gets for `c` in browser `b`: the error at the redirect URI, or 'code'. */
async function silent(b: Browser, c: LoginClient): Promise<string> {
  const rp = await client.discovery(new URL(gw.url), c.clientId, c.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  const s = await startAuthorize(gw, rp, { scope: 'openid', browser: b, redirectUri: c.redirectUris[0], extra: { prompt: 'none' } });
  if (!s.at.href.startsWith(s.redirectUri)) return `stopped at ${s.at.pathname} (${s.res.status})`;
  return s.at.searchParams.get('error') ?? (s.at.searchParams.has('code') ? 'code' : 'nothing');
}

/** Finishes the TOTP step of a flow standing at the factor choice and returns the ID token claims. */
async function passTotp(t: Test, f: Flow, secret: string) {
  t.ok(isChoicePage(f.page), `the MFA step is asked for (${f.url.pathname})`);
  await chooseFactor(f, 'totp');
  await submitCode(f, await freshTotp(secret));
  t.ok(atClient(f), 'back at the client with a code');
  return idClaims(f);
}

/** Asserts the rotation: a new id, the old one without a row, and its copy signed in nowhere. */
async function assertRotated(t: Test, before: string | undefined, after: string | undefined, oldCopy: Browser) {
  t.ok(before && after, 'a session cookie before and after');
  t.not(after, before, 'the session id changed after the second factor');
  t.same((await sessionRow(after))?.amr, AMR_TOTP, 'the new id names the MFA-level session');
  t.equal(await sessionRow(before), undefined, 'the old id names no stored session');
  t.equal(await silent(oldCopy, appOff), 'login_required', 'a copy of the old cookie: login_required (password-only client)');
  t.equal(await silent(oldCopy, appRequired), 'login_required', 'a copy of the old cookie: login_required (MFA client), not an MFA-level session');
}

const stepUps: { name: string; first: LoginClient; then: LoginClient; extra?: Record<string, string> }[] = [
  { name: 'a client requiring MFA', first: appOff, then: appRequired },
  { name: 'acr_values asking for MFA (client policy off)', first: appOff, then: appOff, extra: { acr_values: ACR_MFA } },
  { name: 'a client with policy optional (the user has an authenticator app)', first: appOff, then: appOptional },
];

for (const [i, s] of stepUps.entries()) {
  t.test(`a password-only SSO session stepped up by ${s.name}: new session id, the old one dead`, async (t) => {
    const { user, username, secret } = await totpUser(`stepup${i}`);
    const b = new Browser();
    const first = await login(gw, s.first, username, { browser: b });
    const pwd = await idClaims(first);
    t.same(pwd.amr, ['pwd'], 'password only at first');
    t.equal(pwd.acr, ACR_PASSWORD);
    const before = cookieValue(b, gw.url, '_session');
    t.same((await sessionRow(before))?.amr, ['pwd'], 'the stored session is password-level');
    const oldCopy = copyOf(b);

    const stepped = await login(gw, s.then, username, { browser: b, ...(s.extra ? { extra: s.extra } : {}) });
    t.notOk(/name="password"/.test(stepped.page), 'single sign-on: no password asked again');
    const claims = await passTotp(t, stepped, secret);
    t.same(claims.amr, AMR_TOTP);
    t.equal(claims.acr, ACR_MFA);
    t.equal(claims.sub, user.id);
    await assertRotated(t, before, cookieValue(b, gw.url, '_session'), oldCopy);
    t.equal(await silent(b, appRequired), 'code', 'the new id is the MFA-level session (control)');
  });
}

t.test('one login, password then TOTP: no session exists between the two steps, and a copy of the cookies from then signs in nowhere', async (t) => {
  // The factor runs inside the login interaction (src/interaction/pending-mfa.ts): the session is written
  // once, with the second factor. Before 2026-12-06 a password-level session existed between the steps
  // and was rotated after the factor.
  const { username, secret } = await totpUser('oneflow');
  const b = new Browser();
  const f = await login(gw, appRequired, username, { browser: b });
  const mid = cookieValue(b, gw.url, '_session');
  t.equal(await sessionRow(mid), undefined, 'between the steps no session is stored (whatever cookie the browser holds)');
  const midCopy = copyOf(b);
  const claims = await passTotp(t, f, secret);
  t.same(claims.amr, AMR_TOTP);
  const after = cookieValue(b, gw.url, '_session');
  t.ok(after, 'a session cookie after the factor');
  t.not(after, mid, 'not an id the browser held between the steps');
  t.same((await sessionRow(after))?.amr, AMR_TOTP, 'it names the MFA-level session');
  t.equal(await silent(midCopy, appOff), 'login_required', 'a copy of the cookies from between the steps: login_required (password-only client)');
  t.equal(await silent(midCopy, appRequired), 'login_required', 'and login_required at the MFA client');
  t.equal(await silent(b, appRequired), 'code', 'the browser itself is signed in (control)');
});

t.test('the account portal cookie (gh_account): rotated at sign-in and at the step-up, old ids dead', async (t) => {
  const { username, secret } = await totpUser('portal');
  const b = new Browser();
  const start = await b.get(`${gw.url}/account`);
  t.equal(start.status, 303, 'not signed in: off to the gateway');
  const anonymous = cookieValue(b, gw.url, 'gh_account');
  t.ok(anonymous, 'a portal cookie holds the pending sign-in before it completes');
  const anonymousCopy = copyOf(b);
  const home = await walk(b, start, new URL(`${gw.url}/account`), { secret, username });
  t.equal(home.url.pathname, '/account');
  t.equal(home.status, 200, 'signed in (account.mfa off: password only)');
  const signedIn = cookieValue(b, gw.url, 'gh_account');
  t.ok(signedIn);
  t.not(signedIn, anonymous, 'a new portal session id at sign-in');
  // Mallory's copy of the pre-sign-in cookie (planted, or read before the victim signed in) is not signed in.
  t.equal((await anonymousCopy.get(`${gw.url}/account`)).status, 303, 'the pre-sign-in portal id is not a signed-in session');
  const sessionBefore = cookieValue(b, gw.url, '_session');
  const passwordLevel = copyOf(b);

  // Changing the password asks for a fresh second factor: password again (max_age=0), then TOTP.
  const form = await open(gw, b, '/account/password', { secret, username });
  t.equal(form.url.pathname, '/account/password', 'back at the form after the step-up');
  t.equal(form.status, 200);
  const stepped = cookieValue(b, gw.url, 'gh_account');
  t.not(stepped, signedIn, 'a new portal session id after the step-up');
  t.equal((await passwordLevel.get(`${gw.url}/account`)).status, 303, 'the password-level portal id is dead');
  t.equal((await b.get(`${gw.url}/account`)).status, 200, 'the new one is signed in (control)');
  const sessionAfter = cookieValue(b, gw.url, '_session');
  t.not(sessionAfter, sessionBefore, 'the gateway session id changed too');
  t.equal(await sessionRow(sessionBefore), undefined, 'the old gateway session id names nothing');
  t.same((await sessionRow(sessionAfter))?.amr, AMR_TOTP);
});
