// The SAML building blocks without a gateway: the structural gate, RequestedAuthnContext, SP registration
// errors (naming the key), IdP keys from files, and signed metadata checked by xmlsec1.
import t from 'tap';
import { loadConfig } from '../../src/config/load.ts';
import { parseProtocolMessage, screenMarkup } from '../../src/protocols/saml/xml-guard.ts';
import { requestedAuthnContext } from '../../src/protocols/saml/authn-context.ts';
import { createSpRegistry, clientIdFor } from '../../src/protocols/saml/sp-registry.ts';
import { createIdpKeys } from '../../src/protocols/saml/idp-keys.ts';
import { idpMetadataXml } from '../../src/protocols/saml/metadata.ts';
import { decodeMessage, readQuery } from '../../src/protocols/saml/request-guard.ts';
import { SamlError } from '../../src/protocols/saml/errors.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/mfa/amr.ts';
import { TEST_SECRET } from '../helpers/gateway.ts';
import { keyPair, xmlsecVerify } from './helpers.ts';

const code = (fn: () => unknown) => { try { fn(); return 'none'; } catch (e) { return e instanceof SamlError ? e.code : `not a SamlError: ${(e as Error).message}`; } };
const P = 'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"';

t.test('the structural gate', async (t) => {
  const ok = `<samlp:AuthnRequest ${P} ID="_a"><saml:Issuer>x</saml:Issuer></samlp:AuthnRequest>`;
  t.equal(code(() => parseProtocolMessage(ok, ['AuthnRequest'])), 'none');
  t.equal(code(() => parseProtocolMessage(`<?xml version="1.0" encoding="UTF-8"?>\n${ok}`, ['AuthnRequest'])), 'none', 'an XML declaration is fine');
  t.equal(code(() => parseProtocolMessage(ok, ['LogoutRequest'])), 'GW_SAML_SCHEMA', 'unexpected root');
  t.equal(code(() => parseProtocolMessage(ok.replace('urn:oasis:names:tc:SAML:2.0:protocol', 'urn:evil'), ['AuthnRequest'])), 'GW_SAML_SCHEMA', 'wrong namespace');
  t.equal(code(() => parseProtocolMessage(`${ok}${ok}`, ['AuthnRequest'])), 'GW_SAML_MALFORMED', 'two roots');
  t.equal(code(() => screenMarkup(`<!DOCTYPE x>${ok}`)), 'GW_SAML_DOCTYPE');
  t.equal(code(() => screenMarkup(ok.replace('>x<', '><!ENTITY y "z">x<'))), 'GW_SAML_DOCTYPE');
  t.equal(code(() => screenMarkup(ok.replace('>x<', '>x<!-- c --><'))), 'GW_SAML_COMMENT');
  t.equal(code(() => screenMarkup(ok.replace('>x<', '><?pi x?><'))), 'GW_SAML_PI');
  t.equal(code(() => screenMarkup(ok.replace('>x<', '><![CDATA[x]]><'))), 'GW_SAML_MALFORMED', 'CDATA');
  t.equal(code(() => screenMarkup(`<?xml version="1.0" encoding="ISO-8859-1"?>${ok}`)), 'GW_SAML_MALFORMED', 'UTF-8 only');
  t.equal(code(() => parseProtocolMessage(ok.replace('>x<', '>&unknown;<'), ['AuthnRequest'])), 'GW_SAML_MALFORMED', 'undeclared entity');
  t.equal(code(() => parseProtocolMessage(ok.replace('<saml:Issuer>x</saml:Issuer>', '<q:x/>'), ['AuthnRequest'])), 'GW_SAML_MALFORMED', 'unbound prefix');
  const deep = `${'<samlp:Extensions>'.repeat(50)}${'</samlp:Extensions>'.repeat(50)}`;
  t.equal(code(() => parseProtocolMessage(ok.replace('</samlp:AuthnRequest>', `${deep}</samlp:AuthnRequest>`), ['AuthnRequest'])), 'GW_SAML_SCHEMA', 'depth bound');
});

t.test('decoding: the inflate cap and duplicate parameters', async (t) => {
  const { deflateRawSync } = await import('node:zlib');
  const big = deflateRawSync(Buffer.alloc(100_000, 0x20)).toString('base64');
  t.equal(code(() => decodeMessage({ binding: 'redirect', fields: { SAMLRequest: big } }, 'SAMLRequest', 65536)), 'GW_SAML_TOO_LARGE');
  t.equal(code(() => decodeMessage({ binding: 'redirect', fields: { SAMLRequest: 'AAAA' } }, 'SAMLRequest', 65536)), 'GW_SAML_MALFORMED', 'not DEFLATE');
  t.equal(code(() => decodeMessage({ binding: 'post', fields: { SAMLRequest: Buffer.from([0xff, 0xfe]).toString('base64') } }, 'SAMLRequest', 65536)), 'GW_SAML_MALFORMED', 'not UTF-8');
  t.equal(code(() => readQuery('/saml/sso?SAMLRequest=a&RelayState=b&RelayState=c')), 'GW_SAML_MALFORMED');
  const q = readQuery('/saml/sso?SAMLRequest=a%2Bb&RelayState=x+y&other=1');
  t.same(q.fields, { SAMLRequest: 'a+b', RelayState: 'x y' });
  t.same(q.raw, { SAMLRequest: 'a%2Bb', RelayState: 'x+y' }, 'raw values kept for the signature');
});

t.test('RequestedAuthnContext', async (t) => {
  const req = (comparison: string | null, ...refs: string[]) => parseProtocolMessage(`<samlp:AuthnRequest ${P} ID="_a"><samlp:RequestedAuthnContext${comparison ? ` Comparison="${comparison}"` : ''}>${refs.map((r) => `<saml:AuthnContextClassRef>${r}</saml:AuthnContextClassRef>`).join('')}</samlp:RequestedAuthnContext></samlp:AuthnRequest>`, ['AuthnRequest']).root;
  t.same(requestedAuthnContext(parseProtocolMessage(`<samlp:AuthnRequest ${P} ID="_a"/>`, ['AuthnRequest']).root), { requireMfa: false, reportPasswordClass: false }, 'none asked');
  t.same(requestedAuthnContext(req(null, ACR_MFA)), { requireMfa: true, reportPasswordClass: false }, 'exact MFA');
  t.same(requestedAuthnContext(req('exact', ACR_PASSWORD)), { requireMfa: false, reportPasswordClass: true }, 'exact password: report that class');
  t.same(requestedAuthnContext(req('exact', ACR_PASSWORD, ACR_MFA)), { requireMfa: false, reportPasswordClass: false });
  t.same(requestedAuthnContext(req('minimum', ACR_MFA)), { requireMfa: true, reportPasswordClass: false });
  t.same(requestedAuthnContext(req('minimum', ACR_PASSWORD)), { requireMfa: false, reportPasswordClass: false });
  t.same(requestedAuthnContext(req('better', ACR_PASSWORD)), { requireMfa: true, reportPasswordClass: false });
  t.equal(code(() => requestedAuthnContext(req('better', ACR_MFA))), 'GW_SAML_NO_AUTHN_CONTEXT', 'nothing is better than MFA');
  t.same(requestedAuthnContext(req('maximum', ACR_PASSWORD)), { requireMfa: false, reportPasswordClass: true });
  t.equal(code(() => requestedAuthnContext(req('exact', 'urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos'))), 'GW_SAML_NO_AUTHN_CONTEXT');
});

t.test('SP registration errors name the key', async (t) => {
  const cert = (await keyPair(0)).certPem;
  const build = (sps: unknown[], files: Record<string, string> = {}) => {
    const config = loadConfig({ env: {}, overrides: { secret: TEST_SECRET, saml: { sps } } });
    try { createSpRegistry(config, (f) => { if (f in files) return files[f]!; throw new Error('ENOENT'); }); return 'ok'; } catch (e) { return (e as Error).message; }
  };
  const sp = { entityId: 'https://a.example', acs: [{ url: 'https://a.example/acs' }] };
  t.equal(build([sp]), 'ok');
  t.match(build([{ acs: [{ url: 'https://a.example/acs' }] }]), /^GW_ERR_SAML_CONFIG: saml\.sps\[0\]\.entityId: required/);
  t.match(build([{ entityId: 'x' }]), /saml\.sps\[0\]\.acs: at least one/);
  t.match(build([{ ...sp, acs: [{ url: 'javascript:alert(1)' }] }]), /saml\.sps\[0\]\.acs\[0\]\.url: must be an absolute http/);
  t.match(build([sp, sp]), /saml\.sps\[1\]\.entityId: .* registered twice/);
  t.match(build([{ ...sp, encryptAssertion: true }]), /saml\.sps\[0\]\.encryptAssertion: needs encryptionCert/);
  t.match(build([{ ...sp, requireSignedRequests: true }]), /saml\.sps\[0\]\.requireSignedRequests: needs a signing certificate/);
  t.match(build([{ ...sp, signingCerts: ['not a cert'] }]), /saml\.sps\[0\]\.signingCerts\[0\]/);
  t.match(build([{ ...sp, nameIdFormat: 'emailAddress' }]), /saml\.sps\[0\]\.nameIdSource: must be "email"/);
  t.match(build([{ metadataFile: '/nope.xml' }]), /saml\.sps\[0\]\.metadataFile: cannot read it/);
  t.match(build([{ metadataFile: 'md' }], { md: '<!DOCTYPE x><x/>' }), /saml\.sps\[0\]\.metadataFile: not usable SP metadata/);
  t.equal(build([{ ...sp, signingCerts: [cert], acs: [{ url: 'https://a.example/acs', index: 3 }] }]), 'ok');
  const inline = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://inline.example"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${(await keyPair(0)).certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://inline.example/slo"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://inline.example/artifact" index="0"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://inline.example/acs" index="1"/></md:SPSSODescriptor></md:EntityDescriptor>`;
  const reg = createSpRegistry(loadConfig({ env: {}, overrides: { secret: TEST_SECRET, saml: { sps: [{ metadataXml: inline, sign: 'response' }] } } }));
  const fromXml = reg.byEntityId('https://inline.example')!;
  t.same(fromXml.acs, [{ url: 'https://inline.example/acs', index: 1, isDefault: false }], 'HTTP-POST ACS only, with its index');
  t.same(fromXml.slo, [{ binding: 'post', url: 'https://inline.example/slo' }]);
  t.same(fromXml.signingCerts, [(await keyPair(0)).certB64], 'a KeyDescriptor without use signs and encrypts');
  t.equal(fromXml.encryptionCert, (await keyPair(0)).certB64);
  t.ok(fromXml.requireSignedRequests, 'AuthnRequestsSigned="true" is honoured');
  t.ok(fromXml.signAssertion && fromXml.signResponse, 'WantAssertionsSigned="true" adds the assertion signature');
  t.match(build([{ metadataXml: inline, entityId: 'https://other.example' }]), /no EntityDescriptor for https:\/\/other\.example/, 'entityId and metadata must agree');
  t.equal(clientIdFor('https://a.example'), clientIdFor('https://a.example'), 'internal client id is stable');
  t.match(clientIdFor('https://a.example'), /^saml:[A-Za-z0-9_-]{22}$/);
});

t.test('IdP key from files; signed metadata verifies with xmlsec1', async (t) => {
  const kp = await keyPair(3);
  const other = await keyPair(0);
  const base = { keyFile: 'k', certFile: 'c' };
  const cfg = loadConfig({ env: {}, overrides: { secret: TEST_SECRET } }).saml;
  const read = (files: Record<string, string>) => (f: string) => files[f]!;
  const keys = createIdpKeys({ db: undefined as never, box: undefined as never, issuer: 'https://idp.example', config: { ...cfg, ...base, extraCertFiles: ['n'] }, read: read({ k: kp.keyPem, c: kp.certPem, n: other.certPem }) });
  const set = await keys.load();
  t.equal(set.signing.certB64, kp.certB64);
  t.same(set.published, [kp.certB64, other.certB64], 'the extra certificate is published after the signing one');
  t.throws(() => createIdpKeys({ db: undefined as never, box: undefined as never, issuer: 'https://idp.example', config: { ...cfg, ...base }, read: read({ k: kp.keyPem, c: other.certPem, n: other.certPem }) }),
    /saml\.certFile does not belong to saml\.keyFile/);
  t.throws(() => createIdpKeys({ db: undefined as never, box: undefined as never, issuer: 'https://idp.example', config: { ...cfg, keyFile: 'k' }, read: read({}) }), /set both saml\.keyFile and saml\.certFile/);
  await t.rejects(keys.rotate(60), /GW_ERR_SAML_KEYS_FROM_FILES/, 'file keys are rotated by replacing the files');

  const xml = idpMetadataXml({ entityId: 'https://idp.example/saml/metadata', issuer: 'https://idp.example', keys: set, validSeconds: 3600, sign: true });
  t.match(xml, /^<md:EntityDescriptor[^>]*><ds:Signature/, 'the Signature is the first child of the root');
  t.ok((await xmlsecVerify(xml, kp.certPem, ['urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor'])).ok, 'xmlsec1 verifies the signed metadata');
  t.notOk((await xmlsecVerify(xml.replace('https://idp.example/saml/sso', 'https://evil.example/saml/sso'), kp.certPem, ['urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor'])).ok, 'and notices a change');
});
