// RequestedAuthnContext (saml-core §3.3.2.2.1) against the two classes the gateway can assert, which come
// from the same amr table as OIDC acr (src/mfa/amr.ts): PasswordProtectedTransport < REFEDS MFA.
// The answer says whether the MFA step must run, whether the password class must be reported (an SP that
// asked for exactly or at most that class), or that the request cannot be met (NoAuthnContext).
import { ACR_MFA, ACR_PASSWORD } from '../../mfa/amr.ts';
import { NS } from './constants.ts';
import { SamlError } from './errors.ts';
import { attrOf } from './xml-guard.ts';

const UNSPECIFIED = 'urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified';
const RANK: Record<string, number> = { [ACR_PASSWORD]: 1, [ACR_MFA]: 2 };

export interface AuthnNeed { requireMfa: boolean; reportPasswordClass: boolean }

/** Reads <RequestedAuthnContext> of an AuthnRequest root; throws GW_SAML_NO_AUTHN_CONTEXT when unmeetable. */
export function requestedAuthnContext(root: Element): AuthnNeed {
  const rac = Array.from(root.getElementsByTagNameNS(NS.protocol, 'RequestedAuthnContext')).find((e) => e.parentNode === root);
  if (!rac) return { requireMfa: false, reportPasswordClass: false };
  const comparison = attrOf(rac, 'Comparison') ?? 'exact';
  const refs = Array.from(rac.getElementsByTagNameNS(NS.assertion, 'AuthnContextClassRef')).map((e) => (e.textContent ?? '').trim());
  if (refs.includes(UNSPECIFIED)) return { requireMfa: false, reportPasswordClass: false };
  const ranks = refs.map((r) => RANK[r]).filter((r): r is number => r !== undefined);
  const none = () => new SamlError('GW_SAML_NO_AUTHN_CONTEXT', `${comparison} ${refs.join(' ').slice(0, 300)}`);
  if (ranks.length === 0) throw none();
  const min = Math.min(...ranks), max = Math.max(...ranks);
  switch (comparison) {
    case 'exact': return { requireMfa: min === 2, reportPasswordClass: max === 1 };
    case 'minimum': return { requireMfa: min === 2, reportPasswordClass: false };
    case 'better': if (max === 2) throw none(); return { requireMfa: true, reportPasswordClass: false };
    case 'maximum': return { requireMfa: false, reportPasswordClass: max === 1 };
    default: throw new SamlError('GW_SAML_SCHEMA', `Comparison ${comparison}`);
  }
}
