// Single logout. An SP's signed LogoutRequest ends the gateway session (OIDC and SAML alike), the other
// SP of that session is notified with our signed LogoutRequest, and the initiator gets a signed
// LogoutResponse (node-saml verifies both). OIDC RP-initiated logout ends the SAML sessions too (and tells
// the SPs: oidc-logout.test.ts).
import t from 'tap';
import * as jose from 'jose';
import { Browser, readForm } from '../helpers/browser.ts';
import { confidentialClient } from '../helpers/gateway.ts';
import { discover, loginAndGetCallback, loginAndGetTokens, startAuthorize } from '../helpers/oidc.ts';
import { ValidateInResponseTo } from '@node-saml/node-saml';
import {
  SP2_SLO, SP_ENTITY, SP_SLO, b64, errorCode, keyPair, nodeSamlSp, redirectLogin, signXml, startSloGateway, withUser,
} from './helpers.ts';

t.test('single logout', async (t) => {
  const { gw, receiver, bcClient, sp1, sp2 } = await startSloGateway(t, [confidentialClient]);
  const bc = await discover(gw, bcClient);
  const user = await withUser(gw);
  const rp = await discover(gw);
  const samlSessions = async () => (await gw.services.db.query('SELECT sp_entity_id FROM saml_sessions WHERE user_id = $1', [user.id])).rowCount;
  // Each subtest counts only its own SAML sessions (the one before may end by signing in again).
  t.beforeEach(async () => { await gw.services.db.query('DELETE FROM saml_sessions'); });

  t.test('SP-initiated LogoutRequest ends the gateway session, notifies the other SP, answers the initiator', async (t) => {
    const browser = new Browser();
    await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery', { browser, scope: 'openid' });
    const bcTokens = (await loginAndGetTokens(gw, bc, 'alice', 'correct horse battery', { browser, scope: 'openid', redirectUri: bcClient.redirectUris[0] })).tokens;
    const one = await redirectLogin(gw, sp1, browser, 'rs', { password: false });
    const { profile } = await sp1.validatePostResponseAsync({ SAMLResponse: one.fields.SAMLResponse! });
    const two = await redirectLogin(gw, sp2, browser, 'rs', { password: false });
    t.ok((await sp2.validatePostResponseAsync({ SAMLResponse: two.fields.SAMLResponse! })).profile, 'signed in to both SPs on one session');
    t.equal(await samlSessions(), 2);

    // SP 1 asks to log out (Redirect binding, signed by node-saml).
    const res = await browser.get(await sp1.getLogoutUrlAsync(profile!, 'rs-logout', {}));
    t.equal(res.status, 200, 'the other SP is notified through the browser (its SLO endpoint is HTTP-POST)');
    const notify = readForm(await res.text(), SP2_SLO);
    t.equal(notify.action, SP2_SLO);
    const asked = await sp2.validatePostRequestAsync({ SAMLRequest: notify.fields.SAMLRequest! });
    t.equal(asked.profile!.nameID, 'alice@example.com', 'node-saml verifies our signed LogoutRequest to SP 2');
    t.equal(asked.profile!.issuer, `${gw.url}/saml/metadata`);

    // SP 2 confirms; the gateway then answers SP 1.
    const answer = await browser.get(await sp2.getLogoutResponseUrlAsync(asked.profile!, notify.fields.RelayState!, {}, true));
    t.equal(answer.status, 303);
    const back = new URL(answer.headers.get('location')!);
    t.equal(`${back.origin}${back.pathname}`, SP_SLO, 'LogoutResponse to SP 1 over HTTP-Redirect');
    t.equal(back.searchParams.get('RelayState'), 'rs-logout', 'its RelayState returned');
    const query = Object.fromEntries(back.searchParams);
    const done = await sp1.validateRedirectAsync(query, back.search.slice(1));
    t.equal(done.loggedOut, true, 'node-saml verifies the signed LogoutResponse (Success)');

    t.equal(await samlSessions(), 0, 'no SAML session left');
    for (let i = 0; i < 150 && receiver.tokens.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(receiver.tokens.length, 1, 'the OIDC client with a back-channel URI was told');
    const { payload } = await jose.jwtVerify(receiver.tokens[0]!, jose.createRemoteJWKSet(new URL(`${gw.url}/oidc/jwks`)), { issuer: gw.url, audience: bcClient.clientId });
    t.equal(payload.sid, bcTokens.claims()!.sid, 'a signed logout token naming its session');
    const oidc = await startAuthorize(gw, rp, { browser, scope: 'openid' });
    t.notOk(oidc.at.href.startsWith(confidentialClient.redirectUris[0]!), 'OIDC asks to sign in again');
    const saml = await redirectLogin(gw, sp1, browser);
    t.ok(saml.sawLogin, 'SAML asks for the password again');
  });

  t.test('OIDC RP-initiated logout ends the SAML sessions', async (t) => {
    const browser = new Browser();
    await redirectLogin(gw, sp1, browser);
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { browser, scope: 'openid' });
    t.equal(await samlSessions(), 1);
    const end = new URL(`${gw.url}/oidc/session/end`);
    end.searchParams.set('id_token_hint', tokens.id_token!);
    end.searchParams.set('post_logout_redirect_uri', confidentialClient.postLogoutRedirectUris[0]!);
    const confirm = readForm(await (await browser.get(end)).text(), '/session/end/confirm');
    const res = await browser.post(new URL(confirm.action, gw.url), { ...confirm.fields, logout: 'yes' });
    t.equal(res.status, 303);
    t.ok(res.headers.get('location')!.startsWith(`${SP_SLO}?SAMLRequest=`), 'the SP is sent a LogoutRequest (the walk: oidc-logout.test.ts)');
    t.equal(await samlSessions(), 0, 'SAML sessions ended with the OIDC session, before the answer');
    t.ok((await redirectLogin(gw, sp1, browser)).sawLogin, 'the next SAML sign-in asks the password');
  });

  t.test('a signed LogoutRequest over HTTP-POST; refusals', async (t) => {
    const browser = new Browser();
    const one = await redirectLogin(gw, sp1, browser);
    const { profile } = await sp1.validatePostResponseAsync({ SAMLResponse: one.fields.SAMLResponse! });
    const logoutXml = (id: string) => `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${gw.url}/saml/slo"><saml:Issuer>${SP_ENTITY}</saml:Issuer><saml:NameID Format="${profile!.nameIDFormat}">${profile!.nameID}</saml:NameID><samlp:SessionIndex>${profile!.sessionIndex}</samlp:SessionIndex></samlp:LogoutRequest>`;

    const unsigned = await browser.post(`${gw.url}/saml/slo`, { SAMLRequest: b64(logoutXml('_lo1')) });
    t.equal(unsigned.status, 400);
    t.equal(errorCode(await unsigned.text()), 'GW_SAML_UNSIGNED', 'LogoutRequests must be signed');
    t.equal(await samlSessions(), 1, 'and change nothing');

    const res = await browser.post(`${gw.url}/saml/slo`, { SAMLRequest: b64(signXml(logoutXml('_lo2'), await keyPair(0))), RelayState: 'rs-post' });
    t.equal(res.status, 303, 'answered on the SP\'s registered (Redirect) SLO endpoint');
    const back = new URL(res.headers.get('location')!);
    const lax = await nodeSamlSp(gw, { validateInResponseTo: ValidateInResponseTo.never });
    t.equal((await lax.validateRedirectAsync(Object.fromEntries(back.searchParams), back.search.slice(1))).loggedOut, true);
    t.equal(await samlSessions(), 0);

    const stray = await browser.get(`${gw.url}/saml/slo?SAMLResponse=abc&RelayState=nothing-in-progress`);
    t.equal(errorCode(await stray.text()), 'GW_SAML_UNEXPECTED_RESPONSE', 'a LogoutResponse nobody asked for');
  });
});
