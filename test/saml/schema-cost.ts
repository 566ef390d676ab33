// What XML Schema validation costs per inbound message (the figure in docs/saml.md, "Inbound hardening").
// Not a test: run it alone on a quiet machine with `node test/saml/schema-cost.ts`.
// CPU time is the whole process's (main thread and worker), so "per core-second" reads directly.
import { randomBytes } from 'node:crypto';
import { validateXML } from 'xmllint-wasm';
import { readFileSync } from 'node:fs';
import { createXsdValidator } from '../../src/protocols/saml/xsd.ts';

const b64 = (n: number) => randomBytes(n).toString('base64');
/** A signed-POST-sized AuthnRequest (about 2.5 KB): what node-saml sends, with a well-formed ds:Signature. */
const message = (i: number) => `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_${i}${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="2025-01-01T00:00:00Z" Destination="https://sso.example.com/saml/sso" AssertionConsumerServiceURL="https://sp.example.com/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">`
  + '<saml:Issuer>https://sp.example.com/saml</saml:Issuer>'
  + '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
  + `<ds:Reference URI="#_x"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>${b64(32)}</ds:DigestValue></ds:Reference></ds:SignedInfo>`
  + `<ds:SignatureValue>${b64(256)}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${b64(700)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
  + '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>';

async function measure(name: string, n: number, run: (i: number) => Promise<unknown>) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(n);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`${name.padEnd(44)} ${(wall / n).toFixed(2).padStart(7)} ms wall/msg  ${(cpuMs / n).toFixed(2).padStart(7)} ms CPU/msg  ${Math.round(n / (cpuMs / 1000)).toString().padStart(6)} msg per core-second`);
}

const v = createXsdValidator();
await v.warm();
for (let i = 0; i < 200; i++) await v.validate(message(-i)); // JIT warm-up
await measure('warm worker, one message at a time', 1000, async (n) => { for (let i = 0; i < n; i++) await v.validate(message(i)); });
for (const c of [4, 16, 64]) {
  await measure(`warm worker, ${c} concurrent`, 20 * c, async (n) => {
    for (let k = 0; k < n / c; k++) await Promise.all(Array.from({ length: c }, (_, i) => v.validate(message(k * c + i))));
  });
}
await v.close();

// For comparison: xmllint-wasm's own API (a new worker and a new compile per message).
const dir = new URL('../../src/protocols/saml/schemas/', import.meta.url);
const files = ['saml-schema-protocol-2.0.xsd', 'saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd']
  .map((fileName) => ({ fileName, contents: readFileSync(new URL(fileName, dir), 'utf8') }));
await measure('xmllint-wasm validateXML() per message', 20, async (n) => {
  for (let i = 0; i < n; i++) {
    const r = await validateXML({ xml: [{ fileName: 'm.xml', contents: message(i) }], schema: [files[0]!], preload: files.slice(1) });
    if (!r.valid) throw new Error(r.rawOutput);
  }
});
