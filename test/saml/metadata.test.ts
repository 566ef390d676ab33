// /saml/metadata contents, IdP key rotation (two certificates published, the new one signs), and an SP
// registered from its own metadata file (the worked example of docs/saml.md).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { IdentityProvider } from 'samlify';
import { SAML } from '@node-saml/node-saml';
import { Browser } from '../helpers/browser.ts';
import { certToPem } from '../../src/protocols/saml/certs.ts';
import { rotateSamlKey } from '../../src/protocols/saml/idp-keys.ts';
import { RESPONSE_ID, RESPONSE_SIG, keyPair, nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser, xmlsecVerify } from './helpers.ts';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const FILE_SP = 'https://files.example.test/sp';

t.test('metadata, rotation, an SP from its metadata file', async (t) => {
  // The SP's own metadata, as node-saml publishes it: entity ID, ACS, SLO, signing certificate.
  const kp2 = await keyPair(2);
  const fileSp = { issuer: FILE_SP, callbackUrl: `${FILE_SP}/acs`, logoutCallbackUrl: `${FILE_SP}/slo`, privateKey: kp2.keyPem, audience: FILE_SP };
  const dir = mkdtempSync(join(tmpdir(), 'gh-saml-md-'));
  const generator = new SAML({ ...fileSp, idpCert: kp2.certB64, identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' });
  writeFileSync(join(dir, 'sp.xml'), generator.generateServiceProviderMetadata(null, kp2.certPem));

  const gw = await startSamlGateway(t, [
    await spConfig(),
    { metadataFile: join(dir, 'sp.xml'), name: 'From metadata', nameIdFormat: 'persistent', nameIdSource: 'pairwise', requireSignedRequests: true, mfa: 'off' },
  ]);
  await withUser(gw);

  t.test('contents', async (t) => {
    const res = await fetch(`${gw.url}/saml/metadata`);
    t.match(res.headers.get('content-type'), /^application\/samlmetadata\+xml/);
    const xml = await res.text();
    const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
    t.equal(root.namespaceURI, MD);
    t.equal(root.getAttribute('entityID'), `${gw.url}/saml/metadata`, 'entity ID: <issuer>/saml/metadata by default');
    const until = Date.parse(root.getAttribute('validUntil')!);
    t.ok(until > Date.now() + 6 * 86400_000 && until < Date.now() + 8 * 86400_000, 'validUntil: a week');
    const idp = root.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0]!;
    t.equal(idp.getAttribute('protocolSupportEnumeration'), 'urn:oasis:names:tc:SAML:2.0:protocol');
    const keys = Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'));
    t.equal(keys.length, 1, 'one signing certificate');
    t.equal(keys[0]!.getAttribute('use'), 'signing');
    const endpoints = (name: string) => Array.from(idp.getElementsByTagNameNS(MD, name)).map((e) => `${e.getAttribute('Binding')} ${e.getAttribute('Location')}`);
    t.same(endpoints('SingleSignOnService'), [`${REDIRECT} ${gw.url}/saml/sso`, `${POST} ${gw.url}/saml/sso`]);
    t.same(endpoints('SingleLogoutService'), [`${REDIRECT} ${gw.url}/saml/slo`, `${POST} ${gw.url}/saml/slo`]);
    t.same(Array.from(idp.getElementsByTagNameNS(MD, 'NameIDFormat')).map((e) => e.textContent), [
      'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      'urn:oasis:names:tc:SAML:2.0:nameid-format:transient', 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    ]);
    t.equal(root.getElementsByTagNameNS(DSIG, 'Signature').length, 0, 'unsigned unless saml.signMetadata');
    const parsed = IdentityProvider({ metadata: xml });
    t.equal(parsed.entityMeta.getEntityID(), `${gw.url}/saml/metadata`, 'samlify reads it');
    t.equal(parsed.entityMeta.getSingleSignOnService('redirect'), `${gw.url}/saml/sso`);
  });

  t.test('an SP registered by its metadata file', async (t) => {
    const sp = new SAML({ ...fileSp, entryPoint: `${gw.url}/saml/sso`, idpCert: /<ds:X509Certificate>([^<]+)</.exec(await (await fetch(`${gw.url}/saml/metadata`)).text())![1]!,
      identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', signatureAlgorithm: 'sha256', wantAuthnResponseSigned: true });
    const posted = await redirectLogin(gw, sp, new Browser());
    t.equal(posted.action, `${FILE_SP}/acs`, 'ACS from the metadata');
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! });
    t.match(profile!.nameID, /^[A-Za-z0-9_-]{43}$/, 'pairwise persistent NameID');
    t.not(profile!.nameID, (await gw.services.users.findByUsername('alice'))!.id, 'not the user id');
  });

  t.test('rotation: both certificates published, the new one signs', async (t) => {
    const before = /<ds:X509Certificate>([^<]+)</.exec(await (await fetch(`${gw.url}/saml/metadata`)).text())![1]!;
    const { certificate } = await rotateSamlKey(gw.services, gw.url);
    const xml = await (await fetch(`${gw.url}/saml/metadata`)).text();
    const certs = [...xml.matchAll(/<ds:X509Certificate>([^<]+)</g)].map((m) => m[1]!);
    t.equal(certs.length, 2, 'two signing certificates during the rotation');
    t.equal(certToPem(certs[0]!), certificate, 'the new one first');
    t.equal(certs[1], before, 'the previous one still published');
    const sp = await nodeSamlSp(gw, { idpCert: certs });
    const posted = await redirectLogin(gw, sp, new Browser());
    t.ok((await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! })).profile, 'SPs that refreshed the metadata accept it');
    const response = Buffer.from(posted.fields.SAMLResponse!, 'base64').toString();
    t.ok((await xmlsecVerify(response, certificate, [RESPONSE_ID], RESPONSE_SIG)).ok, 'signed with the new key');
    t.notOk((await xmlsecVerify(response, certToPem(before), [RESPONSE_ID], RESPONSE_SIG)).ok, 'not with the old one');
  });
});

t.test('no SPs yet: only the metadata is served (what an SP administrator asks for first)', async (t) => {
  const { startGateway } = await import('../helpers/gateway.ts');
  const gw = await startGateway(t, { overrides: { saml: { enabled: true, sps: [] } } });
  const res = await fetch(`${gw.url}/saml/metadata`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/samlmetadata\+xml/);
  const root = new DOMParser().parseFromString(await res.text(), 'text/xml').documentElement!;
  t.equal(root.getAttribute('entityID'), `${gw.url}/saml/metadata`);
  t.equal(root.getElementsByTagNameNS(DSIG, 'X509Certificate').length, 1, 'the signing certificate, generated on first use');
  const again = new DOMParser().parseFromString(await (await fetch(`${gw.url}/saml/metadata`)).text(), 'text/xml').documentElement!;
  t.equal(again.getElementsByTagNameNS(DSIG, 'X509Certificate')[0]!.textContent, root.getElementsByTagNameNS(DSIG, 'X509Certificate')[0]!.textContent, 'the same key on the next request');
  t.equal((await fetch(`${gw.url}/saml/sso?SAMLRequest=x`)).status, 404, 'no SSO without an SP to answer');
  const off = await startGateway(t, { overrides: { saml: { enabled: false } } });
  t.equal((await fetch(`${off.url}/saml/metadata`)).status, 404, 'saml.enabled false: nothing under /saml');
});
