// SAML on the one login pipeline: single sign-on both ways between OIDC and SAML, ForceAuthn, IsPassive,
// RequestedAuthnContext driving the MFA step, the AuthnContextClassRef from the amr table, IdP-initiated
// login for opted-in SPs only, and the parked request bound to the browser that started it.
import t from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import { ValidateInResponseTo } from '@node-saml/node-saml';
import { Browser, readForm } from '../helpers/browser.ts';
import { discover, loginAndGetCallback, startAuthorize } from '../helpers/oidc.ts';
import { enrollTotp, freshTotp } from '../helpers/mfa.ts';
import { confidentialClient } from '../helpers/gateway.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/mfa/amr.ts';
import {
  SP2_ENTITY, SP_ACS, SP_ENTITY, errorCode, keyPair, nodeSamlSp, redirectLogin, spConfig, startSamlGateway, walkToPost, withUser,
} from './helpers.ts';

const NS_P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const PASSWORD = 'correct horse battery';

const statusOf = (b64: string) => {
  const doc = new DOMParser().parseFromString(Buffer.from(b64, 'base64').toString('utf8'), 'text/xml');
  const codes = Array.from(doc.getElementsByTagNameNS(NS_P, 'StatusCode')).map((e) => e.getAttribute('Value')!.split(':').pop());
  return { codes, message: doc.getElementsByTagNameNS(NS_P, 'StatusMessage')[0]?.textContent, doc };
};
const classRef = (xml: string) => /<saml:AuthnContextClassRef>([^<]+)</.exec(xml)?.[1];

t.test('SAML on the OIDC pipeline', async (t) => {
  const gw = await startSamlGateway(t, [
    await spConfig({ allowIdpInitiated: true, idpInitiatedRelayState: 'https://sp.example.test/home' }),
    await spConfig({ entityId: SP2_ENTITY, name: 'Other SP', acs: [{ url: 'https://other.example.test/acs' }], sloUrl: undefined, signingCerts: [(await keyPair(1)).certPem], mfa: 'required' }),
  ]);
  const user = await withUser(gw);
  const rp = await discover(gw);
  const sp = await nodeSamlSp(gw);

  t.test('OIDC first, then SAML without a password', async (t) => {
    const browser = new Browser();
    await loginAndGetCallback(gw, rp, 'alice', PASSWORD, { browser, scope: 'openid' });
    const posted = await redirectLogin(gw, sp, browser, 'rs', { password: false });
    t.notOk(posted.sawLogin, 'no login form: the SSO session is oidc-provider\'s');
    t.equal(posted.action, SP_ACS);
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! });
    t.equal(profile!.nameID, 'alice@example.com');
  });

  t.test('SAML first, then OIDC without a password', async (t) => {
    const browser = new Browser();
    const posted = await redirectLogin(gw, sp, browser);
    t.ok(posted.sawLogin, 'the first sign-in asks the password');
    const s = await startAuthorize(gw, rp, { browser, scope: 'openid' });
    t.ok(s.at.href.startsWith(confidentialClient.redirectUris[0]!), 'straight back at the OIDC client with a code');
    t.ok(s.at.searchParams.get('code'), 'code issued');
  });

  t.test('ForceAuthn asks the password again; IsPassive answers NoPassive without a session', async (t) => {
    const browser = new Browser();
    await redirectLogin(gw, sp, browser);
    const forced = await redirectLogin(gw, await nodeSamlSp(gw, { forceAuthn: true }), browser);
    t.ok(forced.sawLogin, 'ForceAuthn: the password is asked although a session exists');
    t.equal(forced.action, SP_ACS);

    const passiveSp = await nodeSamlSp(gw, { passive: true });
    const withSession = await redirectLogin(gw, passiveSp, browser, 'rs', { password: false });
    t.equal(statusOf(withSession.fields.SAMLResponse!).codes[0], 'Success', 'IsPassive with a session: signed in silently');

    const none = await redirectLogin(gw, passiveSp, new Browser(), 'rs-passive', { password: false });
    t.equal(none.action, SP_ACS, 'the status goes to the ACS');
    t.equal(none.fields.RelayState, 'rs-passive');
    const st = statusOf(none.fields.SAMLResponse!);
    t.same(st.codes, ['Responder', 'NoPassive'], 'Responder / NoPassive');
    t.equal(st.message, 'GW_SAML_NO_PASSIVE');
    t.equal(st.doc.getElementsByTagNameNS(NS_A, 'Assertion').length, 0, 'no assertion');
    // node-saml answers a NoPassive status with profile null only when the Response signature verifies.
    const r = await passiveSp.validatePostResponseAsync({ SAMLResponse: none.fields.SAMLResponse! });
    t.equal(r.profile, null, 'node-saml verifies the signed NoPassive status');
  });

  t.test('a signed-in browser is answered by /saml/sso itself; a session cookie naming no live session changes nothing', async (t) => {
    const browser = new Browser();
    await redirectLogin(gw, sp, browser);
    const signedIn = await browser.get(await sp.getAuthorizeUrlAsync('rs-inline', undefined, {}));
    t.equal(signedIn.status, 200, 'signed in: the auto-post form at once');
    t.ok(signedIn.headers.getSetCookie().some((c) => c.startsWith('_session=')), 'the session cookie oidc-provider renewed is passed on');

    // ForceAuthn: oidc-provider's login prompt, passed on to the browser with its interaction cookies.
    const forcedSp = await nodeSamlSp(gw, { forceAuthn: true });
    const forced = await browser.get(await forcedSp.getAuthorizeUrlAsync('rs-forced', undefined, {}));
    t.equal(forced.status, 303);
    t.match(forced.headers.get('location') ?? '', /^\/interaction\//, 'ForceAuthn: straight to the login screen');
    t.ok(forced.headers.getSetCookie().some((c) => c.startsWith('_interaction=')), 'with the interaction cookie');

    // A cookie that names no session (expired, forged, from another gateway): the in-process authorization
    // finds no session, exactly as a trip through /oidc/auth would.
    const stale = new Browser();
    const host = new URL(gw.url).hostname;
    stale.cookies.set(host, new Map([['_session', 'nosuchsession0000000000000000000000000000000'], ['_session.sig', 'forged']]));
    const passiveSp = await nodeSamlSp(gw, { passive: true });
    const passive = await stale.get(await passiveSp.getAuthorizeUrlAsync('rs-stale', undefined, {}));
    t.equal(passive.status, 200, 'IsPassive: answered at once');
    const st = statusOf(readForm(await passive.text()).fields.SAMLResponse!);
    t.same(st.codes, ['Responder', 'NoPassive'], 'with NoPassive');
    const login = await stale.get(await sp.getAuthorizeUrlAsync('rs-stale-2', undefined, {}));
    t.equal(login.status, 303);
    t.match(login.headers.get('location') ?? '', /^\/interaction\//, 'otherwise: to the login screen');
    const posted = await walkToPost(gw, stale, login);
    t.ok(posted.sawLogin, 'the password is asked');
    t.equal(posted.fields.RelayState, 'rs-stale-2', 'and the parked request is answered');
  });

  t.test('RequestedAuthnContext for MFA runs the MFA step; the class comes from the amr table', async (t) => {
    const { secret } = await enrollTotp(gw, user.id);
    const browser = new Browser();
    const mfaSp = await nodeSamlSp(gw, { authnContext: [ACR_MFA], racComparison: 'exact' });
    const url = await mfaSp.getAuthorizeUrlAsync('rs', undefined, {});
    let { res, url: at } = await browser.follow(await browser.get(url), gw.url);
    let page = await res.text();
    const login = readForm(page, '/login');
    ({ res, url: at } = await browser.follow(await browser.post(new URL(login.action, gw.url), { ...login.fields, username: 'alice', password: PASSWORD }), at));
    page = await res.text();
    t.match(page, /mfa\/begin/, 'the MFA step (factor choice) follows the password');
    const choice = readForm(page, '/mfa/begin');
    ({ res, url: at } = await browser.follow(await browser.post(new URL(choice.action, gw.url), { ...choice.fields, factor: 'totp' }), at));
    const codeForm = readForm(await res.text(), '/mfa/totp');
    const done = await walkToPost(gw, browser, await browser.post(new URL(codeForm.action, gw.url), { ...codeForm.fields, code: await freshTotp(secret) }));
    t.equal(done.action, SP_ACS);
    t.ok((await mfaSp.validatePostResponseAsync({ SAMLResponse: done.fields.SAMLResponse! })).profile, 'node-saml accepts it');
    t.equal(classRef(Buffer.from(done.fields.SAMLResponse!, 'base64').toString()), ACR_MFA, 'AuthnContextClassRef: REFEDS MFA');

    const plain = await redirectLogin(gw, await nodeSamlSp(gw, { disableRequestedAuthnContext: true }), browser, 'rs', { password: false });
    t.equal(classRef(Buffer.from(plain.fields.SAMLResponse!, 'base64').toString()), ACR_MFA, 'the session keeps its MFA: later assertions say so');
    const pwdOnly = await redirectLogin(gw, await nodeSamlSp(gw), browser, 'rs', { password: false });
    t.equal(classRef(Buffer.from(pwdOnly.fields.SAMLResponse!, 'base64').toString()), ACR_PASSWORD, 'an SP asking exactly for PasswordProtectedTransport gets that class');
  });

  t.test('an SP whose MFA policy is "required" gets the MFA step without asking', async (t) => {
    const sp2 = await nodeSamlSp(gw, { issuer: SP2_ENTITY, callbackUrl: 'https://other.example.test/acs', audience: SP2_ENTITY, privateKey: (await keyPair(1)).keyPem });
    const browser = new Browser();
    const afterPassword = await redirectLogin(gw, sp2, browser);
    t.ok(afterPassword.sawLogin);
    t.equal(afterPassword.action, '', 'no assertion after the password alone');
    t.match(afterPassword.page, /mfa\/(begin|totp)"/, 'the MFA step is next (the choice, or the last used TOTP form)');
  });

  t.test('a NameID format the SP is not registered for: InvalidNameIDPolicy', async (t) => {
    const posted = await redirectLogin(gw, await nodeSamlSp(gw, { identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' }), new Browser());
    t.same(statusOf(posted.fields.SAMLResponse!).codes, ['Requester', 'InvalidNameIDPolicy']);
    t.notOk(posted.sawLogin, 'answered before any login');
  });

  t.test('IdP-initiated only for SPs that opt in', async (t) => {
    const browser = new Browser();
    await redirectLogin(gw, sp, browser);
    const init = await browser.get(`${gw.url}/saml/init?sp=${encodeURIComponent(SP_ENTITY)}`);
    t.equal(init.status, 200, 'signed in: answered by /saml/init itself (in-process authorization), no redirect');
    const posted = await walkToPost(gw, browser, init, { password: false });
    t.equal(posted.action, SP_ACS, 'posted to the default ACS');
    t.equal(posted.fields.RelayState, 'https://sp.example.test/home', 'the configured RelayState');
    const xml = Buffer.from(posted.fields.SAMLResponse!, 'base64').toString();
    t.notMatch(xml, 'InResponseTo', 'unsolicited: no InResponseTo');
    const unsolicited = await nodeSamlSp(gw, { validateInResponseTo: ValidateInResponseTo.ifPresent });
    t.ok((await unsolicited.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! })).profile, 'node-saml accepts it');

    const off = await browser.get(`${gw.url}/saml/init?sp=${encodeURIComponent(SP2_ENTITY)}`);
    t.equal(off.status, 403);
    t.equal(errorCode(await off.text()), 'GW_SAML_IDP_INIT_DISABLED');
    const unknown = await browser.get(`${gw.url}/saml/init?sp=https%3A%2F%2Fnobody.example`);
    t.equal(errorCode(await unknown.text()), 'GW_SAML_UNKNOWN_SP');
  });

  t.test('the parked request is bound to the browser that started it', async (t) => {
    const a = new Browser();
    await redirectLogin(gw, sp, a); // a session, so after the start the browser runs straight to /saml/continue
    // The start without the session cookie, as a real browser sends an HTTP-POST AuthnRequest from the SP's
    // site (SameSite=Lax): parked, and sent to /oidc/auth, where the cookie goes along.
    const noSession = new Browser();
    const host = new URL(gw.url).hostname;
    noSession.cookies.set(host, new Map([...a.cookies.get(host)!].filter(([k]) => !k.startsWith('_session'))));
    const start = await noSession.get(await sp.getAuthorizeUrlAsync('rs', undefined, {}));
    t.ok(start.headers.get('location')?.startsWith(`${gw.url}/oidc/auth?`), 'without the session cookie: to the authorization endpoint');
    const { url: cont } = await a.follow(start, gw.url, (u) => u.pathname === '/saml/continue');
    t.equal(cont.pathname, '/saml/continue');
    const stolen = await new Browser().get(cont);
    t.equal(stolen.status, 400);
    t.equal(errorCode(await stolen.text()), 'GW_SAML_BROWSER_MISMATCH', 'another browser cannot use the link');
    const own = await walkToPost(gw, a, await a.get(cont), { password: false });
    t.equal(own.action, SP_ACS, 'nor burn it: the right browser still completes');
    const again = await a.get(cont);
    t.equal(errorCode(await again.text()), 'GW_SAML_EXPIRED', 'single use');
  });
});
