// What one SP-initiated SAML round trip costs, counted (not a test: `npx tsx`-free, run with
// `node test/saml/round-trip-cost.ts [n] [--prof=FILE] [--sign=both|assertion|response]`; PGlite by default,
// PostgreSQL with TEST_DATABASE_URL). The same request as bench/load/flows.ts samlSso: an unsigned
// AuthnRequest over the Redirect binding, a browser already signed in, followed to the auto-POST page.
// Prints per round trip: CPU (whole process: main thread and the XSD worker), HTTP requests, database
// statements by verb and table, XML parses (xmldom), XML signatures created and verified (xml-crypto),
// and optionally writes a CPU profile of the main thread.
import { deflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session as Inspector } from 'node:inspector/promises';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { Test } from 'tap';
import { Browser } from '../helpers/browser.ts';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';

const argv = process.argv.slice(2);
const n = Number(argv.find((a) => /^\d+$/.test(a)) ?? 300);
const profFile = argv.find((a) => a.startsWith('--prof='))?.slice(7);
const sign = argv.find((a) => a.startsWith('--sign='))?.slice(7) ?? 'both';
const SP = { entityId: 'https://sp.bench.example/saml', acs: 'https://sp.bench.example/saml/acs' };

const counts: Record<string, number> = {};
const bump = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
const wrap = <T extends object>(proto: T, name: keyof T, label: string) => {
  const orig = proto[name] as unknown as (...a: unknown[]) => unknown;
  (proto as Record<string, unknown>)[name as string] = function (this: unknown, ...a: unknown[]) { bump(label); return orig.apply(this, a); };
};
wrap(DOMParser.prototype, 'parseFromString', 'xml parse (xmldom)');
// --where: also count the XML parses by the first caller outside xmldom (where the parses come from).
if (argv.includes('--where')) {
  const orig = DOMParser.prototype.parseFromString;
  DOMParser.prototype.parseFromString = function (this: DOMParser, ...a: Parameters<typeof orig>) {
    const at = (new Error().stack ?? '').split('\n').slice(2).find((l) => !l.includes('@xmldom') && !l.includes('round-trip-cost'));
    bump(`  parse from ${(at ?? '?').trim().replace(/^at /, '').replace(/\(?file:\/\/.*node_modules\//, '(').replace(/\(?file:\/\/\/work\/main\//, '(')}`);
    return orig.apply(this, a);
  };
}
wrap(SignedXml.prototype, 'computeSignature', 'xml signature created');
wrap(SignedXml.prototype, 'checkSignature', 'xml signature verified');

const teardowns: Array<() => Promise<void>> = [];
const t = { teardown: (fn: () => Promise<void>) => { teardowns.push(fn); } } as unknown as Test;
const gw = await startGateway(t, {
  overrides: {
    log: { level: 'warn' },
    saml: { sps: [{ entityId: SP.entityId, name: 'bench SP', acs: [{ url: SP.acs, isDefault: true }], nameIdFormat: 'emailAddress', nameIdSource: 'email', mfa: 'off', sign, attributes: [{ name: 'email', source: 'email' }, { name: 'urn:oid:2.5.4.3', friendlyName: 'cn', source: 'name' }] }] },
  },
});
await addUser(gw, 'alice', 'correct horse battery');

const db = gw.services.db as unknown as { query: (text: string, params?: unknown[]) => Promise<unknown>; transaction: (fn: (q: unknown) => Promise<unknown>, opts?: unknown) => Promise<unknown> };
const stmt = (sql: string) => `${/^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase()} ${/\b(?:FROM|INTO|UPDATE)\s+([a-z_]+)\b(?!\s*\))/i.exec(sql)?.[1] ?? '?'}`;
const q0 = db.query.bind(db);
db.query = (text, params) => { bump(`db ${stmt(text)}`); return q0(text, params); };
const t0 = db.transaction.bind(db);
db.transaction = (fn, opts) => { bump('db transaction (commit)'); return t0((q) => fn({ query: (text: string, params?: unknown[]) => { bump(`db ${stmt(text)} (in tx)`); return (q as { query: typeof db.query }).query(text, params); } }), opts); };

const browser = new Browser();
async function roundTrip(login: boolean): Promise<void> {
  const id = `_${randomBytes(20).toString('hex')}`;
  const xml = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${gw.url}/saml/sso" AssertionConsumerServiceURL="${SP.acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>${SP.entityId}</saml:Issuer></samlp:AuthnRequest>`;
  let url = new URL(`${gw.url}/saml/sso?SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}&RelayState=bench`);
  let res = await browser.get(url); bump('http request');
  for (let i = 0; i < 20; i++) {
    if (res.status >= 300 && res.status < 400) { url = new URL(res.headers.get('location')!, url); res = await browser.get(url); bump('http request'); continue; }
    const page = await res.text();
    if (page.includes('id="saml-post"')) return;
    if (login && page.includes('name="password"')) {
      const action = /action="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
      const fields = Object.fromEntries([...page.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      res = await browser.post(new URL(action, url), { ...fields, username: 'alice', password: 'correct horse battery' }); bump('http request');
      continue;
    }
    throw new Error(`unexpected page ${res.status} at ${url.pathname}: ${page.slice(0, 200)}`);
  }
  throw new Error('no auto-post');
}

await roundTrip(true);
for (let i = 0; i < 50; i++) await roundTrip(false); // warm-up
for (const k of Object.keys(counts)) delete counts[k];

let inspector: Inspector | undefined;
if (profFile) { inspector = new Inspector(); inspector.connect(); await inspector.post('Profiler.enable'); await inspector.post('Profiler.start'); }
const cpu0 = process.cpuUsage();
const w0 = performance.now();
for (let i = 0; i < n; i++) await roundTrip(false);
const wall = performance.now() - w0;
const cpu = process.cpuUsage(cpu0);
if (inspector) { const { profile } = await inspector.post('Profiler.stop'); writeFileSync(profFile!, JSON.stringify(profile)); }

const cpuMs = (cpu.user + cpu.system) / 1000;
// The client side (fetch, the Browser) runs in this process too: its share is in the CPU figure.
console.log(`${n} round trips (sign: ${sign}, ${gw.services.db.kind}): ${(cpuMs / n).toFixed(2)} ms CPU each (gateway + client in one process), ${(wall / n).toFixed(2)} ms wall, ${Math.round(n / (cpuMs / 1000))} per core-second`);
for (const [k, v] of Object.entries(counts).sort()) console.log(`  ${k.padEnd(44)} ${(v / n).toFixed(2)}`);
for (const fn of teardowns.reverse()) await fn();
process.exit(0);
