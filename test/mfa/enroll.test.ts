// TOTP enrollment inside a login, for a user without any factor on a client that requires MFA:
// inline QR (no third party sees the seed) → first code confirms → ten recovery codes shown once →
// continue signs in with TOTP amr. Enrollment can neither be skipped nor reached by an enrolled user.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { readForm } from '../helpers/browser.ts';
import { qrSvg } from '../../src/mfa/totp/qr.ts';
import { otpauthUri } from '../../src/mfa/totp/totp-code.ts';
import {
  ACR_MFA, AMR_TOTP, advance, alertText, atClient, auditRows, enrollTotp, freshTotp, idClaims, isChoicePage, login,
  policyClient, submitCode, wrongCode, matchAll, type Flow,
} from '../helpers/mfa.ts';

const ISSUER_LABEL = 'Gatehouse Test';
const app = policyClient('required');
const gw = await startGateway(t, {
  overrides: {
    oidc: { clients: [app] }, mfa: { factors: ['totp'], totp: { issuer: ISSUER_LABEL } }, security: { ipLimitPerMinute: 10_000 },
  },
});

const uidOf = (f: Flow) => /^\/interaction\/([^/]+)/.exec(f.url.pathname)![1]!;
const shownSecret = (page: string) => /id="totp-secret">([A-Z2-7 ]+)</.exec(page)?.[1]?.replace(/ /g, '');
const shownCodes = (page: string) => [.../<ul class="codes" id="recovery-codes">([\s\S]*?)<\/ul>/.exec(page)?.[1]?.matchAll(/<li>([^<]+)<\/li>/g) ?? []].map((m) => m[1]!);

/** A new user without factors, logged in with the password: the gateway sends them to enrollment. */
async function atEnrollment(username: string) {
  const user = await addUser(gw, username);
  const f = await login(gw, app, username);
  return { user, f };
}

t.test('a user without factors is sent to enrollment: inline SVG QR of the shown secret, no external URL', async (t) => {
  const { user, f } = await atEnrollment('erin');
  t.equal(f.status, 200);
  t.match(f.url.pathname, /^\/interaction\/[^/]+\/mfa\/enroll$/);
  const secret = shownSecret(f.page);
  t.match(secret, /^[A-Z2-7]{32}$/, 'the 160-bit base32 secret is shown for manual entry');
  t.match(f.page, /<div class="qr" role="img"[^>]*><svg xmlns="http:\/\/www.w3.org\/2000\/svg"/, 'the QR is inline SVG');
  t.equal((f.page.match(/<svg/g) ?? []).length, 1);
  // The QR is exactly the otpauth URI of the shown secret, rendered by the gateway itself.
  t.ok(f.page.includes(await qrSvg(otpauthUri(secret!, ISSUER_LABEL, 'erin'))), 'QR encodes otpauth://totp/… with this secret');
  t.notMatch(f.page, /<img|<image|<iframe|src=|otpauth:/, 'no image fetched from anywhere, no URI in the markup');
  t.notMatch(f.page.replace('xmlns="http://www.w3.org/2000/svg"', ''), /https?:\/\//, 'no external URL at all');
  // Reloading keeps the pending secret (the user may have scanned it already).
  const again = await f.browser.get(f.url);
  t.equal(shownSecret(await again.text()), secret);
  t.equal(await gw.services.mfa.totp.isEnrolled(user.id), false, 'not enrolled before a code confirms it');
});

t.test('wrong code refused; right code shows 10 recovery codes once; continue signs in with TOTP amr', async (t) => {
  const { user, f } = await atEnrollment('ellis');
  const secret = shownSecret(f.page)!;
  const wrong = await submitCode(f, wrongCode(secret), '/mfa/enroll');
  t.equal(wrong.res.status, 401);
  t.match(alertText(f.page), /That code is not right/);
  t.equal(shownSecret(f.page), secret, 'same secret offered again');
  t.equal(await gw.services.mfa.totp.isEnrolled(user.id), false);

  const ok = await submitCode(f, await freshTotp(secret), '/mfa/enroll');
  t.equal(ok.res.status, 200);
  const codes = shownCodes(f.page);
  t.equal(codes.length, 10, 'exactly ten recovery codes');
  t.equal(new Set(codes).size, 10, 'all different');
  for (const c of codes) t.match(c, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
  t.equal(await gw.services.mfa.recovery.remaining(user.id), 10);
  const recoveryPage = f.page;

  // Shown once: the enrollment page is closed now that TOTP is confirmed.
  const reload = await f.browser.get(new URL(`/interaction/${uidOf(f)}/mfa/enroll`, gw.url));
  t.equal(reload.status, 303);
  t.match(reload.headers.get('location'), /\?choose=1$/);

  const cont = readForm(recoveryPage, '/enroll/done');
  const done = await f.browser.post(new URL(cont.action, gw.url), cont.fields);
  await advance(f, done, new URL(cont.action, gw.url));
  t.ok(atClient(f), 'signed in');
  // "Continue" posted again (a double click): the interaction has ended, and the form starts its
  // authorization request again (src/interaction/restart.ts), which the new session answers at once.
  const again = await f.browser.post(new URL(cont.action, gw.url), cont.fields);
  t.equal(again.status, 303, 'continue posted again: the sign-in starts again');
  t.equal(again.headers.get('location'), cont.fields.restart);
  const sso = await f.browser.navigate(new URL(again.headers.get('location')!, gw.url));
  t.ok(sso.headers.get('location')?.includes('code='), 'single sign-on answers with a code');
  const claims = await idClaims(f);
  t.same(claims.amr, AMR_TOTP);
  t.equal(claims.acr, ACR_MFA);
  matchAll(t, await auditRows(gw, user.id), [
    { type: 'login.password', outcome: 'success' },
    { type: 'mfa.totp.enroll', outcome: 'success', factor: 'totp' },
    { type: 'mfa.totp', outcome: 'success', detail: { enrolled: true, amr: AMR_TOTP } },
  ]);
  t.equal(await gw.services.mfa.totp.isEnrolled(user.id), true);
  // One of the codes shown works as a recovery code later.
  t.equal(await gw.services.mfa.recovery.use(user.id, codes[9]!), true);
});

t.test('the seed is encrypted at rest', async (t) => {
  const { user, f } = await atEnrollment('esme');
  const secret = shownSecret(f.page)!;
  await submitCode(f, await freshTotp(secret), '/mfa/enroll');
  const row = (await gw.services.db.query<{ secret_enc: string; confirmed: boolean }>(
    'SELECT secret_enc, confirmed_at IS NOT NULL AS confirmed FROM mfa_totp WHERE user_id = $1', [user.id])).rows[0]!;
  t.equal(row.confirmed, true);
  t.notOk(row.secret_enc.includes(secret), 'the base32 secret is not stored in the clear');
  t.notOk(row.secret_enc.toUpperCase().includes(secret.slice(0, 8)), 'not even a piece of it');
  t.not(Buffer.from(row.secret_enc, 'base64').toString('latin1').includes(secret), 'nor inside a base64 wrapping');
  t.equal((await gw.services.mfa.totp.find(user.id))!.secret, secret, 'it decrypts with the master secret');
});

t.test('/enroll/done without a confirmed code does not sign in', async (t) => {
  const { user, f } = await atEnrollment('eager');
  const csrf = readForm(f.page, '/mfa/enroll').fields.csrf!;
  const done = await f.browser.post(new URL(`/interaction/${uidOf(f)}/mfa/enroll/done`, gw.url), { csrf });
  t.equal(done.status, 303);
  await advance(f, done, new URL(`/interaction/${uidOf(f)}/mfa/enroll/done`, gw.url));
  t.notOk(atClient(f), 'not signed in');
  t.ok(isChoicePage(f.page), 'back at the MFA step');
  t.match(f.page, /id="enroll-totp"/, 'with the way to enroll');
  t.equal(await gw.services.mfa.totp.isEnrolled(user.id), false);
  t.same(await auditRows(gw, user.id, 'mfa.totp'), [], 'no MFA success recorded');
});

t.test('a user who already has TOTP cannot reach enrollment during login', async (t) => {
  const user = await addUser(gw, 'enrolled');
  const { secret } = await enrollTotp(gw, user.id);
  const f = await login(gw, app, 'enrolled');
  t.ok(isChoicePage(f.page));
  t.notMatch(f.page, /id="enroll-totp"/, 'no enrollment link');
  const enroll = new URL(`/interaction/${uidOf(f)}/mfa/enroll`, gw.url);
  const get = await f.browser.get(enroll);
  t.equal(get.status, 303);
  t.match(get.headers.get('location'), /\?choose=1$/);
  const csrf = readForm(f.page, '/mfa/begin').fields.csrf!;
  const post = await f.browser.post(enroll, { csrf, code: await freshTotp(secret) });
  t.equal(post.status, 303, 'posting a code to enrollment is refused too');
  t.match(post.headers.get('location'), /\?choose=1$/);
  const done = await f.browser.post(new URL(`${enroll.pathname}/done`, gw.url), { csrf });
  await advance(f, done, enroll);
  t.notOk(atClient(f), '/enroll/done does not sign in either');
  t.equal((await gw.services.mfa.totp.find(user.id))!.secret, secret, 'the seed was not replaced');
  t.same(await auditRows(gw, user.id, 'mfa.totp.enroll'), []);
});
