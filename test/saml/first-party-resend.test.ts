// An HTTP-POST AuthnRequest from another site carries none of the gateway's SameSite=Lax cookies, so /saml/sso
// checks it and has the browser post it again from the gateway's own page, which carries them
// (src/protocols/saml/first-party-resend.ts): a signed-in browser then gets its Response in-process. Here:
// the resend page and what it writes (nothing), the signed-in and signed-out trips after it, refusals at the
// first post, the cases that are not resent, and a replayed resend. The Chromium proof that a real browser
// behaves as modelled here (no cookie cross-site, the cookie on the resend) is test/e2e/saml-post-binding.test.ts.
import t from 'tap';
import { Browser, readForm, SAME_ORIGIN } from '../helpers/browser.ts';
import { traceDb } from '../helpers/db-trace.ts';
import { RESENT_FIELD, shouldResend } from '../../src/protocols/saml/first-party-resend.ts';
import { authnRequestXml, b64, errorCode, keyPair, nodeSamlSp, postLogin, resendPost, signXml, SP_ACS, spConfig, startSamlGateway, walkToPost, withUser } from './helpers.ts';

const ISSUER = 'http://127.0.0.1:1';
const SESSION = { cookie: '_session=abc; _session.legacy.sig=x' };

t.test('shouldResend: only a post that may have lost its cookies on the way', async (t) => {
  t.ok(shouldResend(ISSUER, {}, false), 'no Fetch Metadata, no cookie (an older browser, or not a browser)');
  t.ok(shouldResend(ISSUER, { 'sec-fetch-site': 'cross-site' }, false), 'cross-site, no cookie');
  t.ok(shouldResend(ISSUER, { 'sec-fetch-site': 'cross-site', cookie: 'gh_saml=x; other=1' }, false), 'cookies, but not the session');
  t.notOk(shouldResend(ISSUER, { 'sec-fetch-site': 'cross-site', ...SESSION }, false), 'the session cookie came along');
  t.notOk(shouldResend(ISSUER, { 'sec-fetch-site': 'cross-site' }, true), 'the resend itself (its marker)');
  for (const site of ['same-origin', 'same-site', 'none']) {
    t.notOk(shouldResend(ISSUER, { 'sec-fetch-site': site }, false), `${site}: the browser sent every cookie it had`);
  }
});

t.test('an HTTP-POST AuthnRequest from another site', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig({ requireSignedRequests: true })]);
  await withUser(gw);
  const kp = await keyPair(0);
  const sso = `${gw.url}/saml/sso`;
  const count = async (sql: string) => (await gw.services.db.query<{ n: number }>(sql)).rows[0]!.n;
  const rows = async () => ({
    seen: await count('SELECT count(*)::int AS n FROM saml_seen_ids'),
    parked: await count('SELECT count(*)::int AS n FROM saml_requests'),
    models: await count('SELECT count(*)::int AS n FROM oidc_models'),
    audit: await count('SELECT count(*)::int AS n FROM audit_events'),
  });
  const signed = (o: Parameters<typeof authnRequestXml>[1] = {}) => b64(signXml(authnRequestXml(gw, o), kp));

  t.test('is answered with a page that posts it again from the gateway, and nothing is written', async (t) => {
    const before = await rows();
    const fields = { SAMLRequest: signed(), RelayState: 'rs "<x>" & y' };
    const res = await new Browser().crossSitePost(sso, fields);
    t.equal(res.status, 200);
    t.equal(res.headers.get('cache-control'), 'no-store');
    t.equal(res.headers.getSetCookie().length, 0, 'no cookie set');
    const page = await res.text();
    const form = readForm(page, '/saml/sso');
    t.equal(form.action, sso, 'posted to the gateway itself');
    t.same(form.fields, { ...fields, [RESENT_FIELD]: '1' }, 'the same fields, and the marker');
    t.notMatch(page, '"<x>"', 'RelayState escaped in the page');
    t.match(page, /<script src="\/assets\/saml-post\.js"><\/script>/, 'submitted by the same-origin script');
    t.match(page, /<button type="submit" id="continue">Continue<\/button>/, 'and a Continue button without JavaScript');
    t.match(page, 'Example SP', 'names the SP');
    t.same(await rows(), before, 'no message ID claimed, nothing parked, no session, no audit row');
  });

  t.test('a signed-in browser gets its Response from the resend: two requests, one commit', async (t) => {
    const sp = await nodeSamlSp(gw, { authnRequestBinding: 'HTTP-POST', skipRequestCompression: true });
    const browser = new Browser();
    const first = await postLogin(gw, sp, browser, 'rs-1');
    t.ok(first.resent && first.sawLogin && first.fields.SAMLResponse, 'signed out: resent, then the login form, then the Response');

    const msg = await sp.getAuthorizeMessageAsync('rs-2') as Record<string, string>;
    const bounce = await browser.crossSitePost(sso, msg);
    t.equal(bounce.status, 200, 'the first post, without cookies, is resent');
    const tr = traceDb(gw.services.db);
    const res = await resendPost(browser, readForm(await bounce.text(), '/saml/sso'));
    t.equal(res.status, 200, 'the resend is answered with the auto-post to the ACS at once');
    const page = await res.text();
    const posted = readForm(page, SP_ACS);
    t.equal(posted.action, SP_ACS);
    t.equal(posted.fields.RelayState, 'rs-2', 'RelayState carried through both posts');
    t.equal(tr.commits, 1, 'one durable commit');
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! });
    t.equal(profile?.nameID, 'alice@example.com', 'node-saml accepts the Response');
    t.equal(await count(`SELECT count(*)::int AS n FROM saml_requests WHERE request_id = '${profile!.inResponseTo}'`), 0, 'nothing parked');
  });

  t.test('a request the gateway refuses is refused at the first post, without a resend page', async (t) => {
    const cases: [string, Record<string, string>, string][] = [
      ['unsigned', { SAMLRequest: b64(authnRequestXml(gw)) }, 'GW_SAML_UNSIGNED'],
      ['unknown SP', { SAMLRequest: b64(signXml(authnRequestXml(gw, { issuer: 'https://unknown.example' }), kp)) }, 'GW_SAML_UNKNOWN_SP'],
      ['stale', { SAMLRequest: signed({ instant: new Date(Date.now() - 10 * 60_000) }) }, 'GW_SAML_STALE'],
      ['unregistered ACS', { SAMLRequest: signed({ acsUrl: 'https://attacker.example/acs' }) }, 'GW_SAML_ACS_UNKNOWN'],
      ['not XML', { SAMLRequest: b64('not xml') }, 'GW_SAML_MALFORMED'],
      ['tampered', { SAMLRequest: b64(Buffer.from(signed(), 'base64').toString('utf8').replace('Version="2.0"', 'Version="2.0" ForceAuthn="true"')) }, 'GW_SAML_SIGNATURE_INVALID'],
    ];
    const before = await rows();
    for (const [name, fields, code] of cases) {
      const res = await new Browser().crossSitePost(sso, fields);
      const page = await res.text();
      t.equal(res.status, 400, `${name}: 400`);
      t.equal(errorCode(page), code, `${name}: ${code}`);
      t.notMatch(page, RESENT_FIELD, `${name}: no resend page`);
    }
    t.same(await rows(), before, 'nothing written');
  });

  t.test('a signed-out browser: the resend parks the request and goes to the login form', async (t) => {
    const browser = new Browser();
    const bounce = await browser.crossSitePost(sso, { SAMLRequest: signed(), RelayState: 'rs' });
    const res = await resendPost(browser, readForm(await bounce.text(), '/saml/sso'));
    t.equal(res.status, 303);
    t.ok(res.headers.get('location')?.startsWith(`${gw.url}/oidc/auth?`), 'into the OIDC pipeline, as a same-site post');
    const done = await walkToPost(gw, browser, res);
    t.ok(done.sawLogin && done.fields.SAMLResponse, 'signed in, then the Response');
  });

  t.test('posts that are not resent', async (t) => {
    const cases: [string, Record<string, string>, Record<string, string>][] = [
      ['same-origin', {}, SAME_ORIGIN],
      ['same-site (an SP under the same site sends the cookies)', {}, { 'sec-fetch-site': 'same-site' }],
      ['the marker, without Fetch Metadata', { [RESENT_FIELD]: '1' }, {}],
    ];
    for (const [name, extra, headers] of cases) {
      const res = await new Browser().post(sso, { SAMLRequest: signed(), RelayState: 'rs', ...extra }, headers);
      t.equal(res.status, 303, `${name}: straight into the OIDC pipeline`);
      t.ok(res.headers.get('location')?.startsWith(`${gw.url}/oidc/auth?`), `${name}: location`);
    }
  });

  t.test('a resend posted twice: the second is a replay', async (t) => {
    const bounce = await new Browser().crossSitePost(sso, { SAMLRequest: signed(), RelayState: 'rs' });
    const form = readForm(await bounce.text(), '/saml/sso');
    t.equal((await resendPost(new Browser(), form)).status, 303, 'the first resend goes on');
    const replay = await resendPost(new Browser(), form);
    t.equal(replay.status, 400);
    t.equal(errorCode(await replay.text()), 'GW_SAML_REPLAY', 'the message ID was claimed by the first');
    const first = await new Browser().crossSitePost(sso, { SAMLRequest: form.fields.SAMLRequest! });
    t.equal(first.status, 200, 'a first post of a claimed ID is still resent (it claims nothing)…');
    const resent = await resendPost(new Browser(), readForm(await first.text(), '/saml/sso'));
    t.equal(errorCode(await resent.text()), 'GW_SAML_REPLAY', '…and refused when it would go on');
  });
});
