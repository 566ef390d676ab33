// SAML test kit: SP key pairs, a gateway with SPs registered, @node-saml/node-saml as the independent SP,
// the browser walk through login to the auto-post, xmlsec1 as a second signature verifier, and
// builders for hostile messages derived from genuine signed ones.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { createSign } from 'node:crypto';
import type { Test } from 'tap';
import { SAML, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml';
import { SignedXml } from 'xml-crypto';
import { generateIdpCertificate } from '../../src/protocols/saml/idp-cert.ts';
import { certToPem } from '../../src/protocols/saml/certs.ts';
import { Browser, BROWSER_ACCEPT, readForm, SAME_ORIGIN } from '../helpers/browser.ts';
import { RESENT_FIELD } from '../../src/protocols/saml/first-party-resend.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';

export interface KeyPair { keyPem: string; certB64: string; certPem: string }

const pairs: Promise<KeyPair>[] = [];
/** RSA key pairs, made once per test process (RSA generation is the slow part). */
export function keyPair(n = 0): Promise<KeyPair> {
  while (pairs.length <= n) pairs.push(generateIdpCertificate(`sp${pairs.length}.test`).then((k) => ({ ...k, certPem: certToPem(k.certB64) })));
  return pairs[n]!;
}

export const SP_ENTITY = 'https://sp.example.test/saml';
export const SP_ACS = 'https://sp.example.test/saml/acs';
export const SP_SLO = 'https://sp.example.test/saml/slo';
export const SP2_ENTITY = 'https://other.example.test/saml';
export const SP2_ACS = 'https://other.example.test/acs';
export const SP2_SLO = 'https://other.example.test/slo';
export const RESPONSE_ID = 'urn:oasis:names:tc:SAML:2.0:protocol:Response';
export const ASSERTION_ID = 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion';
export const RESPONSE_SIG = "/*/*[local-name()='Signature']";
export const ASSERTION_SIG = "/*/*[local-name()='Assertion']/*[local-name()='Signature']";

/** An SP config entry (explicit fields), signing with key pair 0. */
export async function spConfig(extra: Record<string, unknown> = {}) {
  return {
    entityId: SP_ENTITY, name: 'Example SP',
    acs: [{ url: SP_ACS, index: 1, isDefault: true }, { url: `${SP_ACS}/2`, index: 2 }],
    sloUrl: SP_SLO, signingCerts: [(await keyPair(0)).certPem],
    nameIdFormat: 'emailAddress', nameIdSource: 'email', mfa: 'off',
    attributes: [
      { name: 'email', source: 'email' },
      { name: 'urn:oid:2.5.4.3', friendlyName: 'cn', source: 'name' },
      { name: 'groups', nameFormat: 'basic', source: 'groups' },
    ],
    ...extra,
  };
}

export async function startSamlGateway(t: Test, sps: Record<string, unknown>[], opts: GatewayOptions & { saml?: Record<string, unknown> } = {}): Promise<Gateway> {
  return startGateway(t, { ...opts, overrides: { ...opts.overrides, saml: { ...opts.saml, sps } } });
}

/** An OIDC back-channel logout endpoint that records the logout tokens it is sent. */
export async function backchannelReceiver(t: Test) {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { tokens.push(new URLSearchParams(body).get('logout_token') ?? ''); res.writeHead(200).end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/bc`, tokens };
}

/**
 * The single-logout setup: SP 1 (Redirect SLO) and SP 2 (HTTP-POST SLO, its own key pair), and an OIDC
 * client with a back-channel logout URI pointing at a receiver; `clients` are configured beside it.
 */
export async function startSloGateway(t: Test, clients: Record<string, unknown>[] = []) {
  const kp1 = await keyPair(1);
  const receiver = await backchannelReceiver(t);
  const bcClient = {
    clientId: 'bc-app', clientSecret: 'bc-app-secret-0123456789abcdefgh', name: 'Back-channel App',
    redirectUris: ['http://127.0.0.1:9993/cb'], postLogoutRedirectUris: ['http://127.0.0.1:9993/bye'],
    grantTypes: ['authorization_code'], firstParty: true, mfa: 'off', backchannelLogoutUri: receiver.url,
  };
  const gw = await startSamlGateway(t, [
    await spConfig(),
    await spConfig({ entityId: SP2_ENTITY, name: 'Other SP', acs: [{ url: SP2_ACS }], sloUrl: SP2_SLO, sloBinding: 'post', signingCerts: [kp1.certPem] }),
  ], { overrides: { oidc: { clients: [...clients, bcClient] } } });
  const sp1 = await nodeSamlSp(gw);
  const sp2 = await nodeSamlSp(gw, { issuer: SP2_ENTITY, callbackUrl: SP2_ACS, audience: SP2_ENTITY, privateKey: kp1.keyPem });
  return { gw, receiver, bcClient, sp1, sp2 };
}

export async function idpCert(gw: Gateway): Promise<string> {
  const xml = await (await fetch(`${gw.url}/saml/metadata`)).text();
  return /<ds:X509Certificate>([^<]+)</.exec(xml)![1]!;
}

/** @node-saml/node-saml as the SP: it builds (and signs) AuthnRequests and validates our Responses. */
export async function nodeSamlSp(gw: Gateway, o: Partial<SamlConfig> = {}): Promise<SAML> {
  const kp = await keyPair(0);
  return new SAML({
    entryPoint: `${gw.url}/saml/sso`, logoutUrl: `${gw.url}/saml/slo`, issuer: SP_ENTITY, callbackUrl: SP_ACS, audience: SP_ENTITY,
    idpCert: await idpCert(gw), idpIssuer: `${gw.url}/saml/metadata`,
    privateKey: kp.keyPem, signatureAlgorithm: 'sha256', digestAlgorithm: 'sha256',
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    wantAssertionsSigned: true, wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always, acceptedClockSkewMs: 1000,
    ...o,
  });
}

export async function withUser(gw: Gateway) { return addUser(gw, 'alice', 'correct horse battery'); }

export interface Posted { action: string; fields: Record<string, string>; page: string; status: number; sawLogin: boolean; url: URL; resent?: boolean }

/** Follows the browser from a gateway URL to the next page; logs in when the login form appears. Returns the auto-post. */
export async function walkToPost(gw: Gateway, browser: Browser, first: Response, o: { password?: string | false } = {}): Promise<Posted> {
  let { res, url } = await browser.follow(first, gw.url);
  let page = await res.text();
  const resent = page.includes(`name="${RESENT_FIELD}"`);
  if (resent) { // a cross-site post, sent again from the gateway's own page (first-party-resend.ts)
    const form = readForm(page, '/saml/sso');
    ({ res, url } = await browser.follow(await resendPost(browser, form), gw.url));
    page = await res.text();
  }
  const sawLogin = page.includes('name="password"');
  if (sawLogin) {
    if (o.password === false) throw new Error('unexpected login form');
    const form = readForm(page, '/login');
    const posted = await browser.post(new URL(form.action, gw.url), { ...form.fields, username: 'alice', password: o.password ?? 'correct horse battery' });
    ({ res, url } = await browser.follow(posted, gw.url));
    page = await res.text();
  }
  if (!page.includes('id="saml-post"')) return { action: '', fields: {}, page, status: res.status, sawLogin, url, resent };
  const form = readForm(page, '');
  return { ...form, page, status: res.status, sawLogin, url, resent };
}

/** What the resend page's script does: the same form, posted from the gateway's own origin (with its cookies). */
export const resendPost = (browser: Browser, form: { action: string; fields: Record<string, string> }) =>
  browser.post(form.action, form.fields, { accept: BROWSER_ACCEPT, ...SAME_ORIGIN });

/** SP-initiated over HTTP-Redirect with node-saml's request. */
export async function redirectLogin(gw: Gateway, sp: SAML, browser = new Browser(), relayState = 'rs-1', o: { password?: string | false } = {}) {
  const url = await sp.getAuthorizeUrlAsync(relayState, undefined, {});
  return walkToPost(gw, browser, await browser.get(url), o);
}

/** SP-initiated over HTTP-POST with node-saml's (embedded-signature) request, posted from the SP's site. */
export async function postLogin(gw: Gateway, sp: SAML, browser = new Browser(), relayState = 'rs-1') {
  const msg = await sp.getAuthorizeMessageAsync(relayState) as Record<string, string>;
  return walkToPost(gw, browser, await browser.crossSitePost(`${gw.url}/saml/sso`, msg));
}

// ---- raw messages ------------------------------------------------------------------------------

export const inflate = (b64: string) => inflateRawSync(Buffer.from(b64, 'base64')).toString('utf8');
export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

export function authnRequestXml(gw: Gateway, o: { id?: string; issuer?: string; instant?: Date; acsUrl?: string; acsIndex?: number; extra?: string; attrs?: string; destination?: string | null } = {}): string {
  const id = o.id ?? `_req${Math.random().toString(16).slice(2)}${Date.now()}`;
  const dest = o.destination === null ? '' : ` Destination="${o.destination ?? `${gw.url}/saml/sso`}"`;
  const acs = o.acsIndex !== undefined ? ` AssertionConsumerServiceIndex="${o.acsIndex}"` : ` AssertionConsumerServiceURL="${o.acsUrl ?? SP_ACS}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`;
  return `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${(o.instant ?? new Date()).toISOString()}"${dest}${acs}${o.attrs ?? ''}><saml:Issuer>${o.issuer ?? SP_ENTITY}</saml:Issuer>${o.extra ?? ''}</samlp:AuthnRequest>`;
}

/** An enveloped RSA-SHA256 signature on the root, after the Issuer (what a well-behaved SP sends). */
export function signXml(xml: string, kp: KeyPair, o: { signatureAlgorithm?: string; digestAlgorithm?: string; keyInfo?: boolean } = {}): string {
  const sig = new SignedXml({
    privateKey: kp.keyPem, publicCert: kp.certPem,
    signatureAlgorithm: o.signatureAlgorithm ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({ xpath: '/*', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm: o.digestAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#sha256' });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
  return sig.getSignedXml();
}

/** A Redirect-binding URL for a message, signed over the query when a key pair is given. */
export function redirectQuery(base: string, param: string, xml: string, kp?: KeyPair, o: { relayState?: string; sigAlg?: string; hash?: string } = {}): string {
  const parts = [`${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`];
  if (o.relayState !== undefined) parts.push(`RelayState=${encodeURIComponent(o.relayState)}`);
  if (kp) {
    parts.push(`SigAlg=${encodeURIComponent(o.sigAlg ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}`);
    parts.push(`Signature=${encodeURIComponent(createSign(o.hash ?? 'sha256').update(parts.join('&')).sign(kp.keyPem, 'base64'))}`);
  }
  return `${base}?${parts.join('&')}`;
}

/** The reference code on a Gatehouse error page. */
export const errorCode = (page: string) => /id="error-code">([A-Z_]+)/.exec(page)?.[1];

// ---- xmlsec1 -----------------------------------------------------------------------------------

/**
 * Verifies a signature with xmlsec1 using only the given certificate's key (`--enabled-key-data rsa`: a
 * certificate inside KeyInfo is not used). idAttr names the elements whose ID attribute is an XML ID;
 * nodeXpath picks the Signature (default: the first in document order).
 */
export async function xmlsecVerify(xml: string, certPem: string, idAttr: string[], nodeXpath?: string): Promise<{ ok: boolean; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-xmlsec-'));
  try {
    writeFileSync(join(dir, 'm.xml'), xml);
    writeFileSync(join(dir, 'c.pem'), certPem);
    const args = ['--verify', '--enabled-key-data', 'rsa', '--pubkey-cert-pem', join(dir, 'c.pem'),
      ...idAttr.flatMap((n) => ['--id-attr:ID', n]), ...(nodeXpath ? ['--node-xpath', nodeXpath] : []), join(dir, 'm.xml')];
    return await new Promise((resolve, reject) => execFile('xmlsec1', args, (err, stdout, stderr) => {
      // Not installed is a set-up problem, not a bad signature: say how to fix it (.ci/run installs it).
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new Error('xmlsec1 is not installed: apt-get install xmlsec1 (the SAML tests verify signatures with it)'));
      else resolve({ ok: !err, out: `${stdout}${stderr}` });
    }));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
