// The MFA step inside the login interaction (src/interaction/pending-mfa.ts): the password POST answers
// with this interaction's factor screen itself, not a redirect through /oidc/auth; a reload of that answer
// (the password posted again) keeps the code form's tries; no session exists before the second factor; a pending password result taken to the resume URL by hand still meets the
// `mfa` prompt; a code form submitted twice meets its spent challenge; cancel works from there; an account
// disabled in between gets a page, not a redirect loop; and where no second factor is due the password
// step goes back to oidc-provider as before.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { readForm } from '../helpers/browser.ts';
import { addUser, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import * as client from 'openid-client';
import {
  AMR_TOTP, advance, atClient, auditRows, chooseFactor, enrollTotp, freshTotp, idClaims, isChoicePage, isCodePage, isLoginPage,
  policyClient, submitCode, PASSWORD, type Flow,
} from '../helpers/mfa.ts';

const required = policyClient('required');
const off = policyClient('off');
const gw = await startGateway(t, {
  overrides: { oidc: { clients: [required, off] }, mfa: { factors: ['totp'] }, security: { ipLimitPerMinute: 10_000 } },
});

const sessions = async () => Number((await gw.services.db.query<{ n: string }>(`SELECT count(*) AS n FROM oidc_models WHERE model = 'Session'`)).rows[0]!.n);

/** Authorize for `c`, show the login form, post the password; returns the flow and the raw POST answer. */
async function postPassword(c: typeof required, username: string) {
  const rp = await client.discovery(new URL(gw.url), c.clientId, c.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  const s = await startAuthorize(gw, rp, { scope: 'openid profile', redirectUri: c.redirectUris[0] });
  const f: Flow = { gw, rp, browser: s.browser, verifier: s.verifier, state: s.state, nonce: s.nonce, redirectUri: s.redirectUri, url: s.at, status: s.res.status, page: await s.res.text() };
  if (!isLoginPage(f.page)) throw new Error(`expected the login form, got ${f.status} ${f.url.pathname}`);
  const uid = /\/interaction\/([^/]+)/.exec(s.interaction!.pathname)![1]!;
  const loginPage = f.page;
  const posted = await submitLogin(f.browser, gw, loginPage, username, PASSWORD);
  return { f, uid, posted, loginPage };
}

t.test('the password POST answers with the factor screen of the same interaction', async (t) => {
  const user = await addUser(gw, 'pia');
  const { secret } = await enrollTotp(gw, user.id);
  const before = await sessions();
  const { f, uid, posted } = await postPassword(required, 'pia');
  t.equal(posted.status, 200, 'the screen itself, no redirect');
  t.equal(posted.headers.get('cache-control'), 'no-store');
  await advance(f, posted, new URL(`/interaction/${uid}/login`, gw.url));
  t.ok(isChoicePage(f.page) || isCodePage(f.page), 'the factor choice (first TOTP login) or the TOTP form');
  t.match(f.page, new RegExp(`action="/interaction/${uid}/mfa/`), 'its forms post to this interaction');
  t.equal(await sessions(), before, 'no session is written before the second factor');
  await chooseFactor(f, 'totp');
  t.ok(f.url.pathname.startsWith(`/interaction/${uid}`), 'the code form is in the same interaction');
  await submitCode(f, await freshTotp(secret));
  t.ok(atClient(f), 'back at the client');
  t.same((await idClaims(f)).amr, AMR_TOTP, 'amr pwd otp mfa');
  t.equal(await sessions(), before + 1, 'one session, written with the second factor');
});

t.test('a reload of the code form (the password posted again) keeps its tries and its challenge', async (t) => {
  const user = await addUser(gw, 'olga');
  const { secret } = await enrollTotp(gw, user.id);
  await gw.services.db.query(`UPDATE users SET preferred_factor = 'totp' WHERE id = $1`, [user.id]);
  const { f, uid, posted, loginPage } = await postPassword(required, 'olga');
  await advance(f, posted, new URL(`/interaction/${uid}/login`, gw.url));
  t.ok(isCodePage(f.page), 'a returning TOTP user gets the code form in the password POST\'s answer');
  t.match(f.page, /id="remaining">5 tries left/);
  const challenges = async () => (await gw.services.db.query(`SELECT attempts FROM mfa_challenges WHERE interaction_uid = $1`, [uid])).rows;
  t.same(await challenges(), [{ attempts: 0 }], 'its challenge was written with the password step');
  const wrong = await submitCode(f, '000000');
  t.equal(wrong.res.status, 401, 'a wrong code counts one try');
  // The browser's reload of the POST answer: the same login form's fields posted again.
  const again = await submitLogin(f.browser, gw, loginPage, 'olga', PASSWORD);
  t.equal(again.status, 200);
  const page = await again.text();
  t.ok(isCodePage(page), 'the code form again');
  t.match(page, /id="remaining">4 tries left/, 'the try spent before the reload still counts');
  t.same(await challenges(), [{ attempts: 1 }], 'the same challenge: no second one with fresh tries');
  f.page = page;
  await submitCode(f, await freshTotp(secret));
  t.ok(atClient(f), 'and the code signs in');
});

t.test('a double-submitted password form opens one challenge: the tries are shared, not doubled', async (t) => {
  const user = await addUser(gw, 'dora');
  const { secret } = await enrollTotp(gw, user.id);
  await gw.services.db.query(`UPDATE users SET preferred_factor = 'totp' WHERE id = $1`, [user.id]);
  const rp = await client.discovery(new URL(gw.url), required.clientId, required.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  const s = await startAuthorize(gw, rp, { scope: 'openid profile', redirectUri: required.redirectUris[0] });
  const f: Flow = { gw, rp, browser: s.browser, verifier: s.verifier, state: s.state, nonce: s.nonce, redirectUri: s.redirectUri, url: s.at, status: s.res.status, page: await s.res.text() };
  const uid = /\/interaction\/([^/]+)/.exec(s.interaction!.pathname)![1]!;
  // The same password form submitted four times at once (a double click, a second tab): each request may
  // load the interaction before any of them has written its pending result.
  const posted = await Promise.all([1, 2, 3, 4].map(() => submitLogin(f.browser, gw, f.page, 'dora', PASSWORD)));
  t.same(posted.map((r) => r.status), [200, 200, 200, 200]);
  const live = async () => (await gw.services.db.query(`SELECT attempts FROM mfa_challenges WHERE interaction_uid = $1 AND consumed_at IS NULL`, [uid])).rows;
  t.same(await live(), [{ attempts: 0 }], 'one unspent challenge for the interaction');
  await advance(f, posted[0]!, new URL(`/interaction/${uid}/login`, gw.url));
  // Wrong codes, all at once: no more are checked than the challenge allows.
  const form = readForm(f.page, '/mfa/totp');
  const answers = await Promise.all(Array.from({ length: 8 }, () => f.browser.post(new URL(form.action, gw.url), { ...form.fields, code: '000000' })));
  t.ok(answers.every((r) => r.status === 401 || r.status === 303), 'each answered: the form again, or back to the choice');
  const checked = (await auditRows(gw, user.id, 'mfa.totp')).filter((r) => r.outcome === 'failure' && r.reason === 'invalid');
  t.equal(checked.length, 5, 'five codes checked (maxAttempts), the rest refused without a check');
  t.same(await live(), [], 'the challenge is spent once its tries are used up');
  // Back to the factor: a new challenge with a new budget (the account's lockout counts across them).
  const choose = new URL(`/interaction/${uid}?choose=1`, gw.url);
  await advance(f, await f.browser.get(choose), choose);
  await chooseFactor(f, 'totp');
  await submitCode(f, await freshTotp(secret));
  t.ok(atClient(f), 'and a right code on the next challenge signs in');
});

t.test('going back to the factor choice and choosing the same factor keeps its tries', async (t) => {
  const user = await addUser(gw, 'elsa');
  await enrollTotp(gw, user.id);
  await gw.services.db.query(`UPDATE users SET preferred_factor = 'totp' WHERE id = $1`, [user.id]);
  const { f, uid, posted } = await postPassword(required, 'elsa');
  await advance(f, posted, new URL(`/interaction/${uid}/login`, gw.url));
  t.equal((await submitCode(f, '000000')).res.status, 401);
  const choose = new URL(`/interaction/${uid}?choose=1`, gw.url);
  await advance(f, await f.browser.get(choose), choose);
  await chooseFactor(f, 'totp');
  t.match(f.page, /id="remaining">4 tries left/, 'the try spent before still counts');
  t.same((await gw.services.db.query(`SELECT attempts FROM mfa_challenges WHERE interaction_uid = $1`, [uid])).rows, [{ attempts: 1 }], 'one challenge');
});

t.test('the pending password result taken to the resume URL by hand still meets the mfa prompt', async (t) => {
  const user = await addUser(gw, 'quinn');
  const { secret } = await enrollTotp(gw, user.id);
  const { f, uid, posted } = await postPassword(required, 'quinn');
  t.equal(posted.status, 200, 'the factor screen');
  // Skip the factor screen: go to oidc-provider's resume endpoint for this interaction.
  const resume = new URL(`/oidc/auth/${uid}`, gw.url);
  await advance(f, await f.browser.get(resume), resume);
  t.notOk(atClient(f), 'no code for a password alone');
  t.match(f.url.pathname, /^\/interaction\//, 'a gateway screen');
  t.not(f.url.pathname, `/interaction/${uid}`, 'a new interaction: the `mfa` prompt of oidc-provider');
  t.ok(isChoicePage(f.page) || isCodePage(f.page), 'asking for the second factor');
  await chooseFactor(f, 'totp');
  await submitCode(f, await freshTotp(secret));
  t.ok(atClient(f), 'back at the client after the factor');
  t.same((await idClaims(f)).amr, AMR_TOTP);
});

t.test('the same code form submitted again after it signed in: the authorization request again, answered by single sign-on, not a second sign-in', async (t) => {
  const user = await addUser(gw, 'ugo');
  const { secret } = await enrollTotp(gw, user.id);
  const { f, uid, posted } = await postPassword(required, 'ugo');
  await advance(f, posted, new URL(`/interaction/${uid}/login`, gw.url));
  await chooseFactor(f, 'totp');
  const form = readForm(f.page, '/mfa/totp');
  const fields = { ...form.fields, code: await freshTotp(secret) };
  const before = await sessions();
  const first = await f.browser.post(new URL(form.action, gw.url), fields);
  t.equal(first.status, 303);
  t.ok(first.headers.get('location')!.startsWith(required.redirectUris[0]!), 'the first signs in: the resume is made in-process, straight to the client');
  const again = await f.browser.post(new URL(form.action, gw.url), fields);
  t.equal(again.status, 303, 'the second finds the interaction ended');
  t.equal(again.headers.get('location'), form.fields.restart, 'and starts its authorization request again (src/interaction/restart.ts)');
  const sso = await f.browser.navigate(new URL(again.headers.get('location')!, gw.url));
  t.equal(sso.status, 303);
  t.ok(sso.headers.get('location')!.startsWith(required.redirectUris[0]!), 'which the session the first one made answers at once, with a code for the client');
  t.equal(await sessions(), before + 1, 'one sign-in');
  t.same((await gw.services.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'mfa.totp' AND user_id = $1 AND outcome = 'success'`, [user.id])).rows, [{ n: 1 }], 'one factor success');
  await advance(f, first, new URL(form.action, gw.url));
  t.ok(atClient(f), 'the first submission signs in');
  t.same((await idClaims(f)).amr, AMR_TOTP);
});

t.test('cancel on the pending factor screen ends the sign-in with access_denied', async (t) => {
  const user = await addUser(gw, 'rafa');
  await enrollTotp(gw, user.id);
  const { f, uid, posted } = await postPassword(required, 'rafa');
  await advance(f, posted, new URL(`/interaction/${uid}/login`, gw.url));
  const form = readForm(f.page, '/abort');
  const res = await f.browser.post(new URL(form.action, gw.url), form.fields);
  t.equal(res.status, 303, 'the MFA screen\'s cancel form is accepted (its CSRF token is the mfa form\'s)');
  await advance(f, res, new URL(form.action, gw.url));
  t.ok(f.url.href.startsWith(required.redirectUris[0]!), 'back at the client');
  t.equal(f.url.searchParams.get('error'), 'access_denied');
});

t.test('an account disabled between the password and the factor gets a page, not a redirect loop', async (t) => {
  const user = await addUser(gw, 'sam');
  await enrollTotp(gw, user.id);
  const before = await sessions();
  const { f, uid } = await postPassword(required, 'sam');
  await gw.services.db.query('UPDATE users SET disabled = true WHERE id = $1', [user.id]);
  // The factor screen's own page (its "Use another method" link, or a reload by URL).
  const at = new URL(`/interaction/${uid}?choose=1`, gw.url);
  const res = await f.browser.navigate(at);
  t.equal(res.status, 403);
  const page = await res.text();
  t.match(page, /id="error-code">GW_ACCOUNT_DISABLED</);
  t.equal(await sessions(), before, 'no session for the disabled account');
  const again = await f.browser.get(new URL(`/oidc/auth/${uid}`, gw.url));
  await advance(f, again, new URL(`/oidc/auth/${uid}`, gw.url));
  t.notOk(atClient(f), 'nor a code by way of the resume URL');
});

t.test('no second factor due: the password step goes back to oidc-provider as before', async (t) => {
  await addUser(gw, 'tess');
  const { f, uid, posted } = await postPassword(off, 'tess');
  t.equal(posted.status, 303);
  t.ok(posted.headers.get('location')!.startsWith(off.redirectUris[0]!), 'the resume is made in-process: straight to the client with a code');
  t.notOk(posted.headers.get('location')!.includes(uid), 'not through the resume URL');
  await advance(f, posted, new URL(`/interaction/${uid}/login`, gw.url));
  t.ok(atClient(f), 'at the client');
  t.same((await idClaims(f)).amr, ['pwd']);
});
