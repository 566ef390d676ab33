// Horizontal scale: two instances on one database, nothing instance-local. An OIDC login (password + TOTP)
// hops between them at every request, and a key rotation on one is picked up by the other (PostgreSQL). A SAML
// login with Duo hops at every step (AuthnRequest on B, password to A, factor choice on B, Duo begun on A,
// Duo's return and the assertion on B) and its single logout is started on A and finished on B (PostgreSQL
// or a shared PGlite).
import t from 'tap';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { PG_URL, requirePostgres, freshDb } from '../helpers/db.ts';
import { confidentialClient, startGateway } from '../helpers/gateway.ts';
import { twoInstances } from '../helpers/two-instances.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { ACR_MFA, auditRows, enrollTotp, matchAll, totpNow } from '../helpers/mfa.ts';
import { startDuo, visitDuo } from '../helpers/duo.ts';
import { SP2_ACS, SP2_ENTITY, SP2_SLO, SP_ACS, SP_SLO, keyPair, nodeSamlSp, spConfig } from '../saml/helpers.ts';

const url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

t.test('a login hops between two instances at every step', async (t) => {
  if (!await requirePostgres(t, 'the two-instance test needs a shared PostgreSQL (PGlite is single-process)', url)) return;
  const shared = await freshDb('pg', url);
  await shared.db.close();
  t.teardown(() => shared.drop());
  const overrides = { oidc: { clients: [{ ...confidentialClient, mfa: 'required' }] }, database: { sweepIntervalSeconds: 1 } };
  const a = await startGateway(t, { databaseUrl: shared.url, overrides });
  const b = await startGateway(t, { databaseUrl: shared.url, overrides, issuer: a.url });
  const portA = new URL(a.url).port;
  const portB = String((b.app.server.address() as { port: number }).port);
  t.not(portA, portB);

  const user = await addUser(a);
  const { secret } = await enrollTotp(a, user.id);
  const rp = await discover(a);
  let n = 0;
  const seen = new Set<string>();
  const hop = (u: URL) => { if (u.port === portA) { u.port = n++ % 2 ? portB : portA; seen.add(u.port); } return u; };

  const s = await startAuthorize(a, rp, { browser: Object.assign(new (await import('../helpers/browser.ts')).Browser(), { rewrite: hop }) });
  let posted = await submitLogin(s.browser, a, await s.res.text(), 'alice', 'correct horse battery');
  t.equal(posted.status, 200, 'the factor choice is the password POST\'s answer');
  let at = s.at;
  const choice = readForm(await posted.text(), '/mfa/begin');
  let res = await s.browser.post(new URL(choice.action, a.url), { ...choice.fields, factor: 'totp' });
  ({ res, url: at } = await s.browser.follow(res, at));
  const form = readForm(await res.text(), '/mfa/totp');
  posted = await s.browser.post(new URL(form.action, a.url), { ...form.fields, code: totpNow(secret) });
  ({ url: at } = await s.browser.follow(posted, at, (u) => u.href.startsWith(s.redirectUri)));
  t.ok(at.href.startsWith(s.redirectUri), 'back at the client');
  t.same([...seen].sort(), [portA, portB].sort(), 'both instances served parts of the login');
  const tokens = await client.authorizationCodeGrant(rp, at, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  t.same(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);

  // Key rotation on A; B notices on its next housekeeping tick and both publish and use the same keys.
  const before = tokens.id_token!;
  const [newKid] = await a.services.keys.rotate(3600);
  let bKids: string[] = [];
  for (let i = 0; i < 50; i++) {
    bKids = ((await (await fetch(`http://127.0.0.1:${portB}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    if (bKids.includes(newKid!)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(bKids.includes(newKid!), 'B publishes the key A created');
  const jwksB = createRemoteJWKSet(new URL(`http://127.0.0.1:${portB}/oidc/jwks`));
  await t.resolves(jwtVerify(before, jwksB, { issuer: a.url, audience: confidentialClient.clientId }), 'a token signed before the rotation still verifies at B');
});

t.test('a SAML login with Duo hops between two instances at every step, then single logout', async (t) => {
  const duo = await startDuo(t);
  const kp1 = await keyPair(1);
  const [a, b] = await twoInstances(t, {
    ...duo.overrides({ factors: ['duo', 'totp'] }),
    database: { sweepIntervalSeconds: 1 },
    saml: {
      sps: [
        await spConfig({ mfa: 'required' }),
        await spConfig({ entityId: SP2_ENTITY, name: 'Other SP', acs: [{ url: SP2_ACS }], sloUrl: SP2_SLO, signingCerts: [kp1.certPem] }),
      ],
    },
  });
  const portA = new URL(a.url).port;
  const portB = String((b.app.server.address() as { port: number }).port);
  t.not(portA, portB);
  const user = await addUser(a);
  await enrollTotp(a, user.id); // a second factor, so that the factor choice shows and Duo is chosen on A
  const sp = await nodeSamlSp(a, { disableRequestedAuthnContext: true });
  const sp2 = await nodeSamlSp(a, { issuer: SP2_ENTITY, callbackUrl: SP2_ACS, audience: SP2_ENTITY, privateKey: kp1.keyPem, disableRequestedAuthnContext: true });

  // Every request to the public URL goes to the other instance than the one before, except the named steps,
  // which go where the scenario says. The trace records who served what.
  const PINNED: [RegExp, (u: URL) => boolean, 'A' | 'B'][] = [
    [/^\/saml\/sso$/, () => true, 'A'], // the AuthnRequest (then B answers the authorization request with the login form)
    [/^\/interaction\/[^/]+\/login$/, () => true, 'A'], // the login form's POST
    [/^\/interaction\/[^/]+\/mfa\/begin$/, () => true, 'B'], // the factor: Duo begins on B
    [/^\/interaction\/[^/]+\/mfa\/duo\/callback$/, () => true, 'A'], // and returns to A
    [/^\/saml\/continue$/, () => true, 'B'], // the assertion (the Duo callback on A resumed the authorization in-process)
    [/^\/saml\/slo$/, (u) => u.searchParams.has('SAMLRequest'), 'A'], // SP 1's LogoutRequest
    [/^\/saml\/slo$/, (u) => u.searchParams.has('SAMLResponse'), 'B'], // SP 2's LogoutResponse
  ];
  const trace: { path: string; on: 'A' | 'B' }[] = [];
  let last: 'A' | 'B' = 'B';
  const hop = (u: URL) => {
    if (u.port !== portA) return u;
    const pin = PINNED.find(([re, when]) => re.test(u.pathname) && when(u));
    last = pin ? pin[2] : last === 'A' ? 'B' : 'A';
    trace.push({ path: u.pathname, on: last });
    u.port = last === 'A' ? portA : portB;
    return u;
  };
  const browser = Object.assign(new Browser(), { rewrite: hop });
  const on = (path: RegExp) => trace.filter((s) => path.test(s.path)).map((s) => s.on);

  let { res, url: at } = await browser.follow(await browser.get(await sp.getAuthorizeUrlAsync('rs-hop', undefined, {})), a.url);
  const login = readForm(await res.text(), '/login');
  ({ res, url: at } = await browser.follow(await browser.post(new URL(login.action, a.url), { ...login.fields, username: 'alice', password: 'correct horse battery' }), at));
  const choice = readForm(await res.text(), '/mfa/begin');
  res = await browser.post(new URL(choice.action, a.url), { ...choice.fields, factor: 'duo' });
  const prompt = new URL(res.headers.get('location')!);
  t.equal(prompt.pathname, '/oauth/v1/authorize', 'B sent the browser to Duo');
  const hopDuo = await visitDuo(prompt, duo.emulator.caPem);
  const callback = new URL(hopDuo.location!);
  t.equal(callback.port, portA, 'Duo returns to the public URL');
  ({ res, url: at } = await browser.follow(await browser.get(callback), callback));
  t.equal(at.pathname, '/saml/continue');
  const page = await res.text();
  t.match(page, /id="saml-post"/, 'the auto-post to the SP');
  const posted = readForm(page, '');
  t.equal(posted.action, SP_ACS);
  t.equal(posted.fields.RelayState, 'rs-hop');
  const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! });
  t.ok(profile, 'node-saml verifies the Response B signed with the key A published');
  t.equal(profile!.nameID, 'alice@example.com');
  t.equal(/<saml:AuthnContextClassRef>([^<]+)</.exec(Buffer.from(posted.fields.SAMLResponse!, 'base64').toString())?.[1], ACR_MFA, 'the MFA class');

  t.ok(trace.length >= 6 && trace.every((s, i) => i === 0 || s.on !== trace[i - 1]!.on), `every request of the login went to the other instance (${trace.map((s) => s.on).join('')})`);
  t.same(on(/^\/saml\/sso$/), ['A'], 'AuthnRequest on A');
  t.same(on(/\/login$/), ['A'], 'login form posted to A');
  t.same(on(/\/mfa\/begin$/), ['B'], 'factor on B');
  t.same(on(/\/duo\/callback$/), ['A'], 'Duo callback on A');
  t.same(on(/^\/saml\/continue$/), ['B'], 'assertion from B');
  // The login form is the authorization request's answer from B (src/protocols/oidc/login-in-authorize.ts),
  // posted to A with the interaction B wrote; the factor choice runs in the login's interaction
  // (src/interaction/pending-mfa.ts) and is the password POST's answer from A; the pending password result
  // that A wrote is read by B, which begins Duo; the Duo callback on A resumes the authorization in-process
  // (src/interaction/resume-in-process.ts) and sends the browser on to /saml/continue.
  t.same(on(/^\/interaction\/[^/]+$/), [], 'no trip to the interaction page');
  t.same(on(/^\/oidc\/auth/), ['B'], 'the authorization endpoint: the request (the login form) on B; no resume trip');
  matchAll(t, await auditRows(a, user.id, 'mfa.duo'), [{ outcome: 'success', factor: 'duo' }]);

  // SP 2 rides the session from whichever instance; then SP 1's LogoutRequest on A, SP 2's answer on B.
  ({ res } = await browser.follow(await browser.get(await sp2.getAuthorizeUrlAsync('rs-hop-2', undefined, {})), a.url));
  const posted2 = readForm(await res.text(), '');
  t.equal(posted2.action, SP2_ACS, 'single sign-on to SP 2 without a password');
  t.ok((await sp2.validatePostResponseAsync({ SAMLResponse: posted2.fields.SAMLResponse! })).profile);

  res = await browser.get(await sp.getLogoutUrlAsync(profile!, 'rs-logout', {}));
  t.equal(res.status, 303, 'A sends the browser to SP 2 with a LogoutRequest');
  const toSp2 = new URL(res.headers.get('location')!);
  t.equal(`${toSp2.origin}${toSp2.pathname}`, SP2_SLO);
  const asked = await sp2.validateRedirectAsync(Object.fromEntries(toSp2.searchParams), toSp2.search.slice(1));
  t.equal(asked.profile!.nameID, 'alice@example.com', 'node-saml verifies the LogoutRequest A signed');
  res = await browser.get(await sp2.getLogoutResponseUrlAsync(asked.profile!, toSp2.searchParams.get('RelayState')!, {}, true));
  t.equal(res.status, 303, 'B continues the logout A started');
  const back = new URL(res.headers.get('location')!);
  t.equal(`${back.origin}${back.pathname}`, SP_SLO);
  t.equal(back.searchParams.get('RelayState'), 'rs-logout');
  t.equal((await sp.validateRedirectAsync(Object.fromEntries(back.searchParams), back.search.slice(1))).loggedOut, true, 'SP 1 gets a Success LogoutResponse from B');
  t.same(on(/^\/saml\/slo$/), ['A', 'B'], 'SLO: LogoutRequest on A, LogoutResponse on B');
  t.equal((await a.services.db.query('SELECT 1 FROM saml_sessions WHERE user_id = $1', [user.id])).rowCount, 0, 'no SAML session left');

  // The gateway session is gone for both instances.
  for (const via of ['A', 'B'] as const) {
    const direct = Object.assign(new Browser(), { cookies: browser.cookies, rewrite: (u: URL) => { if (u.port === portA) u.port = via === 'A' ? portA : portB; return u; } });
    const { res: r } = await direct.follow(await direct.get(await sp.getAuthorizeUrlAsync('rs-after', undefined, {})), a.url);
    t.match(await r.text(), /name="password"/, `${via} asks for the password again`);
  }
});
