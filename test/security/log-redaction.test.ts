// No secret reaches the logs: a full OIDC login (password + TOTP + consent-free first-party client),
// token, refresh, userinfo, introspection and client-credentials run with a capturing logger, then every
// secret value that crossed the wire is searched for in every log line.
import t from 'tap';
import * as client from 'openid-client';
import { startGateway, confidentialClient, TEST_SECRET } from '../helpers/gateway.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import { readForm } from '../helpers/browser.ts';
import { enrollTotp, totpNow } from '../helpers/mfa.ts';

t.test('OIDC + TOTP flow: no secret in any log line', async (t) => {
  const password = 'Secret-Password-4711-xyz';
  const gw = await startGateway(t, { overrides: { oidc: { clients: [{ ...confidentialClient, mfa: 'required' }] } } });
  const user = await addUser(gw, 'carol', password);
  const { secret: totpSecret, recoveryCodes } = await enrollTotp(gw, user.id);
  const rp = await discover(gw);
  const s = await startAuthorize(gw, rp);
  const wrong = await submitLogin(s.browser, gw, await (await s.browser.get(s.at)).text(), 'carol', 'Wrong-Password-9876-abc');
  t.equal(wrong.status, 401);
  const posted = await submitLogin(s.browser, gw, await wrong.text(), 'carol', password);
  let { res, url } = await s.browser.follow(posted, s.at);
  const choice = readForm(await res.text(), '/mfa/begin');
  const csrf = choice.fields.csrf!;
  res = await s.browser.post(new URL(choice.action, gw.url), { ...choice.fields, factor: 'totp' });
  ({ res, url } = await s.browser.follow(res, url));
  const form = readForm(await res.text(), '/mfa/totp');
  const code = totpNow(totpSecret);
  res = await s.browser.post(new URL(form.action, gw.url), { ...form.fields, code });
  ({ url } = await s.browser.follow(res, url, (u) => u.href.startsWith(s.redirectUri)));
  const authCode = url.searchParams.get('code')!;
  const tokens = await client.authorizationCodeGrant(rp, url, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
  await client.fetchUserInfo(rp, refreshed.access_token, user.id);
  await client.tokenIntrospection(rp, refreshed.access_token);
  const cc = await client.clientCredentialsGrant(rp, {});
  await fetch(`${gw.url}/interaction/x/mfa/duo/callback?duo_code=DUOCODE-SECRET-123&state=STATE-SECRET-456`);

  // `_interaction*` cookies hold the interaction uid, which is public by design (it is in the URL path);
  // what binds it to the browser is the signature cookie next to it, which is checked below.
  const cookies = [...s.browser.cookies.values()].flatMap((jar) => [...jar].filter(([n]) => !/^_interaction(_resume)?$/.test(n)).map(([, v]) => v));
  const secrets: Record<string, string> = {
    password, wrongPassword: 'Wrong-Password-9876-abc', clientSecret: confidentialClient.clientSecret, masterSecret: TEST_SECRET,
    totpSecret, totpCode: code, recoveryCode: recoveryCodes[0]!, csrf, authCode, verifier: s.verifier,
    accessToken: tokens.access_token, refreshToken: tokens.refresh_token!, idToken: tokens.id_token!,
    rotatedRefresh: refreshed.refresh_token!, ccToken: cc.access_token, duoCode: 'DUOCODE-SECRET-123', duoState: 'STATE-SECRET-456',
    ...Object.fromEntries(cookies.filter((c) => c.length > 12).map((c, i) => [`cookie${i}`, c])),
  };
  t.ok(gw.logs.length > 20, `logs were captured (${gw.logs.length} lines)`);
  t.ok(gw.logs.some((l) => l.includes('"audit"')), 'audit lines are there');
  for (const [name, value] of Object.entries(secrets)) {
    const hits = gw.logs.filter((l) => l.includes(value));
    t.same(hits, [], `${name} never logged`);
  }
});

t.test('Duo flow (real SDK ↔ emulator): no Duo secret, code, state or token in any log line', async (t) => {
  const { startDuo, toDuo, duoAnswer, openUrl } = await import('../helpers/duo.ts');
  const { atClient, policyClient, idClaims } = await import('../helpers/mfa.ts');
  const duo = await startDuo(t);
  const c = policyClient('required');
  const gw = await startGateway(t, { overrides: { ...duo.overrides({ factors: ['duo'] }), oidc: { clients: [c] } } });
  await addUser(gw, 'dora');
  const f = await toDuo(gw, c, 'dora');
  const authorizeUrl = f.url.href;
  const request = f.url.searchParams.get('request')!;
  const callback = await duoAnswer(f, duo);
  const done = await openUrl(f, callback);
  t.ok(atClient(done), 'signed in through Duo');
  const claims = await idClaims(done);
  t.ok((claims.amr as string[]).includes('mfa'));
  const secrets: Record<string, string> = {
    duoClientSecret: duo.emulator.clientSecret, duoCode: callback.searchParams.get('duo_code')!,
    duoState: callback.searchParams.get('state')!, duoRequestJwt: request, authorizeUrl,
  };
  for (const [name, value] of Object.entries(secrets)) t.same(gw.logs.filter((l) => l.includes(value)), [], `${name} never logged`);
});
