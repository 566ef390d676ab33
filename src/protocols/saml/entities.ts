// samlify entities for one exchange. They are cheap to build, so each message gets its own pair with
// exactly the settings it needs (the one SP certificate that verified, the one ACS chosen, whether this
// SP wants its assertion encrypted): nothing is shared or mutated between requests.
// Settings: https://github.com/tngan/samlify/blob/master/src/entity.ts (defaultEntitySetting)
import { IdentityProvider, ServiceProvider, type IdentityProviderInstance, type ServiceProviderInstance } from 'samlify';
import { ALG, BINDING, NAMEID_FORMAT, PATHS } from './constants.ts';
import type { IdpKey } from './idp-keys.ts';
import type { SamlSp } from './sp-registry.ts';

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
    ...(o.key ? { privateKey: o.key.keyPem, signingCert: o.key.certB64 } : {}),
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

export function spEntity(sp: SamlSp, o: { acsUrl?: string; signingCert?: string } = {}): ServiceProviderInstance {
  return ServiceProvider({
    entityID: sp.entityId,
    assertionConsumerService: [{ Binding: BINDING.post, Location: o.acsUrl ?? sp.acs[0]!.url }],
    ...(sp.slo.length ? { singleLogoutService: sp.slo.map((s) => ({ Binding: BINDING[s.binding], Location: s.url })) } : {}),
    ...(o.signingCert ? { signingCert: o.signingCert } : {}),
    ...(sp.encryptionCert ? { encryptCert: sp.encryptionCert } : {}),
    wantAssertionsSigned: sp.signAssertion,
    wantMessageSigned: sp.signResponse,
    requestSignatureAlgorithm: ALG.rsaSha256,
  });
}
