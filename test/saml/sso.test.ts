// SP-initiated SSO end to end, with @node-saml/node-saml as the independent SP validating every Response
// (signature, audience, recipient, InResponseTo, conditions) and xmlsec1 as a second signature check:
// signed Response, signed Assertion, both, and an encrypted assertion, over HTTP-Redirect and HTTP-POST.
import t from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import { Browser } from '../helpers/browser.ts';
import { ACR_PASSWORD } from '../../src/mfa/amr.ts';
import { certToPem } from '../../src/protocols/saml/certs.ts';
import {
  ASSERTION_ID, ASSERTION_SIG, RESPONSE_ID, RESPONSE_SIG, idpCert, keyPair, nodeSamlSp, postLogin, redirectLogin,
  spConfig, startSamlGateway, withUser, xmlsecVerify,
} from './helpers.ts';

const NS_P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

const variants = [
  { name: 'signed response and assertion', entityId: 'https://both.example.test', sign: 'both', encrypt: false },
  { name: 'signed response', entityId: 'https://resp.example.test', sign: 'response', encrypt: false },
  { name: 'signed assertion', entityId: 'https://assert.example.test', sign: 'assertion', encrypt: false },
  { name: 'encrypted assertion (signed, then the response signed)', entityId: 'https://enc.example.test', sign: 'both', encrypt: true },
] as const;

t.test('SP-initiated SSO for each signing/encryption variant over both bindings', async (t) => {
  const enc = await keyPair(1);
  const sps = await Promise.all(variants.map((v) => spConfig({
    entityId: v.entityId, name: v.name, acs: [{ url: `${v.entityId}/acs`, index: 0, isDefault: true }], sloUrl: `${v.entityId}/slo`,
    sign: v.sign, ...(v.encrypt ? { encryptAssertion: true, encryptionCert: enc.certPem } : {}),
  })));
  const gw = await startSamlGateway(t, sps);
  await withUser(gw);
  const idpPem = certToPem(await idpCert(gw));

  for (const v of variants) {
    const acs = `${v.entityId}/acs`;
    const spFor = (binding: 'redirect' | 'post') => nodeSamlSp(gw, {
      issuer: v.entityId, callbackUrl: acs, audience: v.entityId,
      wantAssertionsSigned: v.sign !== 'response', wantAuthnResponseSigned: v.sign !== 'assertion',
      ...(v.encrypt ? { decryptionPvk: enc.keyPem } : {}),
      ...(binding === 'post' ? { authnRequestBinding: 'HTTP-POST', skipRequestCompression: true } : {}),
    });
    const browser = new Browser(); // the second binding rides the session of the first: no password
    for (const binding of ['redirect', 'post'] as const) {
      await t.test(`${v.name}, HTTP-${binding === 'redirect' ? 'Redirect' : 'POST'}`, async (t) => {
        const sp = await spFor(binding);
        const relayState = `rs "<${binding}>" & more`;
        const before = Date.now();
        const posted = binding === 'redirect' ? await redirectLogin(gw, sp, browser, relayState) : await postLogin(gw, sp, browser, relayState);
        t.equal(posted.action, acs, 'auto-post goes to the ACS');
        t.equal(posted.fields.RelayState, relayState, 'RelayState returned verbatim');
        t.notMatch(posted.page, `<${binding}>`, 'RelayState is HTML-escaped in the form');
        t.match(posted.page, /<script src="\/assets\/saml-post\.js"><\/script>/, 'auto-submit script from /assets');
        t.match(posted.page, /<button type="submit" id="continue">Continue<\/button>/, 'visible Continue button for no-JS');

        const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! });
        t.ok(profile, 'node-saml accepts the Response (signature, audience, recipient, InResponseTo, conditions)');
        t.equal(profile!.nameID, 'alice@example.com');
        t.same(profile!.groups, ['staff', 'admins'], 'multi-valued attribute');
        t.equal(profile!.email, 'alice@example.com');

        const xml = Buffer.from(posted.fields.SAMLResponse!, 'base64').toString('utf8');
        const doc = new DOMParser().parseFromString(xml, 'text/xml');
        const root = doc.documentElement!;
        t.equal(root.getAttribute('Destination'), acs, 'Destination');
        t.equal(root.getAttribute('InResponseTo'), profile!.inResponseTo, 'InResponseTo');
        const rootSigs = Array.from(root.childNodes).filter((n) => (n as Element).localName === 'Signature');
        t.equal(rootSigs.length, v.sign === 'assertion' ? 0 : 1, 'response signature as configured');
        if (v.sign !== 'assertion') t.ok((await xmlsecVerify(xml, idpPem, [RESPONSE_ID], RESPONSE_SIG)).ok, 'xmlsec1 verifies the Response signature');
        if (v.encrypt) {
          t.equal(doc.getElementsByTagNameNS(NS_A, 'Assertion').length, 0, 'no plaintext assertion');
          t.match(xml, 'http://www.w3.org/2009/xmlenc11#aes256-gcm', 'AES-256-GCM');
          t.match(xml, 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p', 'RSA-OAEP key transport');
          t.notMatch(xml, 'alice@example.com', 'nothing readable');
          return;
        }
        const assertion = doc.getElementsByTagNameNS(NS_A, 'Assertion')[0]!;
        const assertionSigs = Array.from(assertion.childNodes).filter((n) => (n as Element).localName === 'Signature' && (n as Element).namespaceURI === DSIG);
        t.equal(assertionSigs.length, v.sign === 'response' ? 0 : 1, 'assertion signature as configured');
        if (v.sign !== 'response') t.ok((await xmlsecVerify(xml, idpPem, [RESPONSE_ID, ASSERTION_ID], ASSERTION_SIG)).ok, 'xmlsec1 verifies the Assertion signature');
        if (v.sign !== 'response') t.notOk((await xmlsecVerify(xml, (await keyPair(0)).certPem, [RESPONSE_ID, ASSERTION_ID], ASSERTION_SIG)).ok, 'and refuses another key');
        const scd = assertion.getElementsByTagNameNS(NS_A, 'SubjectConfirmationData')[0]!;
        t.equal(scd.getAttribute('Recipient'), acs, 'Recipient');
        t.equal(scd.getAttribute('InResponseTo'), profile!.inResponseTo, 'SubjectConfirmationData InResponseTo');
        t.equal(assertion.getElementsByTagNameNS(NS_A, 'Audience')[0]!.textContent, v.entityId, 'Audience');
        const cond = assertion.getElementsByTagNameNS(NS_A, 'Conditions')[0]!;
        const nb = Date.parse(cond.getAttribute('NotBefore')!), noa = Date.parse(cond.getAttribute('NotOnOrAfter')!);
        t.ok(nb <= Date.now() && nb >= before - 61_000, 'NotBefore: now minus the clock skew');
        t.ok(noa > Date.now() && noa <= Date.now() + 301_000, 'NotOnOrAfter: short (assertionTtlSeconds)');
        const authn = assertion.getElementsByTagNameNS(NS_A, 'AuthnStatement')[0]!;
        t.match(authn.getAttribute('SessionIndex'), /^_[0-9a-f]{40}$/, 'SessionIndex');
        t.equal(authn.getElementsByTagNameNS(NS_A, 'AuthnContextClassRef')[0]!.textContent, ACR_PASSWORD, 'AuthnContextClassRef from the amr table');
        t.equal(doc.getElementsByTagNameNS(NS_P, 'StatusCode')[0]!.getAttribute('Value'), 'urn:oasis:names:tc:SAML:2.0:status:Success');
        t.match(xml, /<saml:Attribute FriendlyName="cn" Name="urn:oid:2\.5\.4\.3" NameFormat="urn:oasis:names:tc:SAML:2\.0:attrname-format:uri">/, 'attribute name, format, friendly name (in canonical order)');
        t.match(xml, /<saml:Attribute Name="groups" NameFormat="urn:oasis:names:tc:SAML:2\.0:attrname-format:basic">(<saml:AttributeValue xsi:type="xs:string">[a-z]+<\/saml:AttributeValue>){2}<\/saml:Attribute>/, 'groups: one value each');
        t.match(xml, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'RSA-SHA256');
        t.notMatch(xml, 'xmldsig#sha1', 'no SHA-1 anywhere');
      });
    }
  }
});
