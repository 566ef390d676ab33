// Signing and encoding what the IdP sends. The login Response goes through samlify's createLoginResponse
// (sign the assertion → encrypt it → sign the response, as the SP asks: encryptThenSign), everything else
// is signed with samlify's libsaml (RSA-SHA256, exclusive c14n, enveloped) or, for the Redirect binding,
// with a detached signature over the query (saml-bindings §3.4.4.1).
// https://github.com/tngan/samlify/blob/master/src/binding-post.ts (base64LoginResponse)
import { createSign, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { SamlLib } from 'samlify';
import { ALG } from './constants.ts';
import { cachedIdpEntity, cachedSpEntity, signingKeyOf } from './entities.ts';
import type { IdpKey } from './idp-keys.ts';
import type { SamlSp } from './sp-registry.ts';

/** A fresh SAML ID: an NCName with 160 random bits. */
export const newId = () => `_${randomBytes(20).toString('hex')}`;

/** A signed (and, if the SP asks, encrypted) login Response, base64 for the POST binding. */
export async function signLoginResponse(o: { idpEntityId: string; issuer: string; key: IdpKey; sp: SamlSp; acsUrl: string; inResponseTo?: string; responseId: string; xml: string }): Promise<string> {
  const idp = cachedIdpEntity({ entityId: o.idpEntityId, issuer: o.issuer, key: o.key, sp: o.sp });
  const sp = cachedSpEntity(o.sp);
  const out = await idp.createLoginResponse(sp, { extract: { request: { id: o.inResponseTo ?? '' } } }, 'post', {}, {
    customTagReplacement: () => ({ id: o.responseId, context: o.xml }),
    encryptThenSign: true,
  });
  return (out as { context: string }).context;
}

/** An enveloped signature on the root, placed right after its Issuer; returns the signed XML. */
export function signRoot(xml: string, key: IdpKey): string {
  return SamlLib.constructSAMLSignature({
    rawSamlMessage: xml,
    isMessageSigned: true,
    privateKey: signingKeyOf(key),
    signingCert: key.certB64,
    signatureAlgorithm: ALG.rsaSha256,
    signatureConfig: { prefix: 'ds', location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } },
    isBase64Output: false,
  } as unknown as Parameters<typeof SamlLib.constructSAMLSignature>[0]) as string;
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
