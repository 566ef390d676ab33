// The XML the IdP writes. Every interpolated value is escaped; element order follows saml-core (the
// schema is strict about it: Issuer, Signature, Status / Subject, Conditions, AuthnStatement, attributes).
// Signatures are inserted afterwards by outbound.ts (after the Issuer, as the schema requires).
import { ATTRNAME_FORMAT, BEARER, ENTITY_FORMAT, NS } from './constants.ts';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** XML escape for text and attribute values; control characters (invalid in XML 1.0) are dropped. */
export const esc = (s: string) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => ESC[c]!);
const attr = (name: string, v: string | undefined) => (v === undefined ? '' : ` ${name}="${esc(v)}"`);
const iso = (d: Date) => d.toISOString();

export interface ReleasedAttribute { name: string; friendlyName?: string; nameFormat: keyof typeof ATTRNAME_FORMAT; values: string[] }

export interface AssertionFields {
  responseId: string; assertionId: string; issuer: string; audience: string; destination: string; inResponseTo?: string;
  nameId: string; nameIdFormat: string; spNameQualifier?: string; sessionIndex: string; authnInstant: Date; authnClass: string;
  attributes: ReleasedAttribute[]; now: Date; notBefore: Date; notOnOrAfter: Date;
}

function attributeStatement(attrs: ReleasedAttribute[]): string {
  if (attrs.length === 0) return '';
  return `<saml:AttributeStatement>${attrs.map((a) => `<saml:Attribute${attr('Name', a.name)}${attr('NameFormat', ATTRNAME_FORMAT[a.nameFormat])}${attr('FriendlyName', a.friendlyName)}>${
    a.values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`).join('')}</saml:AttributeStatement>`;
}

/** A successful Response with one bearer Assertion (saml-profiles §4.1.4.2). */
export function loginResponseXml(f: AssertionFields): string {
  const irt = attr('InResponseTo', f.inResponseTo);
  return `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"${attr('ID', f.responseId)} Version="2.0"${attr('IssueInstant', iso(f.now))}${attr('Destination', f.destination)}${irt}>`
    + `<saml:Issuer Format="${ENTITY_FORMAT}">${esc(f.issuer)}</saml:Issuer>`
    + `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
    + `<saml:Assertion xmlns:xs="${NS.xs}" xmlns:xsi="${NS.xsi}"${attr('ID', f.assertionId)} Version="2.0"${attr('IssueInstant', iso(f.now))}>`
    + `<saml:Issuer Format="${ENTITY_FORMAT}">${esc(f.issuer)}</saml:Issuer>`
    + `<saml:Subject><saml:NameID${attr('Format', f.nameIdFormat)}${attr('SPNameQualifier', f.spNameQualifier)}>${esc(f.nameId)}</saml:NameID>`
    + `<saml:SubjectConfirmation Method="${BEARER}"><saml:SubjectConfirmationData${attr('NotOnOrAfter', iso(f.notOnOrAfter))}${attr('Recipient', f.destination)}${irt}/></saml:SubjectConfirmation></saml:Subject>`
    + `<saml:Conditions${attr('NotBefore', iso(f.notBefore))}${attr('NotOnOrAfter', iso(f.notOnOrAfter))}><saml:AudienceRestriction><saml:Audience>${esc(f.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
    + `<saml:AuthnStatement${attr('AuthnInstant', iso(f.authnInstant))}${attr('SessionIndex', f.sessionIndex)}><saml:AuthnContext><saml:AuthnContextClassRef>${esc(f.authnClass)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
    + attributeStatement(f.attributes)
    + `</saml:Assertion></samlp:Response>`;
}

export interface StatusFields {
  root: 'Response' | 'LogoutResponse'; id: string; issuer: string; destination: string; inResponseTo?: string;
  status: readonly [string, string?]; message?: string; now: Date;
}

/** A Response or LogoutResponse carrying only a status (errors, logout results). */
export function statusResponseXml(f: StatusFields): string {
  const [top, second] = f.status;
  const code = second ? `<samlp:StatusCode Value="${esc(top)}"><samlp:StatusCode Value="${esc(second)}"/></samlp:StatusCode>` : `<samlp:StatusCode Value="${esc(top)}"/>`;
  return `<samlp:${f.root} xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"${attr('ID', f.id)} Version="2.0"${attr('IssueInstant', iso(f.now))}${attr('Destination', f.destination)}${attr('InResponseTo', f.inResponseTo)}>`
    + `<saml:Issuer Format="${ENTITY_FORMAT}">${esc(f.issuer)}</saml:Issuer>`
    + `<samlp:Status>${code}${f.message ? `<samlp:StatusMessage>${esc(f.message)}</samlp:StatusMessage>` : ''}</samlp:Status></samlp:${f.root}>`;
}

export interface LogoutRequestFields { id: string; issuer: string; destination: string; nameId: string; nameIdFormat: string; spEntityId: string; sessionIndex: string; now: Date; notOnOrAfter: Date }

export function logoutRequestXml(f: LogoutRequestFields): string {
  return `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"${attr('ID', f.id)} Version="2.0"${attr('IssueInstant', iso(f.now))}${attr('Destination', f.destination)}${attr('NotOnOrAfter', iso(f.notOnOrAfter))}>`
    + `<saml:Issuer Format="${ENTITY_FORMAT}">${esc(f.issuer)}</saml:Issuer>`
    + `<saml:NameID${attr('Format', f.nameIdFormat)}${attr('SPNameQualifier', f.spEntityId)}>${esc(f.nameId)}</saml:NameID>`
    + `<samlp:SessionIndex>${esc(f.sessionIndex)}</samlp:SessionIndex></samlp:LogoutRequest>`;
}
