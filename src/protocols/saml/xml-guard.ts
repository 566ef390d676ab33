// The structural gate every inbound SAML document passes before anything reads it: UTF-8, no DOCTYPE,
// no comments, no processing instructions, no CDATA, one root of an expected type, bounded size and
// depth, every prefix bound. These rules are cheap and cover the attacks that matter (XXE, entity
// expansion, comment truncation, wrapping through duplicate roots); the XML Schema validation (xsd.ts)
// runs after them, on documents they accepted. Together they are samlify's schema validator (see
// setSchemaValidator below), so samlify never parses a document that has not passed both.
import { DOMParser } from '@xmldom/xmldom';
import { setSchemaValidator } from 'samlify';
import { NS } from './constants.ts';
import { SamlError } from './errors.ts';
import { sharedXsdValidator } from './xsd.ts';

const MAX_DEPTH = 40;
const MAX_ELEMENTS = 5000;
const MAX_ATTRIBUTES = 64;

// DOM node types (xmldom follows the DOM numbering).
const ELEMENT = 1, TEXT = 3;

const XML_DECL = /^<\?xml\s+version\s*=\s*(["'])1\.[01]\1(\s+encoding\s*=\s*(["'])utf-8\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>/i;

/**
 * Lexical screen. In well-formed XML a literal `<` only ever starts markup, so any `<!` is a DOCTYPE,
 * a comment or a CDATA section, and any `<?` a processing instruction: each is refused by name before
 * a parser could expand an entity or drop a comment.
 */
export function screenMarkup(xml: string): string {
  let body = xml.replace(/^\uFEFF/, '');
  if (body.startsWith('<?xml')) {
    const m = XML_DECL.exec(body);
    if (!m) throw new SamlError('GW_SAML_MALFORMED', 'XML declaration is not version 1.0 with UTF-8');
    body = body.slice(m[0].length);
  }
  if (/<!DOCTYPE/i.test(body) || /<!ENTITY/i.test(body)) throw new SamlError('GW_SAML_DOCTYPE', 'document type declaration');
  if (body.includes('<!--')) throw new SamlError('GW_SAML_COMMENT', 'XML comment');
  if (body.includes('<?')) throw new SamlError('GW_SAML_PI', 'processing instruction');
  if (body.includes('<!')) throw new SamlError('GW_SAML_MALFORMED', 'CDATA or other <! markup');
  return body;
}

function strictParser() {
  const fail = (level: string) => (msg: string) => { throw new SamlError('GW_SAML_MALFORMED', `xml ${level}: ${String(msg).split('\n')[0]}`); };
  return new DOMParser({ errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') } });
}

/** Walks the tree: only elements and text below the root; bounded; every prefix bound to a namespace. */
function walk(root: Element) {
  let elements = 0;
  const visit = (el: Element, depth: number) => {
    if (depth > MAX_DEPTH) throw new SamlError('GW_SAML_SCHEMA', 'nesting too deep');
    if (++elements > MAX_ELEMENTS) throw new SamlError('GW_SAML_SCHEMA', 'too many elements');
    if (el.prefix && !el.namespaceURI) throw new SamlError('GW_SAML_MALFORMED', `unbound prefix ${el.prefix}`);
    if (el.attributes.length > MAX_ATTRIBUTES) throw new SamlError('GW_SAML_SCHEMA', 'too many attributes');
    for (let i = 0; i < el.childNodes.length; i++) {
      const n = el.childNodes[i]!;
      if (n.nodeType === ELEMENT) visit(n as Element, depth + 1);
      else if (n.nodeType !== TEXT) throw new SamlError(n.nodeType === 8 ? 'GW_SAML_COMMENT' : n.nodeType === 7 ? 'GW_SAML_PI' : 'GW_SAML_MALFORMED', `node type ${n.nodeType}`);
    }
  };
  visit(root, 0);
}

/**
 * Parses an inbound protocol message and returns its root, or throws a SamlError. `expected` lists the
 * allowed local names of the root in the SAML protocol namespace.
 */
export function parseProtocolMessage(xml: string, expected: readonly string[]): { doc: Document; root: Element } {
  screenMarkup(xml);
  const doc = strictParser().parseFromString(xml, 'text/xml') as unknown as Document;
  const roots: Element[] = [];
  for (let i = 0; i < doc.childNodes.length; i++) {
    const n = doc.childNodes[i]!;
    if (n.nodeType === ELEMENT) roots.push(n as Element);
    else if (n.nodeType === 7 && n.nodeName === 'xml') continue; // the XML declaration screened above
    else if (n.nodeType === TEXT && !(n.nodeValue ?? '').trim()) continue;
    else throw new SamlError('GW_SAML_MALFORMED', `top-level node type ${n.nodeType}`);
  }
  if (roots.length !== 1) throw new SamlError('GW_SAML_SCHEMA', 'not exactly one root element');
  const root = roots[0]!;
  if (root.namespaceURI !== NS.protocol || !expected.includes(root.localName)) {
    throw new SamlError('GW_SAML_SCHEMA', `unexpected root {${root.namespaceURI}}${root.localName}`);
  }
  walk(root);
  return { doc, root };
}

/** An attribute's value, or null when absent (xmldom 0.8's getAttribute returns '' for a missing attribute). */
export const attrOf = (el: Element, name: string): string | null => (el.hasAttribute(name) ? el.getAttribute(name) : null);

/** Parses a trusted-but-careful document (SP metadata from config): no DOCTYPE, strict parser. */
export function parseConfigXml(xml: string): Document {
  const body = xml.replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(body) || /<!ENTITY/i.test(body)) throw new Error('metadata must not contain a DOCTYPE');
  return strictParser().parseFromString(body, 'text/xml') as unknown as Document;
}

// samlify refuses to parse anything until a validator is set; ours is the structural gate above, then the
// XML Schema. The request guard has checked the same text moments before: a text in the validator's cache
// of documents that passed went through the structural gate (with a narrower list of roots) before its
// schema check, whoever asked, so it is neither parsed nor validated again.
// https://github.com/tngan/samlify/blob/master/src/libsaml.ts (isValidXml)
setSchemaValidator({
  validate: async (xml: string) => {
    if (sharedXsdValidator().passed(xml)) return 'schema ok';
    parseProtocolMessage(xml, ['AuthnRequest', 'LogoutRequest', 'LogoutResponse', 'Response']);
    await sharedXsdValidator().validate(xml);
    return 'schema ok';
  },
});
