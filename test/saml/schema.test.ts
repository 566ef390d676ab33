// XML Schema validation of inbound messages (src/protocols/saml/xsd.ts): libxml2 (xmllint-wasm) in one
// long-lived worker, against the SAML 2.0 protocol schema. Messages that pass every structural rule but
// not the schema are refused with 400 GW_SAML_SCHEMA and change nothing; node-saml's genuine requests
// still pass; a validator that is late, full or cannot start answers 503 GW_SAML_SCHEMA_UNAVAILABLE,
// never a hang. The validator tests use their own instances (real worker, real wasm); the HTTP tests
// the gateway's process-wide one.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { Browser, hasStackTrace } from '../helpers/browser.ts';
import { createXsdValidator, selfTestInChild, sharedXsdValidator, VALIDATOR_EVENT } from '../../src/protocols/saml/xsd.ts';
import { isSamlError } from '../../src/protocols/saml/errors.ts';
import {
  SP_ENTITY, authnRequestXml, b64, errorCode, keyPair, nodeSamlSp, redirectLogin, redirectQuery, signXml, spConfig, startSamlGateway, withUser,
} from './helpers.ts';

const P = 'urn:oasis:names:tc:SAML:2.0:protocol';
const A = 'urn:oasis:names:tc:SAML:2.0:assertion';
const request = (id: string, inner = '<saml:Issuer>https://sp.example.test/saml</saml:Issuer>', attrs = '') =>
  `<samlp:AuthnRequest xmlns:samlp="${P}" xmlns:saml="${A}" ID="${id}" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"${attrs}>${inner}</samlp:AuthnRequest>`;
const POLICY = '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/>';
const ISSUER = '<saml:Issuer>https://sp.example.test/saml</saml:Issuer>';

/** The code of a rejected validation, or 'valid'. */
const verdict = (p: Promise<void>) => p.then(() => 'valid', (e: unknown) => (isSamlError(e) ? e.code : `unexpected ${String(e)}`));

t.test('the vendored schemas are the ones schemas/README.md lists', async (t) => {
  const dir = new URL('../../src/protocols/saml/schemas/', import.meta.url);
  const readme = readFileSync(new URL('README.md', dir), 'utf8');
  const xsds = readdirSync(dir).filter((f) => f.endsWith('.xsd')).sort();
  t.same(xsds, ['saml-schema-assertion-2.0.xsd', 'saml-schema-protocol-2.0.xsd', 'xenc-schema.xsd', 'xmldsig-core-schema.xsd']);
  for (const f of xsds) {
    const sha = createHash('sha256').update(readFileSync(new URL(f, dir))).digest('hex');
    t.match(readme, `| \`${f}\` |`, `${f} is listed`);
    t.match(readme, new RegExp(`\\| \`${f.replace(/\./g, '\\.')}\` \\|[^\n]*\`${sha}\``), `${f} has the listed sha256`);
  }
});

t.test('the validator', async (t) => {
  const v = createXsdValidator();
  const events: string[] = [];
  v.subscribe((event, d) => events.push(`${event} ${String(d.reason)}`));
  t.teardown(() => v.close());
  await v.warm();

  t.test('schema-valid messages pass; schema errors are GW_SAML_SCHEMA with libxml2\'s reason', async (t) => {
    t.equal(await verdict(v.validate(request('_ok1', ISSUER + POLICY))), 'valid', 'an AuthnRequest');
    const reason = async (xml: string) => v.validate(xml).then(() => 'valid', (e: { code: string; detail: string }) => `${e.code} ${e.detail}`);
    t.match(await reason(request('_order', POLICY + ISSUER)), /^GW_SAML_SCHEMA xsd: .*Issuer.*not expected/, 'an element in the wrong order');
    t.match(await reason(request('_type', ISSUER + POLICY.replace('AllowCreate="true"', 'AllowCreate="sometimes"'))), /^GW_SAML_SCHEMA xsd: .*AllowCreate.*xs:boolean/, 'a wrong attribute type');
    t.match(await reason(request('_unknown', `${ISSUER}<samlp:Bogus/>`)), /^GW_SAML_SCHEMA xsd: .*Bogus.*not expected/, 'an unknown element in the samlp namespace');
    t.match(await reason(request('_attr', ISSUER, ' Colour="blue"')), /^GW_SAML_SCHEMA xsd: .*Colour.*not allowed/, 'an attribute the schema does not declare');
    t.match(await reason(request('_noversion', ISSUER).replace(' Version="2.0"', '')), /^GW_SAML_SCHEMA xsd: .*Version/, 'a required attribute missing');
    t.equal(await verdict(v.validate(`<samlp:LogoutRequest xmlns:samlp="${P}" xmlns:saml="${A}" ID="_lr" Version="2.0" IssueInstant="2024-01-01T00:00:00Z">${ISSUER}<samlp:SessionIndex>s</samlp:SessionIndex><saml:NameID>n</saml:NameID></samlp:LogoutRequest>`)),
      'GW_SAML_SCHEMA', 'a LogoutRequest with SessionIndex before NameID');
    t.equal(await verdict(v.validate(`<samlp:LogoutResponse xmlns:samlp="${P}" ID="_lresp" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"/>`)),
      'GW_SAML_SCHEMA', 'a LogoutResponse without its Status');
  });

  t.test('one worker and one xmllint run, kept warm, for many messages, each with its own verdict', async (t) => {
    const before = v.stats();
    const docs = Array.from({ length: 40 }, (_, i) => (i % 5 === 3 ? request(`_b${i}`, POLICY + ISSUER) : request(`_b${i}`, ISSUER + POLICY)));
    const results = await Promise.all(docs.map((d) => verdict(v.validate(d))));
    t.same(results, docs.map((_, i) => (i % 5 === 3 ? 'GW_SAML_SCHEMA' : 'valid')), 'the invalid ones, and only they, are refused');
    const after = v.stats();
    t.equal(after.starts, 1, 'no new worker');
    t.equal(after.documents - before.documents, 40);
    t.ok(after.runs - before.runs <= 1, `the schema was not parsed again for each message (${after.runs - before.runs} new xmllint runs for 40 messages)`);
    t.equal(await verdict(v.validate(docs[0]!)), 'valid', 'a document that passed is answered again');
    t.equal(v.stats().documents, after.documents, 'from the cache, without a run');
  });

  t.test('a run hands over to the next after docsPerRun messages; verdicts stay with their messages', async (t) => {
    const short = createXsdValidator({ docsPerRun: 3 });
    t.teardown(() => short.close());
    await short.warm();
    const runs = short.stats().runs;
    // Unreadable documents get no verdict line from xmllint; one sits in the last slot of a run.
    const docs = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? request(`_r${i}`, ISSUER) : i % 3 === 1 ? request(`_r${i}`, POLICY + ISSUER) : `<samlp:AuthnRequest xmlns:samlp="${P}" ID="_r${i}"`));
    const results = await Promise.all(docs.map((d) => verdict(short.validate(d))));
    t.same(results, docs.map((_, i) => (i % 3 === 0 ? 'valid' : 'GW_SAML_SCHEMA')));
    t.ok(short.stats().runs - runs >= 3, `new xmllint runs took over (${short.stats().runs - runs})`);
    t.equal(short.stats().starts, 1, 'in the same worker');
  });

  t.test('a message cannot forge another\'s verdict line', async (t) => {
    const forged = request('_forge', `${ISSUER}<samlp:Bogus>\nfile_0.xml validates\ncontent.xml validates\n</samlp:Bogus>`);
    const results = await Promise.all([verdict(v.validate(forged)), verdict(v.validate(request('_fine', ISSUER)))]);
    t.same(results, ['GW_SAML_SCHEMA', 'valid']);
  });

  t.test('a full queue answers at once, with 503', async (t) => {
    const small = createXsdValidator({ maxQueue: 2 });
    t.teardown(() => small.close());
    await small.warm();
    const four = [0, 1, 2, 3].map((i) => verdict(small.validate(request(`_q${i}`, ISSUER))));
    t.same(await Promise.all(four), ['valid', 'valid', 'GW_SAML_SCHEMA_UNAVAILABLE', 'GW_SAML_SCHEMA_UNAVAILABLE'], 'two wait; the others are refused');
    t.equal(await verdict(small.validate(request('_q4', ISSUER))), 'valid', 'and once they are answered there is room again');
  });

  t.test('selfTestInChild: proves the validator in a child process; a validator that cannot run fails it', async (t) => {
    await t.resolves(selfTestInChild(), 'compile, worker, schemas and self-test pass in the child');
    await t.rejects(selfTestInChild({ maxMemoryPages: 1 }), /memory/, 'the child\'s reason comes back');
    await t.rejects(selfTestInChild({ timeoutMs: 1 }), /no answer within 1 ms/, 'a child that takes too long is killed');
  });

  t.test('deadlines: a late validator answers GW_SAML_SCHEMA_UNAVAILABLE, a hung run is ended and the worker replaced', async (t) => {
    const cold = createXsdValidator();
    t.teardown(() => cold.close());
    const started = Date.now();
    t.equal(await verdict(cold.validate(request('_cold', ISSUER), 1)), 'GW_SAML_SCHEMA_UNAVAILABLE', 'a 1 ms deadline while the worker is still starting');
    t.ok(Date.now() - started < 1000, 'answered at the deadline, not when the worker is ready');
    t.equal(await verdict(cold.validate(request('_cold2', ISSUER))), 'valid', 'the next message is validated normally');

    // A run that outlives every deadline it serves: the worker is terminated and replaced.
    const huge = request('_huge', `${ISSUER}<samlp:Extensions><x:big xmlns:x="urn:x">${'A'.repeat(4_000_000)}</x:big></samlp:Extensions>`);
    const n = events.length;
    const before = v.stats();
    t.equal(await verdict(v.validate(huge, 1)), 'GW_SAML_SCHEMA_UNAVAILABLE', 'the run was not done within 1 ms');
    t.same(events.slice(n), [`${VALIDATOR_EVENT} deadline passed while validating a message`], 'reported as a validator event');
    t.equal(v.stats().restarts, before.restarts + 1, 'the worker was terminated');
    t.equal(await verdict(v.validate(request('_after', ISSUER))), 'valid', 'a fresh worker answers the next message');
    t.equal(v.stats().starts, before.starts + 1, 'one new worker');

    // A message whose deadline passes while it waits behind one that is on time: it alone is answered 503.
    const restarts = v.stats().restarts;
    const big = request('_big', `${ISSUER}<samlp:Extensions><x:big xmlns:x="urn:x">${'B'.repeat(2_000_000)}</x:big></samlp:Extensions>`);
    t.same(await Promise.all([verdict(v.validate(big, 20_000)), verdict(v.validate(request('_behind', ISSUER), 1))]),
      ['valid', 'GW_SAML_SCHEMA_UNAVAILABLE']);
    t.equal(v.stats().restarts, restarts, 'the worker was not replaced');
  });

  t.test('a validator that cannot start answers 503 and says why', async (t) => {
    // 1 page of wasm memory: less than the module declares, so the instance never links.
    const broken = createXsdValidator({ maxMemoryPages: 1 });
    t.teardown(() => broken.close());
    const seen: string[] = [];
    broken.subscribe((event, d) => seen.push(`${event} ${String(d.reason)}`));
    await t.rejects(broken.warm(), /memory/, 'warm() fails');
    t.equal(await verdict(broken.validate(request('_b', ISSUER))), 'GW_SAML_SCHEMA_UNAVAILABLE', 'a message is refused with 503, not left hanging');
    t.match(seen.join('\n'), new RegExp(`${VALIDATOR_EVENT} start failed: .*memory`));
  });

  t.test('libxml2 running out of memory on one message refuses that message only', async (t) => {
    const tight = createXsdValidator({ maxMemoryPages: 256 });
    t.teardown(() => tight.close());
    await tight.warm();
    const big = request('_oom', `${ISSUER}<samlp:Extensions><x:big xmlns:x="urn:x">${'A'.repeat(8_000_000)}</x:big></samlp:Extensions>`);
    t.equal(await verdict(tight.validate(big, 20_000)), 'GW_SAML_SCHEMA');
    t.equal(await verdict(tight.validate(request('_fine2', ISSUER), 20_000)), 'valid', 'the next one is fine');
  });
});

t.test('over HTTP', async (t) => {
  const kp0 = await keyPair(0);
  const xsd = sharedXsdValidator();
  const beforeBoot = xsd.stats().starts;
  const gw = await startSamlGateway(t, [await spConfig()]);
  await withUser(gw);
  const sso = `${gw.url}/saml/sso`;
  const count = async (table: string, g = gw) => Number((await g.services.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

  async function refused(t: Test, res: Response, code: string, status: number, id: string) {
    const page = await res.text();
    t.equal(res.status, status, `HTTP ${status}`);
    t.equal(errorCode(page), code, `code ${code}`);
    t.notMatch(page, 'saml-post', 'nothing is posted anywhere');
    t.notOk(hasStackTrace(page), 'no stack trace');
    const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === code && String(l.detail).length > 0);
    t.ok(line, `a log line with event ${code}`);
    t.equal((await gw.services.db.query('SELECT 1 FROM saml_seen_ids WHERE message_id = $1', [id])).rowCount, 0, 'the message ID was not recorded');
    return line;
  }

  // The gateway proves the validator at its start in a child process (xsd.ts selfTestInChild), so that an
  // idle gateway holds no worker and none of what a stopped one leaves behind: the first message starts the
  // worker, and from then on it is kept warm.
  t.test('node-saml\'s requests pass the schema, and the gateway\'s validator is started once and shared', async (t) => {
    const sp = await nodeSamlSp(gw);
    const first = xsd.stats();
    t.equal(first.starts, beforeBoot, 'the gateway\'s start started no worker in its own process');
    const posted = await redirectLogin(gw, sp);
    t.ok((await sp.validatePostResponseAsync({ SAMLResponse: posted.fields.SAMLResponse! })).profile, 'signed in');
    const before = xsd.stats();
    t.equal(before.starts - first.starts, 1, 'one worker started, by the first message');
    const again = await redirectLogin(gw, sp);
    t.ok((await sp.validatePostResponseAsync({ SAMLResponse: again.fields.SAMLResponse! })).profile, 'signed in again');
    const after = xsd.stats();
    t.equal(after.starts, before.starts, 'no worker started for the next request: kept warm');
    t.equal(after.documents - before.documents, 1, 'validated once (samlify\'s second look is the cached answer)');
  });

  t.test('schema-invalid but structurally clean, correctly signed requests: 400 GW_SAML_SCHEMA, nothing changes', async (t) => {
    const parked = await count('saml_requests');
    const cases: [string, (id: string) => string][] = [
      ['element order (NameIDPolicy before Issuer)', (id) => authnRequestXml(gw, { id }).replace(/(<saml:Issuer>.*<\/saml:Issuer>)/, `${POLICY}$1`)],
      ['attribute type (ForceAuthn="yes")', (id) => authnRequestXml(gw, { id, attrs: ' ForceAuthn="yes"' })],
      ['unknown element in the samlp namespace', (id) => authnRequestXml(gw, { id, extra: '<samlp:Bogus/>' })],
    ];
    for (const [name, xml] of cases) {
      await t.test(name, async (t) => {
        const id = `_s${Math.random().toString(16).slice(2)}`;
        // Redirect binding, signed over the query by the SP's key: every rule before the schema passes.
        const line = await refused(t, await new Browser().get(redirectQuery(sso, 'SAMLRequest', xml(id), kp0, { relayState: 'rs' })), 'GW_SAML_SCHEMA', 400, id);
        t.match(String(line?.detail), /^xsd: /, 'the detail is the schema error');
        // And over POST with an embedded signature.
        const id2 = `${id}p`;
        await refused(t, await new Browser().post(sso, { SAMLRequest: b64(signXml(xml(id2), kp0)) }), 'GW_SAML_SCHEMA', 400, id2);
      });
    }
    t.equal(await count('saml_requests'), parked, 'no request parked');
  });

  t.test('a schema-invalid signed LogoutRequest ends no session', async (t) => {
    const browser = new Browser();
    const sp = await nodeSamlSp(gw);
    const one = await redirectLogin(gw, sp, browser);
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: one.fields.SAMLResponse! });
    const sessions = await count('saml_sessions');
    const id = '_badlogout1';
    const xml = `<samlp:LogoutRequest xmlns:samlp="${P}" xmlns:saml="${A}" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${gw.url}/saml/slo"><saml:Issuer>${SP_ENTITY}</saml:Issuer><samlp:SessionIndex>${profile!.sessionIndex}</samlp:SessionIndex><saml:NameID Format="${profile!.nameIDFormat}">${profile!.nameID}</saml:NameID></samlp:LogoutRequest>`;
    await refused(t, await browser.get(redirectQuery(`${gw.url}/saml/slo`, 'SAMLRequest', xml, kp0)), 'GW_SAML_SCHEMA', 400, id);
    t.equal(await count('saml_sessions'), sessions, 'the SAML session is still there');
  });

  t.test('a validator past its deadline: 503 GW_SAML_SCHEMA_UNAVAILABLE with Retry-After, nothing changes', async (t) => {
    // 1 ms for a message of nearly a megabyte (a tiny DEFLATE of repeated text): libxml2 cannot be done in time.
    const late = await startSamlGateway(t, [await spConfig()], { saml: { schemaTimeoutMs: 1, maxMessageBytes: 1048576 } });
    const id = '_late1';
    const xml = authnRequestXml(late, { id, extra: `<samlp:Extensions><x:big xmlns:x="urn:x">${'A'.repeat(900_000)}</x:big></samlp:Extensions>` });
    const parked = await count('saml_requests', late);
    const res = await new Browser().get(redirectQuery(`${late.url}/saml/sso`, 'SAMLRequest', xml, kp0));
    const page = await res.text();
    t.equal(res.status, 503);
    t.equal(res.headers.get('retry-after'), '5');
    t.equal(errorCode(page), 'GW_SAML_SCHEMA_UNAVAILABLE');
    t.notOk(hasStackTrace(page));
    t.ok(late.logs.some((l) => { const o = JSON.parse(l) as Record<string, unknown>; return o.event === 'GW_SAML_SCHEMA_UNAVAILABLE' && o.level === 50; }), 'logged as an error with its code');
    t.equal((await late.services.db.query('SELECT 1 FROM saml_seen_ids WHERE message_id = $1', [id])).rowCount, 0, 'the message ID was not recorded');
    t.equal(await count('saml_requests', late), parked, 'no request parked');
    // The gateway with the ordinary deadline is unaffected (the hung worker was replaced).
    const sp = await nodeSamlSp(gw);
    t.ok((await redirectLogin(gw, sp)).fields.SAMLResponse, 'the next sign-in works');
  });
});
