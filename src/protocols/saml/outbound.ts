// Signing and encoding what the IdP sends. Everything the IdP writes is canonical XML (templates.ts) and
// gets enveloped signatures from signature.ts (RSA-SHA256, exclusive c14n) without being parsed; only a
// login Response with an encrypted assertion goes through samlify's createLoginResponse (sign the
// assertion → encrypt it → sign the response, as the SP asks: encryptThenSign), since the encryption
// rewrites the XML. The Redirect binding signs the query instead (saml-bindings §3.4.4.1).
// https://github.com/tngan/samlify/blob/master/src/binding-post.ts (base64LoginResponse)
import { createSign, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { ALG } from './constants.ts';
import { INCLUSIVE_PREFIXES } from './canonical.ts';
import { cachedIdpEntity, cachedSpEntity, signingKeyOf } from './entities.ts';
import type { IdpKey } from './idp-keys.ts';
import { signEnveloped } from './signature.ts';
import type { SamlSp } from './sp-registry.ts';

/** A fresh SAML ID: an NCName with 160 random bits. */
export const newId = () => `_${randomBytes(20).toString('hex')}`;

export interface LoginResponseToSign { idpEntityId: string; issuer: string; key: IdpKey; sp: SamlSp; acsUrl: string; inResponseTo?: string; responseId: string; assertionId: string; xml: string }

/** A signed (and, if the SP asks, encrypted) login Response, base64 for the POST binding. */
export async function signLoginResponse(o: LoginResponseToSign): Promise<string> {
  if (!o.sp.encryptAssertion) {
    const signer = { key: signingKeyOf(o.key), certB64: o.key.certB64, inclusivePrefixes: INCLUSIVE_PREFIXES };
    let xml = o.xml;
    // The assertion first: the Response's signature covers the assertion's.
    if (o.sp.signAssertion) xml = signEnveloped(xml, { ...signer, element: 'saml:Assertion', id: o.assertionId });
    if (o.sp.signResponse) xml = signEnveloped(xml, { ...signer, element: 'samlp:Response', id: o.responseId });
    return base64(xml);
  }
  const idp = cachedIdpEntity({ entityId: o.idpEntityId, issuer: o.issuer, key: o.key, sp: o.sp });
  const sp = cachedSpEntity(o.sp);
  const out = await idp.createLoginResponse(sp, { extract: { request: { id: o.inResponseTo ?? '' } } }, 'post', {}, {
    customTagReplacement: () => ({ id: o.responseId, context: o.xml }),
    encryptThenSign: true,
  });
  return (out as { context: string }).context;
}

/** An enveloped signature on the root (a message from templates.ts), right after its Issuer; returns the signed XML. */
export function signRoot(xml: string, key: IdpKey): string {
  // The root's ID is the first ID attribute in the text: attribute values cannot hold a `"` (escaped).
  const id = / ID="([^"]+)"/.exec(xml)?.[1];
  if (!id) throw new Error('signRoot: no ID');
  return signEnveloped(xml, { element: xml.slice(1, xml.indexOf(' ')), id, key: signingKeyOf(key), certB64: key.certB64 });
}

/** The URL for a Redirect-binding message: DEFLATE + base64, signed over SAMLxxx, RelayState and SigAlg. */
export function redirectUrl(endpoint: string, param: 'SAMLRequest' | 'SAMLResponse', xml: string, key: IdpKey, relayState?: string): string {
  const parts = [`${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`];
  if (relayState !== undefined) parts.push(`RelayState=${encodeURIComponent(relayState)}`);
  parts.push(`SigAlg=${encodeURIComponent(ALG.rsaSha256)}`);
  const signature = createSign('sha256').update(parts.join('&')).sign(signingKeyOf(key), 'base64');
  const u = new URL(endpoint);
  const query = `${parts.join('&')}&Signature=${encodeURIComponent(signature)}`;
  return `${u.origin}${u.pathname}?${u.search ? `${u.search.slice(1)}&` : ''}${query}`;
}

export const base64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
