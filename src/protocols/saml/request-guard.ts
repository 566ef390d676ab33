// Inbound hardening: every AuthnRequest, LogoutRequest and LogoutResponse passes here before anything
// acts on it. samlify alone is not enough (it inflates without a limit, trusts whatever signature it
// finds first, has no replay or time checks), so the rules are enforced here, and samlify's own parser
// runs last as a second, independent reading (samlify-check.ts). Order matters: cheap and
// attacker-independent checks first, the database (replay) last so refused messages cost nothing.
//
//  1. size: POST bodies are capped by the route; a Redirect message is inflated with an output cap
//  2. structure (xml-guard.ts): no DOCTYPE, comments, PIs or CDATA; one root of the expected type
//  3. Issuer → SP; the SP's certificates are the only keys tried; a certificate in KeyInfo must be one of them
//  4. signatures: exactly one, a direct child of the root, one Reference to the root's ID, which occurs once;
//     only SHA-256+ signature and digest algorithms; allowlisted transforms
//  5. Version, ID, IssueInstant inside the window, Destination = this endpoint
//  6. the SAML 2.0 protocol XML Schema (xsd.ts), then samlify's own reading of a signed message (samlify-check.ts)
//  7. the message ID is recorded once per issuer (atomic insert; inside a request's unit of work, the first
//     statement of its one commit, so a replay's answer is replaced by GW_SAML_REPLAY: store.ts firstUse)
import { inflateRawSync } from 'node:zlib';
import { createVerify } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import type { Config } from '../../config/schema.ts';
import { C14N_ALGS, DIGEST_ALGS, ENTITY_FORMAT, NS, REDIRECT_SIG_ALGS, TRANSFORM_ALGS, XML_SIGNATURE_ALGS } from './constants.ts';
import { certPublicKey, certToPem, normalizeCert } from './certs.ts';
import { SamlError } from './errors.ts';
import type { SamlSp, SpRegistry } from './sp-registry.ts';
import type { SamlStore } from './store.ts';
import { attrOf, parseProtocolMessage } from './xml-guard.ts';

export type MessageKind = 'AuthnRequest' | 'LogoutRequest' | 'LogoutResponse';
export type Binding = 'redirect' | 'post';

/** A message as it arrived: decoded parameter values, and (Redirect) the raw query values that were signed. */
export interface WireMessage { binding: Binding; fields: Record<string, string>; raw?: Record<string, string> }

/** A message that passed every rule. */
export interface Inbound {
  kind: MessageKind; binding: Binding; xml: string; root: Element; id: string; issuer: string; sp: SamlSp;
  signed: boolean; signingCert?: string; relayState?: string; issueInstant: Date; wire: WireMessage;
  /** Redirect binding: the octet string whose signature verified. */
  signedOctets?: string;
}

export const SAML_PARAMS = new Set(['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature']);
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Reads the SAML parameters of a query string, keeping each raw value (still percent-encoded) for the
 * Redirect-binding signature (saml-bindings §3.4.4.1: the octet string is built from the values as sent).
 */
export function readQuery(url: string): WireMessage {
  const q = url.indexOf('?');
  const fields: Record<string, string> = {};
  const raw: Record<string, string> = {};
  for (const pair of q < 0 ? [] : url.slice(q + 1).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let name: string, value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch { throw new SamlError('GW_SAML_MALFORMED', 'bad percent-encoding'); }
    if (!SAML_PARAMS.has(name)) continue;
    if (name in fields) throw new SamlError('GW_SAML_MALFORMED', `${name} given twice`);
    fields[name] = value;
    raw[name] = rawValue;
  }
  return { binding: 'redirect', fields, raw };
}

/** Base64 (and for Redirect, raw DEFLATE) → UTF-8 XML, never more than maxBytes. */
export function decodeMessage(wire: WireMessage, param: string, maxBytes: number): string {
  // A space is a '+' that a sender left unencoded in a query string.
  const b64 = (wire.fields[param] ?? '').replace(/[\r\n\t]/g, '').replace(/ /g, '+');
  if (!b64 || !B64.test(b64)) throw new SamlError('GW_SAML_MALFORMED', `${param} is not base64`);
  if (b64.length > Math.ceil(maxBytes / 3) * 4 + 4) throw new SamlError('GW_SAML_TOO_LARGE', `${param} longer than the limit`);
  let bytes = Buffer.from(b64, 'base64');
  if (wire.binding === 'redirect') {
    try {
      bytes = inflateRawSync(bytes, { maxOutputLength: maxBytes });
    } catch (err) {
      const e = err as { code?: string };
      if (e.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw new SamlError('GW_SAML_TOO_LARGE', 'inflates beyond the limit');
      throw new SamlError('GW_SAML_MALFORMED', 'not DEFLATE data');
    }
  }
  if (bytes.length > maxBytes) throw new SamlError('GW_SAML_TOO_LARGE', 'message larger than the limit');
  try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { throw new SamlError('GW_SAML_MALFORMED', 'not UTF-8'); }
}

const childElements = (el: Element, ns: string, name: string): Element[] => {
  const out: Element[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const n = el.childNodes[i] as Element;
    if (n.nodeType === 1 && n.namespaceURI === ns && n.localName === name) out.push(n);
  }
  return out;
};
const only = (el: Element, ns: string, name: string, code: 'GW_SAML_SCHEMA' | 'GW_SAML_SIGNATURE_REFERENCE' = 'GW_SAML_SCHEMA'): Element => {
  const c = childElements(el, ns, name);
  if (c.length !== 1) throw new SamlError(code, `expected one ${name}, found ${c.length}`);
  return c[0]!;
};

/** Every element's ID-like attribute must be unique, and the root's must occur exactly once. */
function checkIds(doc: Document, rootId: string) {
  const seen = new Set<string>();
  const all = doc.getElementsByTagName('*');
  for (let i = 0; i < all.length; i++) {
    const el = all[i]!;
    for (const a of ['ID', 'Id', 'id']) {
      if (!el.hasAttribute(a)) continue;
      const v = el.getAttribute(a)!;
      if (seen.has(v)) throw new SamlError('GW_SAML_DUPLICATE_ID', v === rootId ? 'root ID occurs more than once' : 'duplicate ID');
      seen.add(v);
    }
  }
}

/** The embedded-signature rules (POST binding); returns the SP certificate that verified, if signed. */
function checkEmbeddedSignature(doc: Document, root: Element, xml: string, id: string, sp: SamlSp): string | undefined {
  const sigs = doc.getElementsByTagNameNS(NS.dsig, 'Signature');
  if (sigs.length === 0) return undefined;
  if (sigs.length > 1) throw new SamlError('GW_SAML_SIGNATURE_COUNT', `${sigs.length} signatures`);
  const sig = sigs[0]!;
  if (sig.parentNode !== root) throw new SamlError('GW_SAML_SIGNATURE_PLACEMENT', 'signature is not a direct child of the root');
  const info = only(sig, NS.dsig, 'SignedInfo');
  const c14n = only(info, NS.dsig, 'CanonicalizationMethod').getAttribute('Algorithm') ?? '';
  if (!C14N_ALGS.has(c14n)) throw new SamlError('GW_SAML_SIGNATURE_TRANSFORM', `canonicalization ${c14n}`);
  const method = only(info, NS.dsig, 'SignatureMethod').getAttribute('Algorithm') ?? '';
  if (!XML_SIGNATURE_ALGS.has(method)) throw new SamlError('GW_SAML_WEAK_ALGORITHM', `signature method ${method}`);
  const refs = childElements(info, NS.dsig, 'Reference');
  if (refs.length !== 1) throw new SamlError('GW_SAML_SIGNATURE_REFERENCE', `${refs.length} references`);
  const ref = refs[0]!;
  if (ref.getAttribute('URI') !== `#${id}`) throw new SamlError('GW_SAML_SIGNATURE_REFERENCE', 'reference is not the root ID');
  for (const t of childElements(ref, NS.dsig, 'Transforms').flatMap((ts) => childElements(ts, NS.dsig, 'Transform'))) {
    const alg = t.getAttribute('Algorithm') ?? '';
    if (!TRANSFORM_ALGS.has(alg)) throw new SamlError('GW_SAML_SIGNATURE_TRANSFORM', `transform ${alg}`);
  }
  const digest = only(ref, NS.dsig, 'DigestMethod', 'GW_SAML_SIGNATURE_REFERENCE').getAttribute('Algorithm') ?? '';
  if (!DIGEST_ALGS.has(digest)) throw new SamlError('GW_SAML_WEAK_ALGORITHM', `digest ${digest}`);
  // The Issuer chose the SP; a certificate the message carries must be one of that SP's, never a key to use.
  for (const c of Array.from(sig.getElementsByTagNameNS(NS.dsig, 'X509Certificate'))) {
    let given: string;
    try { given = normalizeCert(c.textContent ?? ''); } catch { throw new SamlError('GW_SAML_MALFORMED', 'KeyInfo certificate does not parse'); }
    if (!sp.signingCerts.includes(given)) throw new SamlError('GW_SAML_ISSUER_MISMATCH', 'KeyInfo certificate is not registered for the issuer');
  }
  if (sp.signingCerts.length === 0) throw new SamlError('GW_SAML_SIGNATURE_INVALID', 'signed, but the SP has no signing certificate registered');
  for (const cert of sp.signingCerts) {
    const v = new SignedXml({ publicCert: certToPem(cert), getCertFromKeyInfo: () => null });
    try {
      v.loadSignature(sig);
      if (v.checkSignature(xml) && v.getSignedReferences().length === 1) return cert;
    } catch { /* next certificate */ }
  }
  throw new SamlError('GW_SAML_SIGNATURE_INVALID', 'signature does not verify with the SP certificates');
}

/**
 * The Redirect-binding signature. The octet string is the query values exactly as sent (saml-bindings
 * §3.4.4.1); some SPs sign a different percent-encoding of the same values than they put in the URL
 * (node-saml signs %20 but sends '+'), so a canonical re-encoding of the same decoded values is tried
 * second. Both spell the same decoded message, so accepting either weakens nothing.
 * Returns the certificate that verified and the octet string it verified.
 */
function checkQuerySignature(wire: WireMessage, param: string, sp: SamlSp): { cert: string; octets: string } | undefined {
  const { Signature: signature, SigAlg: sigAlg } = wire.fields;
  if (signature === undefined && sigAlg === undefined) return undefined;
  if (!signature || !sigAlg) throw new SamlError('GW_SAML_MALFORMED', 'Signature without SigAlg (or the reverse)');
  const alg = REDIRECT_SIG_ALGS[sigAlg];
  if (!alg) throw new SamlError('GW_SAML_WEAK_ALGORITHM', `SigAlg ${sigAlg}`);
  const names = [param, ...(wire.fields.RelayState !== undefined ? ['RelayState'] : []), 'SigAlg'];
  const candidates = [...new Set([
    names.map((k) => `${k}=${wire.raw![k]}`).join('&'),
    names.map((k) => `${k}=${encodeURIComponent(wire.fields[k]!)}`).join('&'),
  ])];
  const sigBytes = Buffer.from(signature.replace(/ /g, '+'), 'base64');
  if (sp.signingCerts.length === 0) throw new SamlError('GW_SAML_SIGNATURE_INVALID', 'signed, but the SP has no signing certificate registered');
  for (const cert of sp.signingCerts) {
    let key;
    try { key = certPublicKey(cert); } catch { continue; }
    if (key.asymmetricKeyType !== 'rsa') continue;
    for (const octets of candidates) if (createVerify(alg.hash).update(octets).verify(key, sigBytes)) return { cert, octets };
  }
  throw new SamlError('GW_SAML_SIGNATURE_INVALID', 'query signature does not verify with the SP certificates');
}

export interface GuardDeps {
  config: Config['saml']; sps: SpRegistry; store: SamlStore;
  /** A second reading by samlify of a message this guard accepted (samlify-check.ts). */
  crossCheck?: (m: Inbound) => Promise<void>;
  /** XML Schema validation of a message that passed the structural gate (xsd.ts); rejects with a SamlError. */
  schema?: (xml: string) => Promise<void>;
  now?: () => number;
}

export interface Expect {
  param: 'SAMLRequest' | 'SAMLResponse';
  kinds: readonly MessageKind[];
  /** This endpoint's URL: Destination must equal it. */
  destination: string;
  /** Whether this SP must sign this kind of message. */
  mustSign: (sp: SamlSp, kind: MessageKind) => boolean;
}

export function createRequestGuard(d: GuardDeps) {
  const now = d.now ?? Date.now;
  const c = d.config;
  return async function accept(wire: WireMessage, expect: Expect): Promise<Inbound> {
    const relayState = wire.fields.RelayState;
    if (relayState !== undefined && Buffer.byteLength(relayState) > c.maxRelayStateBytes) throw new SamlError('GW_SAML_RELAY_STATE', `${Buffer.byteLength(relayState)} bytes`);
    const xml = decodeMessage(wire, expect.param, c.maxMessageBytes);
    const { doc, root } = parseProtocolMessage(xml, expect.kinds);
    const kind = root.localName as MessageKind;

    const issuerEl = only(root, NS.assertion, 'Issuer');
    const format = attrOf(issuerEl, 'Format');
    if (format && format !== ENTITY_FORMAT) throw new SamlError('GW_SAML_SCHEMA', 'Issuer Format is not entity');
    const issuer = (issuerEl.textContent ?? '').trim();
    const sp = d.sps.byEntityId(issuer);
    if (!sp) throw new SamlError('GW_SAML_UNKNOWN_SP', `issuer ${issuer.slice(0, 200)}`);

    if (root.getAttribute('Version') !== '2.0') throw new SamlError('GW_SAML_SCHEMA', 'Version is not 2.0');
    const id = root.getAttribute('ID') ?? '';
    if (!NCNAME.test(id)) throw new SamlError('GW_SAML_SCHEMA', 'ID missing or not an NCName');
    checkIds(doc, id);

    let signingCert: string | undefined;
    let signedOctets: string | undefined;
    if (wire.binding === 'redirect') {
      // saml-bindings §3.4.4.1: a Redirect message carries its signature in the query, never inside.
      if (doc.getElementsByTagNameNS(NS.dsig, 'Signature').length > 0) throw new SamlError('GW_SAML_SIGNATURE_PLACEMENT', 'embedded signature in a Redirect message');
      const q = checkQuerySignature(wire, expect.param, sp);
      signingCert = q?.cert;
      signedOctets = q?.octets;
    } else {
      if (wire.fields.Signature !== undefined || wire.fields.SigAlg !== undefined) throw new SamlError('GW_SAML_SIGNATURE_PLACEMENT', 'query-style signature on a POST message');
      signingCert = checkEmbeddedSignature(doc, root, xml, id, sp);
    }
    const signed = signingCert !== undefined;
    if (!signed && expect.mustSign(sp, kind)) throw new SamlError('GW_SAML_UNSIGNED', `${kind} from ${issuer} must be signed`);

    const destination = attrOf(root, 'Destination');
    if (destination !== null ? destination !== expect.destination : signed) {
      throw new SamlError('GW_SAML_DESTINATION', destination === null ? 'signed message without Destination' : 'Destination is not this endpoint');
    }
    const instant = root.getAttribute('IssueInstant') ?? '';
    if (!INSTANT.test(instant)) throw new SamlError('GW_SAML_SCHEMA', 'IssueInstant is not a UTC xs:dateTime');
    const issueInstant = new Date(instant);
    const skew = c.clockSkewSeconds * 1000;
    const t = issueInstant.getTime();
    if (!(t >= now() - c.requestMaxAgeSeconds * 1000 - skew && t <= now() + skew)) throw new SamlError('GW_SAML_STALE', `IssueInstant ${instant}`);

    // The XML Schema, once the cheap rules above have passed (each of them names its attack more precisely
    // than a schema error would): what samlify and the handlers read next is schema-valid.
    await d.schema?.(xml);

    const m: Inbound = { kind, binding: wire.binding, xml, root, id, issuer, sp, signed, ...(signingCert ? { signingCert } : {}), ...(relayState !== undefined ? { relayState } : {}), issueInstant, wire, ...(signedOctets ? { signedOctets } : {}) };
    await d.crossCheck?.(m);
    // Kept until the message could no longer pass the time check anyway.
    if (!await d.store.firstUse(issuer, id, c.requestMaxAgeSeconds + 2 * c.clockSkewSeconds + 60)) throw new SamlError('GW_SAML_REPLAY', `ID ${id} from ${issuer}`);
    return m;
  };
}
export type RequestGuard = ReturnType<typeof createRequestGuard>;
