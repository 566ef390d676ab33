import t from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import { readForm } from '../helpers/browser.ts';
import { enrollTotp, totpNow } from '../helpers/mfa.ts';
import * as client from 'openid-client';

const mfaClient = { ...confidentialClient, mfa: 'required' };

t.test('password then TOTP: amr pwd otp mfa, acr refeds mfa', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [mfaClient] } } });
  const user = await addUser(gw);
  const { secret } = await enrollTotp(gw, user.id);
  const rp = await discover(gw);
  const s = await startAuthorize(gw, rp);
  const loginPage = await s.res.text();
  const posted = await submitLogin(s.browser, gw, loginPage, 'alice', 'correct horse battery');
  t.equal(posted.status, 303);
  let { res, url } = await s.browser.follow(posted, s.at, (u) => u.href.startsWith(s.redirectUri));
  let body = await res.text();
  t.match(body, /Verify it/, 'factor choice shown (TOTP and recovery codes usable)');
  const choice = readForm(body, '/mfa/begin');
  res = await s.browser.post(new URL(choice.action, gw.url), { ...choice.fields, factor: 'totp' });
  ({ res, url } = await s.browser.follow(res, url));
  body = await res.text();
  t.match(body, /autocomplete="one-time-code"/);
  const form = readForm(body, '/mfa/totp');
  const wrong = await s.browser.post(new URL(form.action, gw.url), { ...form.fields, code: '000000' === totpNow(secret) ? '111111' : '000000' });
  t.equal(wrong.status, 401, 'wrong code re-asks');
  res = await s.browser.post(new URL(form.action, gw.url), { ...form.fields, code: totpNow(secret) });
  t.equal(res.status, 303);
  ({ res, url } = await s.browser.follow(res, url, (u) => u.href.startsWith(s.redirectUri)));
  t.ok(url.href.startsWith(s.redirectUri), `back at the client: ${url.pathname}`);
  const tokens = await client.authorizationCodeGrant(rp, url, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  const claims = tokens.claims()!;
  t.same(claims.amr, ['pwd', 'otp', 'mfa']);
  t.equal(claims.acr, 'https://refeds.org/profile/mfa');
});
