// Shared kit of the SAML MFA outcome tests (mfa-outcomes.test.ts, mfa-outcomes-faults.test.ts): one SP per MFA
// policy, a gateway with them and Duo pointed at the emulator, SP-initiated logins driven one page at a time
// through the factor pages of helpers/mfa.ts, and what reaches the SP afterwards: the auto-post page, a Response
// that @node-saml/node-saml verifies, its AuthnContextClassRef, and the saml.sso audit row.
import type { Test } from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import type { SAML } from '@node-saml/node-saml';
import { Browser, readForm } from '../helpers/browser.ts';
import { type Gateway } from '../helpers/gateway.ts';
import { duoAnswer, openUrl, type DuoSettings, type TestDuo } from '../helpers/duo.ts';
import { ACR_MFA, ACR_PASSWORD, PASSWORD, advance, alertText, auditRows, chooseFactor, isChoicePage, isLoginPage, type Flow } from '../helpers/mfa.ts';
import { acrFor, amrFor } from '../../src/mfa/amr.ts';
import { certToPem } from '../../src/protocols/saml/certs.ts';
import type { DuoClient } from '../../src/mfa/duo/duo-client.ts';
import { RESPONSE_ID, RESPONSE_SIG, idpCert, nodeSamlSp, spConfig, startSamlGateway, xmlsecVerify } from './helpers.ts';

export const NS_P = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';
/** The amr table's answer for the emulator's default Duo factor (a push). */
export const AMR_PUSH = amrFor({ kind: 'duo', duoFactor: 'duo_push' });
export const RELEASED = ['email', 'urn:oid:2.5.4.3', 'groups'];

// One SP per MFA policy; all sign their AuthnRequests with the shared test key pair.
export const entity = (policy: string) => `https://mfa-${policy}.example.test/saml`;
export const REQUIRED = entity('required');
export const OPTIONAL = entity('optional');
export const OFF = entity('off');
/** An SP that overrides the gateway's Duo fail mode with open. */
export const FAIL_OPEN = entity('fail-open');

/** The SPs every gateway of these tests registers. */
export async function mfaSps(): Promise<Record<string, unknown>[]> {
  const sps = await Promise.all(([['required', REQUIRED], ['optional', OPTIONAL], ['off', OFF]] as const).map(([mfa, e]) =>
    spConfig({ entityId: e, name: `SP mfa ${mfa}`, acs: [{ url: `${e}/acs`, index: 0, isDefault: true }], sloUrl: `${e}/slo`, mfa })));
  sps.push(await spConfig({ entityId: FAIL_OPEN, name: 'SP fail-open', acs: [{ url: `${FAIL_OPEN}/acs`, index: 0, isDefault: true }], mfa: 'required', duoFailMode: 'open' }));
  return sps;
}

/**
 * A gateway with the SPs of mfaSps and Duo against the emulator under `s` (health never cached); every request
 * comes from 127.0.0.1, so the per-IP limit is lifted. `clients` adds OIDC clients, `duoClient` replaces the Duo
 * client built from config (tests that bend what Duo sees).
 */
export async function startMfaGateway(t: Test, duo: TestDuo, s: DuoSettings, o: { clients?: unknown[]; duoClient?: DuoClient } = {}): Promise<Gateway> {
  return startSamlGateway(t, await mfaSps(), {
    duoClient: o.duoClient,
    overrides: { ...(o.clients ? { oidc: { clients: o.clients } } : {}), security: { ipLimitPerMinute: 10_000 }, ...duo.overrides(s) },
  });
}

/** One SAML login in progress. Shaped like helpers/mfa.ts's Flow where its page helpers look. */
export interface SamlFlow {
  gw: Gateway; sp: SAML; entityId: string; browser: Browser; relayState: string; sawLogin: boolean;
  /** Never a URL the flow visits: the SAML answer is an auto-post page, not a redirect to the SP. */
  redirectUri: string;
  url: URL; status: number; page: string;
}
// chooseFactor, submitCode, advance, openUrl and duoAnswer read only gw, browser, url, page and redirectUri.
export const asFlow = (f: SamlFlow) => f as unknown as Flow;

/**
 * node-saml as the SP. Without `authnContext` its AuthnRequest carries no RequestedAuthnContext (by default
 * node-saml asks for exactly PasswordProtectedTransport, which the gateway honours by reporting that class).
 */
export const spFor = (g: Gateway, entityId: string, extra: Parameters<typeof nodeSamlSp>[1] = {}) =>
  nodeSamlSp(g, { issuer: entityId, callbackUrl: `${entityId}/acs`, audience: entityId, disableRequestedAuthnContext: !extra.authnContext, ...extra });

let flows = 0;
/** SP-initiated: node-saml's signed Redirect AuthnRequest, then the password if the login form shows. */
export async function samlLogin(g: Gateway, entityId: string, username: string, o: { browser?: Browser; sp?: SAML } = {}): Promise<SamlFlow> {
  const sp = o.sp ?? await spFor(g, entityId);
  const relayState = `rs-${username}-${++flows}`;
  const url = new URL(await sp.getAuthorizeUrlAsync(relayState, undefined, {}));
  const browser = o.browser ?? new Browser();
  const f: SamlFlow = { gw: g, sp, entityId, browser, relayState, sawLogin: false, redirectUri: 'urn:nowhere', url, status: 0, page: '' };
  await advance(asFlow(f), await browser.get(url), url);
  if (isLoginPage(f.page)) {
    f.sawLogin = true;
    const form = readForm(f.page, '/login');
    const target = new URL(form.action, g.url);
    await advance(asFlow(f), await browser.post(target, { ...form.fields, username, password: PASSWORD }), target);
  }
  return f;
}

/** Logs in and goes to the Duo prompt (choosing Duo when the factor choice shows). */
export async function samlToDuo(g: Gateway, entityId: string, username: string, o: { browser?: Browser; sp?: SAML } = {}): Promise<SamlFlow> {
  const f = await samlLogin(g, entityId, username, o);
  if (isChoicePage(f.page)) await chooseFactor(asFlow(f), 'duo');
  if (!f.url.pathname.endsWith('/oauth/v1/authorize')) throw new Error(`expected the Duo prompt, got ${f.status} ${f.url.href}`);
  return f;
}

/** The browser's round trip through Duo, back at the gateway and on to the next page. */
export async function throughDuo(f: SamlFlow, duo: TestDuo): Promise<URL> {
  const cb = await duoAnswer(asFlow(f), duo);
  await openUrl(asFlow(f), cb);
  return cb;
}

// /saml/continue after a trip through the OIDC pipeline; /saml/sso itself for a signed-in browser (saml/inline-authorize.ts).
export const isAutoPost = (f: SamlFlow) => (f.url.pathname === '/saml/continue' || f.url.pathname === '/saml/sso') && f.page.includes('id="saml-post"');

/** The auto-post page's Response, decoded. */
export function responseOf(f: SamlFlow) {
  if (!isAutoPost(f)) throw new Error(`no SAML Response: ${f.status} ${f.url.href} ${alertText(f.page) ?? f.page.slice(0, 300)}`);
  const form = readForm(f.page, '');
  const b64 = form.fields.SAMLResponse!;
  const xml = Buffer.from(b64, 'base64').toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return { action: form.action, relayState: form.fields.RelayState, b64, xml, doc };
}

/**
 * The flow ended with a signed assertion for `username` that node-saml accepts, whose class is what the amr
 * table says for `amr`; the gateway audited it as a SAML sign-in with that amr and class.
 */
export async function assertSignedIn(t: Test, f: SamlFlow, username: string, amr: string[], userId: string): Promise<{ sessionIndex: string }> {
  const r = responseOf(f);
  t.equal(r.action, `${f.entityId}/acs`, 'auto-posted to the registered ACS');
  t.equal(r.relayState, f.relayState, 'RelayState returned');
  const { profile } = await f.sp.validatePostResponseAsync({ SAMLResponse: r.b64 });
  t.ok(profile, 'node-saml verifies the Response and Assertion signatures, InResponseTo and audience');
  t.equal(profile!.nameID, `${username}@example.com`);
  const assertion = r.doc.getElementsByTagNameNS(NS_A, 'Assertion')[0]!;
  const classRefs = Array.from(assertion.getElementsByTagNameNS(NS_A, 'AuthnContextClassRef')).map((e) => e.textContent);
  const expected = amr.includes('mfa') ? ACR_MFA : ACR_PASSWORD;
  t.equal(acrFor(amr), expected, 'the amr table maps this amr to that class');
  t.same(classRefs, [expected], `AuthnContextClassRef ${expected === ACR_MFA ? 'REFEDS MFA' : 'PasswordProtectedTransport'}`);
  // The class is the only trace of the authentication in the assertion: no amr-like attribute is released.
  t.same(Array.from(assertion.getElementsByTagNameNS(NS_A, 'Attribute')).map((a) => a.getAttribute('Name')), RELEASED, 'exactly the mapped attributes');
  t.match((await auditRows(f.gw, userId, 'saml.sso')).at(-1), { outcome: 'success', client_id: f.entityId, detail: { amr, authnClass: expected, idpInitiated: false } },
    'audited: saml.sso with the amr and the class');
  return { sessionIndex: profile!.sessionIndex as string };
}

/** The flow ended with a signed status-only Response (no assertion). */
export async function assertStatus(t: Test, f: SamlFlow, codes: string[], message: string) {
  const r = responseOf(f);
  t.equal(r.action, `${f.entityId}/acs`);
  t.equal(r.relayState, f.relayState);
  t.same(Array.from(r.doc.getElementsByTagNameNS(NS_P, 'StatusCode')).map((e) => e.getAttribute('Value')!.split(':').pop()), codes);
  t.equal(r.doc.getElementsByTagNameNS(NS_P, 'StatusMessage')[0]?.textContent, message);
  t.equal(r.doc.getElementsByTagNameNS(NS_A, 'Assertion').length, 0, 'no assertion');
  t.ok((await xmlsecVerify(r.xml, certToPem(await idpCert(f.gw)), [RESPONSE_ID], RESPONSE_SIG)).ok, 'the status Response is signed (xmlsec1)');
  await t.rejects(f.sp.validatePostResponseAsync({ SAMLResponse: r.b64 }), new RegExp(`Responder error: ${message}`), 'node-saml reports the status');
}

export const duoRows = (g: Gateway, userId: string) => auditRows(g, userId, 'mfa.duo');
