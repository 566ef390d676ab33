// The XML the IdP writes, in exclusive canonical form (canonical.ts: signature.ts digests it as it stands).
// Element order follows saml-core (the schema is strict about it: Issuer, Signature, Status / Subject,
// Conditions, AuthnStatement, attributes); signatures are inserted afterwards, right after the Issuer.
// Namespaces sit where exclusive c14n renders them: `saml` on each top-level saml element of a protocol
// message (the Issuer, the Assertion, a LogoutRequest's NameID), `xs`/`xsi` on the Assertion (listed as
// InclusiveNamespaces by the signature, since `xs` appears only inside xsi:type values).
import { ATTRNAME_FORMAT, BEARER, ENTITY_FORMAT, NS } from './constants.ts';
import { el, text } from './canonical.ts';

const iso = (d: Date) => d.toISOString();
const SAMLP = { samlp: NS.protocol };
const SAML = { saml: NS.assertion };

export interface ReleasedAttribute { name: string; friendlyName?: string; nameFormat: keyof typeof ATTRNAME_FORMAT; values: string[] }

export interface AssertionFields {
  responseId: string; assertionId: string; issuer: string; audience: string; destination: string; inResponseTo?: string;
  nameId: string; nameIdFormat: string; spNameQualifier?: string; sessionIndex: string; authnInstant: Date; authnClass: string;
  attributes: ReleasedAttribute[]; now: Date; notBefore: Date; notOnOrAfter: Date;
}

/** The Issuer; `declare` when no ancestor declares the saml prefix (a protocol message's own Issuer). */
const issuerEl = (issuer: string, declare: boolean) => el('saml:Issuer', { Format: ENTITY_FORMAT }, text(issuer), declare ? SAML : {});

function attributeStatement(attrs: ReleasedAttribute[]): string {
  if (attrs.length === 0) return '';
  return el('saml:AttributeStatement', {}, attrs.map((a) => el('saml:Attribute', { Name: a.name, NameFormat: ATTRNAME_FORMAT[a.nameFormat], FriendlyName: a.friendlyName },
    a.values.map((v) => el('saml:AttributeValue', { 'xsi:type': 'xs:string' }, text(v))).join(''))).join(''));
}

/** A successful Response with one bearer Assertion (saml-profiles §4.1.4.2). */
export function loginResponseXml(f: AssertionFields): string {
  const assertion = el('saml:Assertion', { ID: f.assertionId, Version: '2.0', IssueInstant: iso(f.now) },
    issuerEl(f.issuer, false)
    + el('saml:Subject', {},
      el('saml:NameID', { Format: f.nameIdFormat, SPNameQualifier: f.spNameQualifier }, text(f.nameId))
      + el('saml:SubjectConfirmation', { Method: BEARER },
        el('saml:SubjectConfirmationData', { NotOnOrAfter: iso(f.notOnOrAfter), Recipient: f.destination, InResponseTo: f.inResponseTo })))
    + el('saml:Conditions', { NotBefore: iso(f.notBefore), NotOnOrAfter: iso(f.notOnOrAfter) },
      el('saml:AudienceRestriction', {}, el('saml:Audience', {}, text(f.audience))))
    + el('saml:AuthnStatement', { AuthnInstant: iso(f.authnInstant), SessionIndex: f.sessionIndex },
      el('saml:AuthnContext', {}, el('saml:AuthnContextClassRef', {}, text(f.authnClass))))
    + attributeStatement(f.attributes),
    { ...SAML, xs: NS.xs, xsi: NS.xsi });
  return el('samlp:Response', { ID: f.responseId, Version: '2.0', IssueInstant: iso(f.now), Destination: f.destination, InResponseTo: f.inResponseTo },
    issuerEl(f.issuer, true)
    + el('samlp:Status', {}, el('samlp:StatusCode', { Value: 'urn:oasis:names:tc:SAML:2.0:status:Success' }))
    + assertion,
    SAMLP);
}

export interface StatusFields {
  root: 'Response' | 'LogoutResponse'; id: string; issuer: string; destination: string; inResponseTo?: string;
  status: readonly [string, string?]; message?: string; now: Date;
}

/** A Response or LogoutResponse carrying only a status (errors, logout results). */
export function statusResponseXml(f: StatusFields): string {
  const [top, second] = f.status;
  const code = el('samlp:StatusCode', { Value: top }, second ? el('samlp:StatusCode', { Value: second }) : '');
  return el(`samlp:${f.root}`, { ID: f.id, Version: '2.0', IssueInstant: iso(f.now), Destination: f.destination, InResponseTo: f.inResponseTo },
    issuerEl(f.issuer, true)
    + el('samlp:Status', {}, code + (f.message ? el('samlp:StatusMessage', {}, text(f.message)) : '')),
    SAMLP);
}

export interface LogoutRequestFields { id: string; issuer: string; destination: string; nameId: string; nameIdFormat: string; spEntityId: string; sessionIndex: string; now: Date; notOnOrAfter: Date }

export function logoutRequestXml(f: LogoutRequestFields): string {
  return el('samlp:LogoutRequest', { ID: f.id, Version: '2.0', IssueInstant: iso(f.now), Destination: f.destination, NotOnOrAfter: iso(f.notOnOrAfter) },
    issuerEl(f.issuer, true)
    + el('saml:NameID', { Format: f.nameIdFormat, SPNameQualifier: f.spEntityId }, text(f.nameId), SAML)
    + el('samlp:SessionIndex', {}, text(f.sessionIndex)),
    SAMLP);
}
