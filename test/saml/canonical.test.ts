// The premise of signature.ts: what templates.ts writes is already in exclusive canonical form, so a
// digest of the text is the digest of its canonical form. Checked against xml-crypto's canonicaliser
// (the one samlify signs with) for every template and every signed element, with hostile values (markup,
// quotes, tabs, line ends, CRs, control characters, non-ASCII); and the signatures made over such values
// are verified by xmlsec1 and by xml-crypto.
import t from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { INCLUSIVE_PREFIXES, el, text } from '../../src/protocols/saml/canonical.ts';
import { loginResponseXml, logoutRequestXml, statusResponseXml } from '../../src/protocols/saml/templates.ts';
import { signEnveloped } from '../../src/protocols/saml/signature.ts';
import { createPrivateKey } from 'node:crypto';
import { ASSERTION_ID, RESPONSE_ID, keyPair, xmlsecVerify } from './helpers.ts';

const HOSTILE = ['a & b < c > d "e" \'f\'', 'tab\there', 'line\nend', 'cr\rlf\r\n', 'ctl\u0001\u001f\uffffx', 'ünï¢ødé 😀', ']]> <!-- x -->', ' lead and trail '];
const at = new Date('2026-12-05T10:00:00.123Z');

function loginXml(v: string, o: { inResponseTo?: string; spNameQualifier?: string; attrs?: boolean } = {}) {
  return loginResponseXml({
    responseId: '_r1', assertionId: '_a1', issuer: `https://idp.test/${v}`, audience: v, destination: `https://sp.test/acs?x=${v}`,
    ...(o.inResponseTo !== undefined ? { inResponseTo: o.inResponseTo } : {}), nameId: v, nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    ...(o.spNameQualifier !== undefined ? { spNameQualifier: o.spNameQualifier } : {}), sessionIndex: '_s1', authnInstant: at, authnClass: v,
    attributes: o.attrs === false ? [] : [{ name: v, nameFormat: 'basic', friendlyName: v, values: [v, 'second'] }, { name: 'urn:oid:1', nameFormat: 'uri', values: [] }],
    now: at, notBefore: at, notOnOrAfter: at,
  });
}

/** xml-crypto's exclusive c14n of the element with this ID (with the inclusive prefix list). */
function canonicalOf(xml: string, id: string, prefixes = INCLUSIVE_PREFIXES.split(' ')): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const all = Array.from(doc.getElementsByTagName('*')).filter((e) => e.getAttribute('ID') === id);
  if (all.length !== 1) throw new Error(`no single element with ID ${id}`);
  return new ExclusiveCanonicalization().process(all[0]! as unknown as Element, { inclusiveNamespacesPrefixList: prefixes }) as string;
}

/** The element's text as written: from its start tag to its end tag. */
function spanOf(xml: string, name: string, id: string): string {
  const start = xml.lastIndexOf('<', xml.indexOf(` ID="${id}"`));
  return xml.slice(start, xml.indexOf(`</${name}>`, start) + name.length + 3);
}

t.test('each template writes its signed elements in exclusive canonical form', async (t) => {
  for (const v of HOSTILE) {
    for (const o of [{}, { inResponseTo: v, spNameQualifier: v }, { attrs: false }]) {
      const xml = loginXml(v, o);
      t.equal(spanOf(xml, 'samlp:Response', '_r1'), canonicalOf(xml, '_r1'), `Response, ${JSON.stringify(v)} ${JSON.stringify(o)}`);
      t.equal(spanOf(xml, 'saml:Assertion', '_a1'), canonicalOf(xml, '_a1'), `Assertion, ${JSON.stringify(v)}`);
    }
    for (const root of ['Response', 'LogoutResponse'] as const) {
      const xml = statusResponseXml({ root, id: '_st', issuer: v, destination: v, inResponseTo: v, status: ['urn:x:top', 'urn:x:second'], message: v, now: at });
      t.equal(xml, canonicalOf(xml, '_st', []), `${root}, ${JSON.stringify(v)}`);
    }
    const lr = logoutRequestXml({ id: '_lr', issuer: v, destination: v, nameId: v, nameIdFormat: v, spEntityId: v, sessionIndex: v, now: at, notOnOrAfter: at });
    t.equal(lr, canonicalOf(lr, '_lr', []), `LogoutRequest, ${JSON.stringify(v)}`);
  }
});

t.test('the builder: attribute order, escapes, no empty-element tags', async (t) => {
  t.equal(el('x:a', { b: '1', A: '2', 'xsi:type': 't', C: undefined }, '', { z: 'urn:z', x: 'urn:x', xsi: 'urn:xsi' }),
    '<x:a xmlns:x="urn:x" xmlns:xsi="urn:xsi" xmlns:z="urn:z" A="2" b="1" xsi:type="t"></x:a>', 'namespaces by prefix, then unprefixed by name, then prefixed');
  t.equal(el('a', { v: '<&>"\'\t\n\r' }), '<a v="&lt;&amp;>&quot;\'&#x9;&#xA;&#xD;"></a>', 'attribute escapes');
  t.equal(text('<&>"\'\t\n\r\u0000'), '&lt;&amp;&gt;"\'\t\n&#xD;', 'text escapes; invalid characters dropped');
  t.throws(() => el('a', { 'foo:bar': 'x' }), /unknown attribute prefix/, 'an attribute prefix without a known namespace is refused');
});

t.test('signatures over hostile values verify with xmlsec1 and xml-crypto', async (t) => {
  const kp = await keyPair(0);
  const key = createPrivateKey(kp.keyPem);
  const signer = { key, certB64: kp.certB64, inclusivePrefixes: INCLUSIVE_PREFIXES };
  for (const v of HOSTILE) {
    let xml = signEnveloped(loginXml(v, { inResponseTo: v }), { ...signer, element: 'saml:Assertion', id: '_a1' });
    xml = signEnveloped(xml, { ...signer, element: 'samlp:Response', id: '_r1' });
    const r = await xmlsecVerify(xml, kp.certPem, [RESPONSE_ID], "/*/*[local-name()='Signature']");
    const a = await xmlsecVerify(xml, kp.certPem, [RESPONSE_ID, ASSERTION_ID], "/*/*[local-name()='Assertion']/*[local-name()='Signature']");
    t.ok(r.ok, `xmlsec1: Response signature, ${JSON.stringify(v)}`, { out: r.out });
    t.ok(a.ok, `xmlsec1: Assertion signature, ${JSON.stringify(v)}`, { out: a.out });
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    for (const sig of Array.from(doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature'))) {
      const x = new SignedXml({ publicCert: kp.certPem, getCertFromKeyInfo: () => null });
      x.loadSignature(sig as unknown as Node);
      t.ok(x.checkSignature(xml), `xml-crypto: ${(sig.parentNode as unknown as Element).localName} signature, ${JSON.stringify(v)}`);
    }
    // A changed byte in the signed content breaks both signatures.
    const tampered = xml.replace('_s1', '_s2');
    t.notOk((await xmlsecVerify(tampered, kp.certPem, [RESPONSE_ID, ASSERTION_ID], "/*/*[local-name()='Assertion']/*[local-name()='Signature']")).ok, 'tampered: refused');
  }
  const status = signEnveloped(statusResponseXml({ root: 'LogoutResponse', id: '_st', issuer: 'i', destination: 'd', status: ['urn:x'], message: HOSTILE.join(''), now: at }), { element: 'samlp:LogoutResponse', id: '_st', key, certB64: kp.certB64 });
  t.ok((await xmlsecVerify(status, kp.certPem, ['urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse'])).ok, 'a signed LogoutResponse verifies');
});

t.test('signEnveloped refuses what it cannot place', async (t) => {
  const key = createPrivateKey((await keyPair(0)).keyPem);
  const o = { key, certB64: 'x' };
  t.throws(() => signEnveloped('<a ID="_1"></a>', { ...o, element: 'a', id: '_2' }), /no single a with ID _2/, 'unknown ID');
  t.throws(() => signEnveloped('<b ID="_1"></b>', { ...o, element: 'a', id: '_1' }), /no single a/, 'ID on another element');
  t.throws(() => signEnveloped('<a ID="_1"><a ID="_2"></a></a>', { ...o, element: 'a', id: '_1' }), /no single a/, 'nested element of the same name');
  t.throws(() => signEnveloped('<a ID="_1"></a>', { ...o, element: 'a', id: '_1' }), /has no Issuer/, 'no Issuer to place the Signature after');
});
