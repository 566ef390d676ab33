// The IdP metadata at /saml/metadata (saml-metadata-2.0-os): entity ID, every published signing
// certificate (two during a rotation), SSO and SLO endpoints for HTTP-Redirect and HTTP-POST, and the
// NameID formats. Optionally signed (enveloped, RSA-SHA256, the Signature first child of the root as
// the schema requires). Written here rather than by samlify so the ID, validUntil and element order
// are exactly what the schema and SPs expect.
import { SamlLib } from 'samlify';
import { ALG, BINDING, NAMEID_FORMAT, NS, PATHS } from './constants.ts';
import type { IdpKeySet } from './idp-keys.ts';
import { newId } from './outbound.ts';
import { attrValue } from './canonical.ts';

export interface MetadataOptions { entityId: string; issuer: string; keys: IdpKeySet; validSeconds: number; sign: boolean; now?: Date }

export function idpMetadataXml(o: MetadataOptions): string {
  const now = o.now ?? new Date();
  const validUntil = new Date(now.getTime() + o.validSeconds * 1000).toISOString();
  const endpoint = (el: string, path: string) => (['redirect', 'post'] as const)
    .map((b) => `<md:${el} Binding="${BINDING[b]}" Location="${attrValue(`${o.issuer}${path}`)}"/>`).join('');
  const xml = `<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}" ID="${newId()}" entityID="${attrValue(o.entityId)}" validUntil="${validUntil}">`
    + `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${NS.protocol}">`
    + o.keys.published.map((c) => `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`).join('')
    + endpoint('SingleLogoutService', PATHS.slo)
    + Object.values(NAMEID_FORMAT).map((f) => `<md:NameIDFormat>${f}</md:NameIDFormat>`).join('')
    + endpoint('SingleSignOnService', PATHS.sso)
    + `</md:IDPSSODescriptor></md:EntityDescriptor>`;
  if (!o.sign) return xml;
  return SamlLib.constructSAMLSignature({
    rawSamlMessage: xml, isMessageSigned: true,
    privateKey: o.keys.signing.keyPem, signingCert: o.keys.signing.certB64, signatureAlgorithm: ALG.rsaSha256,
    signatureConfig: { prefix: 'ds', location: { reference: "/*/*[local-name(.)='IDPSSODescriptor']", action: 'before' } },
    isBase64Output: false,
  } as Parameters<typeof SamlLib.constructSAMLSignature>[0]) as string;
}
