// A logout that starts from OIDC (RP-initiated logout at end_session, or the account portal's sign-out,
// which uses it) tells the SAML SPs of that session, front channel: the browser is sent to each SP with an
// SLO endpoint in turn, carrying our signed LogoutRequest for that SP's NameID and SessionIndex (Redirect or
// auto-POST, as the SP registered), and ends where oidc-provider would have sent it (the RP's
// post_logout_redirect_uri with its state). node-saml plays the SPs; xmlsec1 checks the POST signature.
import t from 'tap';
import { Browser, readForm } from '../helpers/browser.ts';
import { confidentialClient } from '../helpers/gateway.ts';
import { discover, loginAndGetTokens, startAuthorize } from '../helpers/oidc.ts';
import { open, submit } from '../account/helpers.ts';
import { CSP } from '../../src/platform/security-headers.ts';
import { certToPem } from '../../src/protocols/saml/certs.ts';
import {
  SP2_ACS, SP2_ENTITY, SP2_SLO, SP_ENTITY, SP_SLO, idpCert, keyPair, nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser, xmlsecVerify,
} from './helpers.ts';

const SP3_ENTITY = 'https://noslo.example.test/saml';
const SP3_ACS = 'https://noslo.example.test/acs';

t.test('OIDC-started logout notifies the SAML SPs through the browser', async (t) => {
  const kp1 = await keyPair(1);
  const kp2 = await keyPair(2);
  const noSlo: Record<string, unknown> = await spConfig({ entityId: SP3_ENTITY, name: 'No-SLO SP', acs: [{ url: SP3_ACS }], signingCerts: [kp2.certPem] });
  delete noSlo.sloUrl;
  const gw = await startSamlGateway(t, [
    await spConfig(), // SLO over HTTP-Redirect
    await spConfig({ entityId: SP2_ENTITY, name: 'Other SP', acs: [{ url: SP2_ACS }], sloUrl: SP2_SLO, sloBinding: 'post', signingCerts: [kp1.certPem] }),
    noSlo,
  ], { overrides: { account: { mfa: 'off' } } });
  const user = await withUser(gw);
  const rp = await discover(gw);
  const sp1 = await nodeSamlSp(gw);
  const sp2 = await nodeSamlSp(gw, { issuer: SP2_ENTITY, callbackUrl: SP2_ACS, audience: SP2_ENTITY, privateKey: kp1.keyPem });
  const sp3 = await nodeSamlSp(gw, { issuer: SP3_ENTITY, callbackUrl: SP3_ACS, audience: SP3_ENTITY, privateKey: kp2.keyPem });
  const idpPem = certToPem(await idpCert(gw));
  const samlSessions = async () => (await gw.services.db.query('SELECT 1 FROM saml_sessions WHERE user_id = $1', [user.id])).rowCount;
  const logouts = async () => (await gw.services.db.query('SELECT 1 FROM saml_logouts')).rowCount;
  t.beforeEach(async () => { await gw.services.db.query('DELETE FROM saml_sessions'); });

  /** Signs the browser in to the RP and to the given SPs; returns the id token and each SP's profile. */
  async function signedIn(browser: Browser, sps: typeof sp1[]) {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { browser, scope: 'openid' });
    const profiles = [];
    for (const sp of sps) {
      const posted = await redirectLogin(gw, sp, browser, 'rs', { password: false });
      profiles.push((await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! })).profile!);
    }
    return { idToken: tokens.id_token!, profiles };
  }

  /** RP-initiated logout: end_session, then the user confirms. Returns the confirmation's answer. */
  async function rpLogout(browser: Browser, idToken: string, state: string) {
    const end = new URL(`${gw.url}/oidc/session/end`);
    end.searchParams.set('id_token_hint', idToken);
    end.searchParams.set('post_logout_redirect_uri', confidentialClient.postLogoutRedirectUris[0]!);
    end.searchParams.set('state', state);
    const confirm = readForm(await (await browser.get(end)).text(), '/session/end/confirm');
    return browser.post(new URL(confirm.action, gw.url), { ...confirm.fields, logout: 'yes' });
  }

  t.test('RP-initiated logout: each SP with an SLO endpoint gets a signed LogoutRequest, then the RP\'s post_logout_redirect_uri', async (t) => {
    const browser = new Browser();
    const { idToken, profiles: [p1, p2] } = await signedIn(browser, [sp1, sp2, sp3]);
    t.equal(await samlSessions(), 3, 'signed in to three SPs on one gateway session');

    const res = await rpLogout(browser, idToken, 'rp-state-1');
    t.equal(await samlSessions(), 0, 'the SAML sessions ended before the answer');

    // SP 1 (HTTP-Redirect): a signed LogoutRequest in the query.
    t.equal(res.status, 303);
    const toSp1 = new URL(res.headers.get('location')!);
    t.equal(`${toSp1.origin}${toSp1.pathname}`, SP_SLO, 'first to SP 1\'s SLO endpoint');
    const asked1 = await sp1.validateRedirectAsync(Object.fromEntries(toSp1.searchParams), toSp1.search.slice(1));
    t.equal(asked1.loggedOut, true, 'node-saml verifies the signed LogoutRequest');
    t.equal(asked1.profile!.nameID, p1!.nameID, 'for SP 1\'s NameID');
    t.equal(asked1.profile!.sessionIndex, p1!.sessionIndex, 'and its SessionIndex');
    t.equal(asked1.profile!.issuer, `${gw.url}/saml/metadata`);
    const relay = toSp1.searchParams.get('RelayState')!;
    t.ok(relay, 'a RelayState that names the logout');

    // SP 1 confirms; the browser goes on to SP 2 (HTTP-POST, auto-submitted form).
    const next = await browser.get(await sp1.getLogoutResponseUrlAsync(asked1.profile!, relay, {}, true));
    t.equal(next.status, 200);
    t.equal(next.headers.get('content-security-policy'), CSP, 'the gateway\'s CSP: script-src \'self\', no form-action, so the form may post to the SP');
    const page = await next.text();
    t.match(page, '<script src="/assets/saml-post.js"></script>', 'submitted by the static script the CSP allows');
    const form = readForm(page, SP2_SLO);
    t.equal(form.action, SP2_SLO);
    t.equal(form.fields.RelayState, relay);
    const xml = Buffer.from(form.fields.SAMLRequest!, 'base64').toString('utf8');
    t.ok((await xmlsecVerify(xml, idpPem, ['LogoutRequest'])).ok, 'xmlsec1 verifies the enveloped signature with the IdP certificate');
    const asked2 = await sp2.validatePostRequestAsync({ SAMLRequest: form.fields.SAMLRequest! });
    t.equal(asked2.profile!.nameID, p2!.nameID, 'node-saml: SP 2\'s NameID');
    t.equal(asked2.profile!.sessionIndex, p2!.sessionIndex, 'and SessionIndex');

    // SP 2 confirms; SP 3 has no SLO endpoint and is skipped: the browser lands at the RP.
    const last = await browser.get(await sp2.getLogoutResponseUrlAsync(asked2.profile!, relay, {}, true));
    t.equal(last.status, 303);
    t.equal(last.headers.get('location'), `${confidentialClient.postLogoutRedirectUris[0]}?state=rp-state-1`, 'the RP\'s post_logout_redirect_uri, with its state');
    t.equal(await logouts(), 0, 'the logout is finished and forgotten');

    t.equal((await browser.get(await sp2.getLogoutResponseUrlAsync(asked2.profile!, relay, {}, true))).status, 400, 'a replayed LogoutResponse changes nothing');
    const oidc = await startAuthorize(gw, rp, { browser, scope: 'openid' });
    t.notOk(oidc.at.href.startsWith(confidentialClient.redirectUris[0]!), 'OIDC asks to sign in again');
    t.ok((await redirectLogin(gw, sp3, browser)).sawLogin, 'SAML (even the SP that was not told) asks for the password again');
    t.match(gw.logs.filter((l) => l.includes('oidc_end_session')).join('\n'), `"notify":["${SP_ENTITY}","${SP2_ENTITY}"]`, 'audited, naming the SPs told');
  });

  t.test('when the first SP to tell has an HTTP-POST endpoint, the confirmation itself is the auto-post page', async (t) => {
    const browser = new Browser();
    const { idToken, profiles: [p2] } = await signedIn(browser, [sp2]);
    const res = await rpLogout(browser, idToken, 's4');
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-security-policy'), CSP, 'under the gateway\'s CSP');
    t.equal(res.headers.get('cache-control'), 'no-store');
    const form = readForm(await res.text(), SP2_SLO);
    const asked = await sp2.validatePostRequestAsync({ SAMLRequest: form.fields.SAMLRequest! });
    t.equal(asked.profile!.sessionIndex, p2!.sessionIndex, 'node-saml: a signed LogoutRequest for SP 2\'s session');
    const last = await browser.get(await sp2.getLogoutResponseUrlAsync(asked.profile!, form.fields.RelayState!, {}, true));
    t.equal(last.headers.get('location'), `${confidentialClient.postLogoutRedirectUris[0]}?state=s4`);
  });

  t.test('an SP that answers with an error does not strand the user', async (t) => {
    const browser = new Browser();
    const { idToken } = await signedIn(browser, [sp1]);
    const toSp1 = new URL((await rpLogout(browser, idToken, 's2')).headers.get('location')!);
    const asked = await sp1.validateRedirectAsync(Object.fromEntries(toSp1.searchParams), toSp1.search.slice(1));
    const last = await browser.get(await sp1.getLogoutResponseUrlAsync(asked.profile!, toSp1.searchParams.get('RelayState')!, {}, false));
    t.equal(last.headers.get('location'), `${confidentialClient.postLogoutRedirectUris[0]}?state=s2`, 'still on to the RP');
  });

  t.test('no SP to tell (none signed in, or none with an SLO endpoint): straight to the RP', async (t) => {
    const browser = new Browser();
    const { idToken } = await signedIn(browser, [sp3]);
    t.equal(await samlSessions(), 1);
    const res = await rpLogout(browser, idToken, 's3');
    t.equal(res.status, 303);
    t.equal(res.headers.get('location'), `${confidentialClient.postLogoutRedirectUris[0]}?state=s3`);
    t.equal(await samlSessions(), 0, 'the SAML session ended');
    t.equal(await logouts(), 0, 'no logout walk started');
  });

  t.test('"Stay signed in" at the confirmation tells no SP and ends no SAML session', async (t) => {
    const browser = new Browser();
    const { idToken } = await signedIn(browser, [sp1]);
    const end = new URL(`${gw.url}/oidc/session/end`);
    end.searchParams.set('id_token_hint', idToken);
    const confirm = readForm(await (await browser.get(end)).text(), '/session/end/confirm');
    const res = await browser.post(new URL(confirm.action, gw.url), confirm.fields);
    t.equal(res.status, 303);
    t.notOk(res.headers.get('location')!.startsWith(SP_SLO), 'not sent to the SP');
    t.equal(await samlSessions(), 1, 'the SAML session stays');
    t.notOk((await redirectLogin(gw, sp1, browser)).sawLogin, 'and SAML single sign-on still works');
  });

  t.test('the account portal\'s sign-out takes the same walk and ends at the portal\'s signed-out page', async (t) => {
    const b = new Browser();
    const home = await open(gw, b, '/account');
    t.equal(home.url.pathname, '/account');
    const one = await redirectLogin(gw, sp1, b, 'rs', { password: false });
    const { profile } = await sp1.validatePostResponseAsync({ SAMLResponse: one.fields.SAMLResponse! });
    const end = new URL((await submit(gw, b, (await (await b.get(`${gw.url}/account`)).text()), '/account/sign-out')).headers.get('location')!);
    const confirm = readForm(await (await b.get(end)).text(), '/session/end/confirm');
    const res = await b.post(new URL(confirm.action, gw.url), { ...confirm.fields, logout: 'yes' });
    const toSp1 = new URL(res.headers.get('location')!);
    t.equal(`${toSp1.origin}${toSp1.pathname}`, SP_SLO, 'to SP 1 first');
    const asked = await sp1.validateRedirectAsync(Object.fromEntries(toSp1.searchParams), toSp1.search.slice(1));
    t.equal(asked.profile!.sessionIndex, profile!.sessionIndex, 'for its session');
    const last = await b.get(await sp1.getLogoutResponseUrlAsync(asked.profile!, toSp1.searchParams.get('RelayState')!, {}, true));
    t.equal(last.headers.get('location'), `${gw.url}/account/signed-out`, 'then the portal\'s signed-out page');
    t.equal(await samlSessions(), 0);
  });
});
