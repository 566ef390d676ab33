// XML written directly in its exclusive canonical form (xml-exc-c14n, https://www.w3.org/TR/xml-exc-c14n/),
// so that signature.ts can digest the text as it stands instead of parsing it back, walking the tree and
// serialising it again (xml-crypto's way: ≈ 30 % of a signed-in SAML round trip was that XML work).
// What the canonical form asks of the text, and this builder guarantees by construction:
//  - explicit end tags, never `<x/>`;
//  - namespace declarations first, sorted by prefix, then attributes: unprefixed ones by name, prefixed
//    ones after them by namespace URI and name (`attributes()`);
//  - a namespace declared on the element that first uses it in the signed subtree (exc-c14n renders it
//    there and nowhere else), except the prefixes of INCLUSIVE_PREFIXES, which the signature lists as
//    InclusiveNamespaces and which are therefore kept where they are declared;
//  - the canonical escapes: text &amp; &lt; &gt; &#xD;, attribute values &amp; &lt; &quot; &#x9; &#xA; &#xD;
//    (the parser normalises literal tabs and line ends in attributes and CRs in text; character references
//    survive, and the canonical form writes them back the same way);
//  - no XML declaration, comments or whitespace between elements.
// test/saml/canonical.test.ts checks every template against xml-crypto's canonicaliser, hostile values included.
import { NS } from './constants.ts';

/** Prefixes a signature lists in InclusiveNamespaces: `xs` is used only inside attribute values (xsi:type="xs:string"), which exc-c14n cannot see. */
export const INCLUSIVE_PREFIXES = 'xs xsi';

const PREFIX_URI: Record<string, string> = { xsi: NS.xsi };
// Characters XML 1.0 cannot carry at all: dropped rather than escaped.
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTR: Record<string, string> = { '&': '&amp;', '<': '&lt;', '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;' };

/** Character data, escaped as the canonical form writes it. */
export const text = (s: string) => s.replace(INVALID, '').replace(/[&<>\r]/g, (c) => TEXT[c]!);
/** An attribute value, escaped as the canonical form writes it (also valid anywhere else an attribute is written). */
export const attrValue = (s: string) => s.replace(INVALID, '').replace(/[&<"\t\n\r]/g, (c) => ATTR[c]!);

export type Attrs = Record<string, string | undefined>;

function sortKey(name: string): string {
  const colon = name.indexOf(':');
  if (colon < 0) return `\u0000${name}`; // unprefixed attributes have no namespace URI: they sort first
  const uri = PREFIX_URI[name.slice(0, colon)];
  if (!uri) throw new Error(`canonical XML: unknown attribute prefix in ${name}`);
  return `${uri}\u0000${name.slice(colon + 1)}`;
}

/** ` xmlns:p="…"` declarations then attributes, in canonical order; undefined attributes are left out. */
function attributes(ns: Record<string, string>, attrs: Attrs): string {
  let out = '';
  for (const p of Object.keys(ns).sort()) out += ` xmlns:${p}="${attrValue(ns[p]!)}"`;
  const keyed = Object.keys(attrs).filter((n) => attrs[n] !== undefined).map((n) => [sortKey(n), n] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [, n] of keyed) out += ` ${n}="${attrValue(attrs[n]!)}"`;
  return out;
}

/**
 * One element: `content` is already canonical markup (other `el()`s, or `text()`); `ns` maps prefixes
 * this element declares to their URIs.
 */
export function el(name: string, attrs: Attrs = {}, content = '', ns: Record<string, string> = {}): string {
  return `<${name}${attributes(ns, attrs)}>${content}</${name}>`;
}
