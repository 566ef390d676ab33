// samlify entities. Building one is not cheap: samlify renders the entity's metadata as XML and parses it
// back (5 XML parses and a dozen XPath queries per entity; 4 entities per round trip were ≈ 20 % of its
// CPU), so they are built once and reused. Every input is immutable: the SP's config entry (the registry
// never changes after the start), one of its registered certificates, and the IdP key object of the
// current key version (a new version is a new object, so a rotated key gets new entities and the old
// ones are collected with it). samlify only reads entities after their constructor (flow.ts,
// binding-post.ts): sharing them between requests shares no state.
// Settings: https://github.com/tngan/samlify/blob/master/src/entity.ts (defaultEntitySetting)
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { IdentityProvider, ServiceProvider, Utility, type IdentityProviderInstance, type ServiceProviderInstance } from 'samlify';
import { ALG, BINDING, NAMEID_FORMAT, PATHS } from './constants.ts';
import type { IdpKey } from './idp-keys.ts';
import type { SamlSp } from './sp-registry.ts';

// samlify derives the signing certificate's public key (an X.509 parse and a PEM export) for every
// signature it makes, to set xml-crypto's publicCert, which signing never reads (≈ 4 % of a signed-in
// round trip with two signatures, when samlify still signed every Response; it now signs only Responses
// with an encrypted assertion and the metadata). It is a pure function of the certificate text, and the
// certificates are few (the IdP's and the SPs'), so it is memoized here, bounded.
// https://github.com/tngan/samlify/blob/master/src/libsaml.ts (constructSAMLSignature: sig.publicCert = getKeyInfo(…).getKey())
const publicKeyPemOf = Utility.getPublicKeyPemFromCertificate;
const publicKeyPems = new Map<string, string | Buffer>();
Utility.getPublicKeyPemFromCertificate = (cert: string) => {
  let pem = publicKeyPems.get(cert);
  if (pem === undefined) {
    pem = publicKeyPemOf(cert);
    if (publicKeyPems.size >= 64) publicKeyPems.clear();
    publicKeyPems.set(cert, pem);
  }
  return pem;
};

export interface IdpEntityOptions {
  entityId: string; issuer: string; key?: IdpKey; sp?: SamlSp;
  /** For inbound checks: whether samlify must verify a signature on the message. */
  verifyRequests?: boolean;
}

type IdpSettings = Parameters<typeof IdentityProvider>[0];

export function idpEntity(o: IdpEntityOptions): IdentityProviderInstance {
  // dataEncryptionAlgorithm / keyEncryptionAlgorithm are read by libsaml.encryptAssertion but missing from
  // samlify's IdentityProviderSettings type (they live in the entity defaults), hence the cast.
  return IdentityProvider({
    entityID: o.entityId,
    // A KeyObject, not the PEM: samlify hands it through to xml-crypto, and node:crypto would otherwise
    // parse the PEM again for every signature (half the cost of an RSA-2048 signature).
    ...(o.key ? { privateKey: signingKeyOf(o.key), signingCert: o.key.certB64 } : {}),
    requestSignatureAlgorithm: ALG.rsaSha256,
    wantAuthnRequestsSigned: !!o.verifyRequests,
    wantLogoutRequestSigned: !!o.verifyRequests,
    isAssertionEncrypted: !!o.sp?.encryptAssertion,
    dataEncryptionAlgorithm: ALG.aes256Gcm,
    keyEncryptionAlgorithm: ALG.rsaOaep,
    nameIDFormat: Object.values(NAMEID_FORMAT),
    singleSignOnService: [
      { Binding: BINDING.redirect, Location: `${o.issuer}${PATHS.sso}` },
      { Binding: BINDING.post, Location: `${o.issuer}${PATHS.sso}` },
    ],
    singleLogoutService: [
      { Binding: BINDING.redirect, Location: `${o.issuer}${PATHS.slo}` },
      { Binding: BINDING.post, Location: `${o.issuer}${PATHS.slo}` },
    ],
  } as IdpSettings);
}

export function spEntity(sp: SamlSp, o: { signingCert?: string } = {}): ServiceProviderInstance {
  // The ACS here is only samlify's default template value: the Response is our own template
  // (customTagReplacement) with the Destination chosen by sso.ts, and the form posts there.
  return ServiceProvider({
    entityID: sp.entityId,
    assertionConsumerService: [{ Binding: BINDING.post, Location: sp.acs[0]!.url }],
    ...(sp.slo.length ? { singleLogoutService: sp.slo.map((s) => ({ Binding: BINDING[s.binding], Location: s.url })) } : {}),
    ...(o.signingCert ? { signingCert: o.signingCert } : {}),
    ...(sp.encryptionCert ? { encryptCert: sp.encryptionCert } : {}),
    wantAssertionsSigned: sp.signAssertion,
    wantMessageSigned: sp.signResponse,
    requestSignatureAlgorithm: ALG.rsaSha256,
  });
}

// ---- the shared entities ------------------------------------------------------------------------

const keyObjects = new WeakMap<IdpKey, KeyObject>();
/** The IdP key parsed once per key version. */
export function signingKeyOf(key: IdpKey): KeyObject {
  let k = keyObjects.get(key);
  if (!k) { k = createPrivateKey(key.keyPem); keyObjects.set(key, k); }
  return k;
}

const bySp = new WeakMap<SamlSp, Map<string, ServiceProviderInstance>>();
/** The SP entity for this SP (and, inbound, the one registered certificate that verified its message). */
export function cachedSpEntity(sp: SamlSp, signingCert?: string): ServiceProviderInstance {
  let m = bySp.get(sp);
  if (!m) { m = new Map(); bySp.set(sp, m); }
  const k = signingCert ?? '';
  // Only a registered certificate (or none) reaches here: at most 1 + signingCerts.length entries per SP.
  if (k && !sp.signingCerts.includes(k)) return spEntity(sp, { signingCert: k });
  let e = m.get(k);
  if (!e) { e = spEntity(sp, k ? { signingCert: k } : {}); m.set(k, e); }
  return e;
}

const byKey = new WeakMap<IdpKey, Map<string, IdentityProviderInstance>>();
const verifying = new Map<string, IdentityProviderInstance>();
/**
 * The IdP entity: with the signing key (outbound; per key version, and per SP only in whether the
 * assertion is encrypted), or without a key for reading inbound messages (per whether they are signed).
 */
export function cachedIdpEntity(o: IdpEntityOptions): IdentityProviderInstance {
  const k = `${o.entityId}\n${o.issuer}\n${o.key ? !!o.sp?.encryptAssertion : !!o.verifyRequests}`;
  let m: Map<string, IdentityProviderInstance> | undefined = verifying;
  if (o.key) {
    m = byKey.get(o.key);
    if (!m) { m = new Map(); byKey.set(o.key, m); }
  }
  let e = m.get(k);
  if (!e) { e = idpEntity(o.key ? { ...o, verifyRequests: false } : o); m.set(k, e); }
  return e;
}
