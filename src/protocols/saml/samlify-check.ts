// samlify's own reading of an inbound message the guard already accepted: its parser (through our
// structural validator, xml-guard.ts) and its signature verification, with the one SP certificate that
// verified. Two independent implementations must agree before the gateway acts on a message; a
// disagreement is refused and logged with samlify's reason.
// Flow: https://github.com/tngan/samlify/blob/master/src/flow.ts
import { cachedIdpEntity, cachedSpEntity } from './entities.ts';
import { SamlError } from './errors.ts';
import type { Inbound } from './request-guard.ts';

export function createSamlifyCheck(idp: { entityId: string; issuer: string }) {
  return async function crossCheck(m: Inbound): Promise<void> {
    // LogoutResponses are matched by InResponseTo to a request we sent; samlify would also refuse any
    // non-Success status, which for a logout we want to record, not reject.
    if (m.kind === 'LogoutResponse') return;
    // An unsigned message (only an AuthnRequest can be: LogoutRequests must be signed) gets no second
    // reading, because for it samlify decides nothing the guard has not (flow.js redirectFlow / postFlow
    // with checkSignature false, as wantAuthnRequestsSigned is for an unsigned message): it inflates the same
    // bytes (the guard did, with a cap), asks isValidXml (our structural gate and XML Schema, whose verdict
    // for this text is cached), checks a status (Responses only), extracts fields nobody reads (its two XML
    // parses, the whole cost), verifies no signature and compares the Issuer only for Responses. A message the
    // guard calls unsigned carries no signature at all (any Signature or SigAlg is verified or refused). Signed messages
    // are still read twice: there samlify's own signature verification is the independent second opinion.
    if (!m.signed) return;
    const self = cachedIdpEntity({ entityId: idp.entityId, issuer: idp.issuer, verifyRequests: m.signed });
    const from = cachedSpEntity(m.sp, m.signingCert);
    const request = m.binding === 'redirect' ? { query: m.wire.fields, octetString: m.signedOctets ?? '' } : { body: m.wire.fields };
    try {
      if (m.kind === 'AuthnRequest') await self.parseLoginRequest(from, m.binding, request);
      else await self.parseLogoutRequest(from, m.binding, request);
    } catch (err) {
      if (err instanceof SamlError) throw err;
      const reason = String((err as Error)?.message ?? err).slice(0, 200);
      throw new SamlError(/SIGNATURE|CERTIFICATE/i.test(reason) ? 'GW_SAML_SIGNATURE_INVALID' : 'GW_SAML_SCHEMA', `samlify: ${reason}`);
    }
  };
}
