// An enveloped XML signature (RSA-SHA256, SHA-256 digest, exclusive c14n) over an element the gateway
// wrote itself in canonical form (templates.ts via canonical.ts). The canonical form of that element,
// with its own Signature taken out as the enveloped-signature transform does, is the text as written,
// so the digest is one hash of it: no parse, no XPath, no tree walk. The result is what xml-crypto
// (and samlify over it) would produce for the same input; xmlsec1, node-saml and samlify verify it in
// test/saml/sso.test.ts, and test/saml/canonical.test.ts holds the "text is canonical" premise.
// https://www.w3.org/TR/xmldsig-core1/#sec-CoreGeneration
import { createHash, sign, type KeyObject } from 'node:crypto';
import { ALG, NS } from './constants.ts';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

export interface SignOptions {
  /** The qualified name of the element to sign (samlp:Response, saml:Assertion, …) and its ID. */
  element: string; id: string;
  key: KeyObject; certB64: string;
  /** exc-c14n InclusiveNamespaces PrefixList, when the element relies on one (canonical.ts INCLUSIVE_PREFIXES). */
  inclusivePrefixes?: string;
}

/** SignedInfo; `declareDs` gives its canonical form (xmlns:ds rendered on it), which is what gets signed. */
function signedInfo(id: string, digest: string, inclusivePrefixes: string | undefined, declareDs: boolean): string {
  const prefixList = inclusivePrefixes ? `<ec:InclusiveNamespaces xmlns:ec="${EXC_C14N}" PrefixList="${inclusivePrefixes}"></ec:InclusiveNamespaces>` : '';
  return `<ds:SignedInfo${declareDs ? ` xmlns:ds="${NS.dsig}"` : ''}>`
    + `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod>`
    + `<ds:SignatureMethod Algorithm="${ALG.rsaSha256}"></ds:SignatureMethod>`
    + `<ds:Reference URI="#${id}"><ds:Transforms>`
    + `<ds:Transform Algorithm="${ENVELOPED}"></ds:Transform><ds:Transform Algorithm="${EXC_C14N}">${prefixList}</ds:Transform>`
    + `</ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"></ds:DigestMethod><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`
    + '</ds:SignedInfo>';
}

/** `xml` with the element's Signature inserted right after its Issuer (the place saml-core's schema gives it). */
export function signEnveloped(xml: string, o: SignOptions): string {
  const at = xml.indexOf(` ID="${o.id}"`);
  const start = xml.lastIndexOf('<', at);
  const closing = `</${o.element}>`;
  const end = xml.indexOf(closing, start) + closing.length;
  // The element is found by its ID and closed by the first end tag of its name: true of what templates.ts
  // writes (no element nests another of its own name), and checked, since a wrong span would sign garbage.
  const nested = xml.indexOf(`<${o.element} `, start + 1);
  if (at < 0 || !xml.startsWith(`<${o.element} `, start) || end < closing.length || (nested !== -1 && nested < end)) {
    throw new Error(`signEnveloped: no single ${o.element} with ID ${o.id}`);
  }
  const issuerEnd = xml.indexOf('</saml:Issuer>', start);
  if (issuerEnd < 0 || issuerEnd > end) throw new Error(`signEnveloped: ${o.element} has no Issuer`);
  const digest = createHash('sha256').update(xml.slice(start, end)).digest('base64');
  const value = sign('sha256', Buffer.from(signedInfo(o.id, digest, o.inclusivePrefixes, true)), o.key).toString('base64');
  const signature = `<ds:Signature xmlns:ds="${NS.dsig}">${signedInfo(o.id, digest, o.inclusivePrefixes, false)}`
    + `<ds:SignatureValue>${value}</ds:SignatureValue>`
    + `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${o.certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;
  const insertAt = issuerEnd + '</saml:Issuer>'.length;
  return xml.slice(0, insertAt) + signature + xml.slice(insertAt);
}
