// No secret reaches the logs: a full OIDC login (password + TOTP + consent-free first-party client),
// token, refresh, userinfo, introspection and client-credentials run with a capturing logger, then every
// secret value that crossed the wire is searched for in every log line. The same for a Duo flow, and for a
// SAML flow: SP-initiated login with MFA, an encrypted assertion, SSO to a second SP and single logout.
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
  t.ok(gw.logs.length > 15, `logs were captured (${gw.logs.length} lines)`);
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

t.test('SAML flow (Redirect AuthnRequest, password, Duo deny, TOTP, encrypted assertion, SSO to a second SP, single logout): no secret in any log line', async (t) => {
  const { startDuo, visitDuo } = await import('../helpers/duo.ts');
  const { freshTotp, wrongCode } = await import('../helpers/mfa.ts');
  const { SP2_ACS, SP2_ENTITY, SP2_SLO, SP_ENTITY, SP_SLO, keyPair, nodeSamlSp, spConfig } = await import('../saml/helpers.ts');
  const { NAMEID_FORMAT } = await import('../../src/protocols/saml/constants.ts');
  const { Browser } = await import('../helpers/browser.ts');

  /** Keeps every URL it requested and every form it posted: each sensitive value in them is looked for in the logs. */
  class RecordingBrowser extends Browser {
    sent: { url: URL; form?: URLSearchParams }[] = [];
    /** Every cookie value the browser ever held (the session cookie changes during the flow). */
    cookieValues = new Map<string, string>();
    override async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
      this.sent.push({ url: new URL(url), ...(init.body instanceof URLSearchParams ? { form: new URLSearchParams(init.body) } : {}) });
      const res = await super.request(url, init);
      for (const [host, jar] of this.cookies) for (const [name, v] of jar) this.cookieValues.set(`${host} ${name}=${v}`, v);
      return res;
    }
  }

  const password = 'Saml-Secret-Password-8642-qrs';
  const wrongPassword = 'Saml-Wrong-Password-1357-tuv';
  const kp1 = await keyPair(1);
  const duo = await startDuo(t);
  const gw = await startGateway(t, {
    overrides: {
      ...duo.overrides({ factors: ['duo', 'totp'] }),
      saml: {
        sps: [
          await spConfig({ mfa: 'required', nameIdFormat: 'persistent', nameIdSource: 'pairwise', sign: 'both', encryptAssertion: true, encryptionCert: kp1.certPem }),
          await spConfig({ entityId: SP2_ENTITY, name: 'Other SP', acs: [{ url: SP2_ACS }], sloUrl: SP2_SLO, sloBinding: 'post', signingCerts: [kp1.certPem], nameIdFormat: 'transient' }),
        ],
      },
    },
  });
  const user = await addUser(gw, 'carol', password);
  const { secret: totpSecret, recoveryCodes } = await enrollTotp(gw, user.id);
  duo.emulator.setOutcome('carol', 'deny');
  const sp1 = await nodeSamlSp(gw, { decryptionPvk: kp1.keyPem, identifierFormat: NAMEID_FORMAT.persistent, disableRequestedAuthnContext: true });
  const sp2 = await nodeSamlSp(gw, {
    issuer: SP2_ENTITY, callbackUrl: SP2_ACS, audience: SP2_ENTITY, privateKey: kp1.keyPem, identifierFormat: NAMEID_FORMAT.transient, disableRequestedAuthnContext: true,
  });
  const b = new RecordingBrowser();
  const post = (action: string, fields: Record<string, string>) => b.post(new URL(action, gw.url), fields);

  // SP 1's AuthnRequest → the login form; a wrong password, then the right one → the factor choice.
  const relayState = 'saml-relay-state-SECRET-0c1d2e3f4a5b';
  let { res, url } = await b.follow(await b.get(await sp1.getAuthorizeUrlAsync(relayState, undefined, {})), gw.url);
  let form = readForm(await res.text(), '/login');
  res = await post(form.action, { ...form.fields, username: 'carol', password: wrongPassword });
  t.equal(res.status, 401);
  form = readForm(await res.text(), '/login');
  ({ res, url } = await b.follow(await post(form.action, { ...form.fields, username: 'carol', password }), url));
  // Duo (denied) → back at the choice → TOTP, a wrong code then the right one.
  form = readForm(await res.text(), '/mfa/begin');
  res = await post(form.action, { ...form.fields, factor: 'duo' });
  const duoAuthorize = new URL(res.headers.get('location')!);
  t.equal(duoAuthorize.pathname, '/oauth/v1/authorize', 'to Duo');
  const hop = await visitDuo(duoAuthorize, duo.emulator.caPem);
  const duoCallback = new URL(hop.location!);
  ({ res, url } = await b.follow(await b.get(duoCallback), duoCallback));
  t.equal(url.searchParams.get('failed'), 'denied', 'Duo denied: back at the choice');
  form = readForm(await res.text(), '/mfa/begin');
  ({ res, url } = await b.follow(await post(form.action, { ...form.fields, factor: 'totp' }), url));
  form = readForm(await res.text(), '/mfa/totp');
  const badCode = wrongCode(totpSecret);
  res = await post(form.action, { ...form.fields, code: badCode });
  t.equal(res.status, 401);
  form = readForm(await res.text(), '/mfa/totp');
  const totpCode = await freshTotp(totpSecret);
  ({ res, url } = await b.follow(await post(form.action, { ...form.fields, code: totpCode }), url));
  t.equal(url.pathname, '/saml/continue');
  const login1 = readForm(await res.text(), '');
  t.equal(login1.fields.RelayState, relayState);
  const xml1 = Buffer.from(login1.fields.SAMLResponse!, 'base64').toString('utf8');
  t.match(xml1, /<xenc:EncryptedData|<EncryptedData/, 'the assertion is encrypted');
  const { profile: p1 } = await sp1.validatePostResponseAsync({ SAMLResponse: login1.fields.SAMLResponse! });
  t.ok(p1, 'node-saml decrypts and verifies it');
  t.equal(p1!.nameIDFormat, NAMEID_FORMAT.persistent);

  // SP 2 rides the session (no password, no factor).
  ({ res, url } = await b.follow(await b.get(await sp2.getAuthorizeUrlAsync('saml-relay-2-SECRET-9e8d7c6b5a', undefined, {})), gw.url));
  const login2 = readForm(await res.text(), '');
  t.equal(login2.action, SP2_ACS);
  const { profile: p2 } = await sp2.validatePostResponseAsync({ SAMLResponse: login2.fields.SAMLResponse! });
  t.ok(p2, 'signed in to SP 2 on the same session');

  // Single logout from SP 1: SP 2 is sent our LogoutRequest, confirms, and SP 1 gets the LogoutResponse.
  const logoutRelay = 'saml-logout-relay-SECRET-5f4e3d2c1b';
  res = await b.get(await sp1.getLogoutUrlAsync(p1!, logoutRelay, {}));
  t.equal(res.status, 200);
  const notify = readForm(await res.text(), SP2_SLO);
  const asked = await sp2.validatePostRequestAsync({ SAMLRequest: notify.fields.SAMLRequest! });
  res = await b.get(await sp2.getLogoutResponseUrlAsync(asked.profile!, notify.fields.RelayState!, {}, true));
  t.equal(res.status, 303);
  const back = new URL(res.headers.get('location')!);
  t.equal(`${back.origin}${back.pathname}`, SP_SLO);
  t.equal((await sp1.validateRedirectAsync(Object.fromEntries(back.searchParams), back.search.slice(1))).loggedOut, true, 'logged out');

  // Every sensitive value that crossed the wire. `_interaction*` cookies hold the (public) interaction uid.
  const SENSITIVE = new Set(['code', 'state', 'duo_code', 'samlrequest', 'samlresponse', 'relaystate', 'signature', 'request', 'nonce', 'password', 'csrf']);
  const secrets: Record<string, string> = {
    password, wrongPassword, totpCode, wrongTotpCode: badCode, totpSecret, recoveryCode: recoveryCodes[0]!, masterSecret: TEST_SECRET,
    duoClientSecret: duo.emulator.clientSecret, duoAuthorizeRequest: duoAuthorize.searchParams.get('request')!,
    duoCode: duoCallback.searchParams.get('duo_code')!, duoState: duoCallback.searchParams.get('state')!,
    samlResponse1: login1.fields.SAMLResponse!, samlResponse2: login2.fields.SAMLResponse!,
    cipherValue: /CipherValue>([^<]+)</.exec(xml1)![1]!,
    nameIdPairwise: p1!.nameID, sessionIndex1: p1!.sessionIndex as string, nameIdTransient: p2!.nameID, sessionIndex2: p2!.sessionIndex as string,
    logoutRequestToSp2: notify.fields.SAMLRequest!, logoutId: notify.fields.RelayState!,
    logoutResponseToSp1: back.searchParams.get('SAMLResponse')!, logoutResponseSignature: back.searchParams.get('Signature')!,
    samlClientSecret: gw.services.box.derive(`saml-client:${SP_ENTITY}`).toString('base64url'),
  };
  let n = 0;
  for (const { url: u, form: body } of b.sent) {
    for (const [k, v] of [...u.searchParams, ...(body ?? [])]) if (SENSITIVE.has(k.toLowerCase()) && v.length >= 8) secrets[`${u.pathname}:${k}#${n++}`] = v;
  }
  for (const [key, v] of b.cookieValues) if (!/ _interaction(_resume)?=/.test(key) && v.length > 12) secrets[`cookie ${key.slice(0, key.indexOf('='))} #${n++}`] = v;
  t.ok(Object.keys(secrets).some((k) => k.startsWith('/saml/continue:code')), 'the internal code at /saml/continue is among them');
  t.ok(Object.keys(secrets).some((k) => /^\/saml\/slo:Signature/.test(k)), 'and the SLO query signatures');
  t.ok(Object.keys(secrets).some((k) => k.startsWith('cookie') && k.includes(' gh_saml ')), 'and the SAML browser cookie');

  const logs = gw.logs.join('\n');
  t.ok(gw.logs.length > 15, `logs were captured (${gw.logs.length} lines)`);
  t.match(logs, /"url":"\/saml\/sso\?SAMLRequest=\[redacted\]&RelayState=\[redacted\]&SigAlg=[^"&]+&Signature=\[redacted\]"/, 'the AuthnRequest was logged, redacted');
  t.match(logs, /"url":"\/saml\/continue\?code=\[redacted\]&state=\[redacted\]/, 'the return to /saml/continue was logged, redacted');
  t.match(logs, /"url":"\/saml\/slo\?SAMLRequest=\[redacted\]/, 'the LogoutRequest was logged, redacted');
  t.match(logs, /"url":"\/saml\/slo\?SAMLResponse=\[redacted\]/, 'the LogoutResponse was logged, redacted');
  t.ok(gw.logs.some((l) => l.includes('"saml.sso"')), 'the SAML audit line is there');
  for (const [name, value] of Object.entries(secrets)) {
    // As sent, as a URL would carry it (base64 `+/=` percent-encoded), and for long values (messages,
    // signatures) 24-character pieces all along them, so that a truncated or re-encoded copy is found too.
    const forms = new Set([value, encodeURIComponent(value)]);
    if (value.length > 64) for (const [run] of value.matchAll(/[A-Za-z0-9]{24,}/g)) for (let i = 0; i + 24 <= run.length; i += 48) forms.add(run.slice(i, i + 24));
    t.same([...forms].filter((f) => logs.includes(f)), [], `${name} never logged`);
  }
});
