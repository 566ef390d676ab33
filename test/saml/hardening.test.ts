// Inbound hardening, one test per rule. Every hostile message starts from a genuine signed one (what a
// registered SP would send) and is changed in one way; each must be refused with its stable code, a
// clear page (4xx, never a 500 or a stack trace), a log line, and no form posted anywhere.
import t from 'tap';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { Browser, hasStackTrace, SAME_ORIGIN } from '../helpers/browser.ts';
import type { Test } from 'tap';
import {
  SP2_ENTITY, SP_ACS, SP_ENTITY, authnRequestXml, b64, errorCode, keyPair, redirectQuery, signXml, spConfig, startSamlGateway,
} from './helpers.ts';

const SHA1_RSA = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

t.test('inbound hardening', async (t) => {
  const kp0 = await keyPair(0);
  const kp1 = await keyPair(1);
  const gw = await startSamlGateway(t, [
    await spConfig({ requireSignedRequests: true }),
    await spConfig({ entityId: SP2_ENTITY, name: 'Other SP', acs: [{ url: 'https://other.example.test/acs', isDefault: true }], sloUrl: 'https://other.example.test/slo', signingCerts: [kp1.certPem] }),
  ]);
  const sso = `${gw.url}/saml/sso`;
  const signed = (o: Parameters<typeof authnRequestXml>[1] = {}) => signXml(authnRequestXml(gw, o), kp0);
  // Posted as the gateway's own resend page posts (first-party-resend.ts): the post that goes on into the login
  // and claims the message ID. A first cross-site post runs the same guard (first-party-resend.test.ts).
  const post = (xml: string, extra: Record<string, string> = {}) =>
    new Browser().post(sso, { SAMLRequest: b64(xml), RelayState: 'rs', ...extra }, SAME_ORIGIN);

  /** Asserts a refusal with this code; returns the page. */
  async function refused(t: Test, res: Response, code: string, status = 400) {
    const page = await res.text();
    t.equal(res.status, status, `HTTP ${status}`);
    t.equal(errorCode(page), code, `code ${code}`);
    t.notMatch(page, 'saml-post', 'nothing is posted anywhere');
    t.notOk(hasStackTrace(page), 'no stack trace');
    t.ok(gw.logs.some((l) => l.includes(`saml request refused: ${code}`)), 'logged with its code');
    return page;
  }
  const accepted = (t: Test, res: Response) => {
    t.equal(res.status, 303, 'accepted');
    t.ok(res.headers.get('location')?.startsWith(`${gw.url}/oidc/auth?`), 'sent into the OIDC pipeline');
  };

  t.test('a genuine signed request is accepted (both bindings)', async (t) => {
    accepted(t, await post(signed()));
    accepted(t, await new Browser().get(redirectQuery(sso, 'SAMLRequest', authnRequestXml(gw), kp0, { relayState: 'x y+z' })));
  });

  t.test('unsigned, when the SP must sign: GW_SAML_UNSIGNED', async (t) => {
    await refused(t, await post(authnRequestXml(gw)), 'GW_SAML_UNSIGNED');
    await refused(t, await new Browser().get(redirectQuery(sso, 'SAMLRequest', authnRequestXml(gw))), 'GW_SAML_UNSIGNED');
  });

  t.test('content changed after signing: GW_SAML_SIGNATURE_INVALID', async (t) => {
    await refused(t, await post(signed().replace('Version="2.0"', 'Version="2.0" ForceAuthn="true"')), 'GW_SAML_SIGNATURE_INVALID');
    const url = redirectQuery(sso, 'SAMLRequest', authnRequestXml(gw), kp0, { relayState: 'a' });
    await refused(t, await new Browser().get(url.replace('RelayState=a', 'RelayState=b')), 'GW_SAML_SIGNATURE_INVALID');
  });

  t.test('signature wrapping', async (t) => {
    const genuine = signed({ id: '_genuine1' });
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(genuine)![0];
    const unsignedCopy = genuine.replace(sig, '');
    await t.test('evil root reusing the signed ID, genuine request tucked inside: GW_SAML_DUPLICATE_ID', async (t) => {
      const evil = authnRequestXml(gw, { id: '_genuine1', acsUrl: `${SP_ACS}/2`, extra: `<samlp:Extensions>${genuine}</samlp:Extensions>` });
      await refused(t, await post(evil), 'GW_SAML_DUPLICATE_ID');
    });
    await t.test('signature lifted onto an evil root, referencing the tucked-away original: GW_SAML_SIGNATURE_REFERENCE', async (t) => {
      const evil = authnRequestXml(gw, { id: '_evil1', acsUrl: `${SP_ACS}/2` })
        .replace('</saml:Issuer>', `</saml:Issuer>${sig}<samlp:Extensions>${unsignedCopy}</samlp:Extensions>`);
      await refused(t, await post(evil), 'GW_SAML_SIGNATURE_REFERENCE');
    });
    await t.test('signature not a direct child of the root: GW_SAML_SIGNATURE_PLACEMENT', async (t) => {
      const moved = unsignedCopy.replace('</saml:Issuer>', `</saml:Issuer><samlp:Extensions>${sig}</samlp:Extensions>`);
      await refused(t, await post(moved), 'GW_SAML_SIGNATURE_PLACEMENT');
    });
    await t.test('two signatures: GW_SAML_SIGNATURE_COUNT', async (t) => {
      await refused(t, await post(genuine.replace(sig, sig + sig)), 'GW_SAML_SIGNATURE_COUNT');
    });
    await t.test('an embedded signature on a Redirect message: GW_SAML_SIGNATURE_PLACEMENT', async (t) => {
      await refused(t, await new Browser().get(redirectQuery(sso, 'SAMLRequest', signed(), kp0)), 'GW_SAML_SIGNATURE_PLACEMENT');
    });
  });

  t.test('comment truncation (a comment splitting the Issuer): GW_SAML_COMMENT', async (t) => {
    const xml = signed().replace(`>${SP_ENTITY}</saml:Issuer>`, `>${SP_ENTITY}<!---->.evil.test</saml:Issuer>`);
    await refused(t, await post(xml), 'GW_SAML_COMMENT');
  });

  t.test('DOCTYPE, XXE and entity expansion: GW_SAML_DOCTYPE; processing instructions: GW_SAML_PI', async (t) => {
    const body = signed();
    await refused(t, await post(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${body.replace(SP_ENTITY, `${SP_ENTITY}&x;`)}`), 'GW_SAML_DOCTYPE');
    const lol = '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>';
    await refused(t, await post(`${lol}${body.replace(SP_ENTITY, '&d;')}`), 'GW_SAML_DOCTYPE');
    await refused(t, await new Browser().get(redirectQuery(sso, 'SAMLRequest', `<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd">${authnRequestXml(gw)}`, kp0)), 'GW_SAML_DOCTYPE');
    await refused(t, await post(`<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet href="x"?>${body}`), 'GW_SAML_PI');
  });

  t.test('deflate bomb and oversized bodies: GW_SAML_TOO_LARGE (413)', async (t) => {
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024, 0x20)).toString('base64'); // 8 MiB of spaces in ~11 KiB
    t.ok(bomb.length < 12_000, 'the bomb itself is small (it fits in a URL)');
    await refused(t, await new Browser().get(`${sso}?SAMLRequest=${encodeURIComponent(bomb)}`), 'GW_SAML_TOO_LARGE', 413);
    await refused(t, await new Browser().post(sso, { SAMLRequest: 'A'.repeat(200_000) }), 'GW_SAML_TOO_LARGE', 413);
  });

  t.test('issuer confusion: SP A signs, the message names SP B', async (t) => {
    const xml = signXml(authnRequestXml(gw, { issuer: SP2_ENTITY, acsUrl: 'https://other.example.test/acs' }), kp0);
    await refused(t, await post(xml), 'GW_SAML_ISSUER_MISMATCH'); // A's certificate in KeyInfo is not B's
    await refused(t, await post(xml.replace(/<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>/, '')), 'GW_SAML_SIGNATURE_INVALID'); // B's key does not verify A's signature
  });

  t.test('a replayed request ID: GW_SAML_REPLAY', async (t) => {
    const xml = signed();
    accepted(t, await post(xml));
    await refused(t, await post(xml), 'GW_SAML_REPLAY');
    const url = redirectQuery(sso, 'SAMLRequest', authnRequestXml(gw), kp0);
    accepted(t, await new Browser().get(url));
    await refused(t, await new Browser().get(url), 'GW_SAML_REPLAY');
  });

  t.test('SHA-1 signatures or digests: GW_SAML_WEAK_ALGORITHM', async (t) => {
    await refused(t, await post(signXml(authnRequestXml(gw), kp0, { signatureAlgorithm: SHA1_RSA, digestAlgorithm: SHA1 })), 'GW_SAML_WEAK_ALGORITHM');
    await refused(t, await post(signXml(authnRequestXml(gw), kp0, { digestAlgorithm: SHA1 })), 'GW_SAML_WEAK_ALGORITHM');
    await refused(t, await new Browser().get(redirectQuery(sso, 'SAMLRequest', authnRequestXml(gw), kp0, { sigAlg: SHA1_RSA, hash: 'sha1' })), 'GW_SAML_WEAK_ALGORITHM');
  });

  t.test('IssueInstant outside the window: GW_SAML_STALE', async (t) => {
    await refused(t, await post(signed({ instant: new Date(Date.now() - 10 * 60_000) })), 'GW_SAML_STALE');
    await refused(t, await post(signed({ instant: new Date(Date.now() + 5 * 60_000) })), 'GW_SAML_STALE');
  });

  t.test('an ACS URL or index that is not registered: GW_SAML_ACS_UNKNOWN, and no post anywhere', async (t) => {
    await refused(t, await post(signed({ acsUrl: 'https://attacker.example/acs' })), 'GW_SAML_ACS_UNKNOWN');
    await refused(t, await post(signed({ acsIndex: 7 })), 'GW_SAML_ACS_UNKNOWN');
    accepted(t, await post(signed({ acsIndex: 2 })));
  });

  t.test('other refusals', async (t) => {
    await refused(t, await post(signed({ destination: 'https://elsewhere.example/sso' })), 'GW_SAML_DESTINATION');
    await refused(t, await post(signed({ destination: null })), 'GW_SAML_DESTINATION');
    await refused(t, await post(signXml(authnRequestXml(gw, { issuer: 'https://unknown.example' }), kp0)), 'GW_SAML_UNKNOWN_SP');
    await refused(t, await post(signed(), { RelayState: 'r'.repeat(2000) }), 'GW_SAML_RELAY_STATE');
    await refused(t, await post('not xml at all'), 'GW_SAML_MALFORMED');
    await refused(t, await new Browser().post(sso, { SAMLRequest: '%%%' }), 'GW_SAML_MALFORMED');
    await refused(t, await post(signed().replace(/samlp:AuthnRequest/g, 'samlp:LogoutRequest')), 'GW_SAML_SCHEMA');
    await refused(t, await new Browser().get(`${sso}?SAMLRequest=abc&SAMLRequest=def`), 'GW_SAML_MALFORMED');
    await refused(t, await new Browser().request(sso, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 'GW_SAML_MALFORMED');
  });

  t.test('fuzzed parameters on every endpoint: never a 5xx, never a stack trace', async (t) => {
    const text = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.base64String({ maxLength: 400 }), fc.constant(''));
    const genuine = b64(signed());
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('/saml/sso', '/saml/slo', '/saml/continue', '/saml/init'), fc.boolean(),
      fc.dictionary(fc.constantFrom('SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature', 'state', 'code', 'sp', 'error'), text, { maxKeys: 4 }),
      fc.boolean(),
      async (path, asPost, params, mangleGenuine) => {
        if (mangleGenuine && path === '/saml/sso') params.SAMLRequest = genuine.slice(0, Math.max(4, genuine.length - (params.RelayState?.length ?? 7)));
        const res = asPost && path !== '/saml/continue' && path !== '/saml/init'
          ? await new Browser().post(`${gw.url}${path}`, params)
          : await new Browser().get(`${gw.url}${path}?${new URLSearchParams(params)}`);
        const body = await res.text();
        return res.status < 500 && !hasStackTrace(body);
      },
    ), { numRuns: 120 });
  });

  t.test('nothing above was a 500', async (t) => {
    t.notOk(gw.logs.some((l) => /"status":5\d\d/.test(l)), 'no 5xx in the request log');
  });
});
