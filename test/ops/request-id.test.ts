// The X-Request-Id contract on every kind of endpoint (Fastify routes, oidc-provider's hijacked
// responses, interaction pages, 404s): a sane incoming id is kept, anything else is replaced by a fresh
// UUID, the id is always returned, and the request's log line carries the same id.
import t from 'tap';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { authorizeUrl } from '../helpers/oidc.ts';
import { rawRequest } from '../helpers/browser.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The log lines of requests that carried this id (the one-line-per-request and any other line). */
const linesWith = (gw: Gateway, id: string) => gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id);

async function settle() { await new Promise((r) => setTimeout(r, 50)); } // 'finish' handlers run after the body

t.test('kept, returned and logged on every kind of endpoint', async (t) => {
  const gw = await startGateway(t);
  const endpoints: Array<[string, string, RequestInit?]> = [
    ['liveness (Fastify route)', '/healthz'],
    ['discovery (oidc-provider)', '/.well-known/openid-configuration'],
    ['token error (oidc-provider, POST)', '/oidc/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' }) }],
    ['authorize → interaction redirect', authorizeUrl(gw).pathname + authorizeUrl(gw).search],
    ['unknown path', '/no/such/page'],
  ];
  let n = 0;
  for (const [what, path, init] of endpoints) {
    const id = `trace-${++n}.abc:DEF_9`;
    const res = await fetch(new URL(path, gw.url), { ...init, redirect: 'manual', headers: { 'x-request-id': id } });
    await res.arrayBuffer();
    t.equal(res.headers.get('x-request-id'), id, `${what}: the caller's id comes back`);
    await settle();
    const lines = linesWith(gw, id);
    t.ok(lines.some((l) => l.msg === 'request' && (l.status as number) === res.status), `${what}: its request line carries the id (${res.status})`);
  }
});

t.test('an id that is missing, too long or not a plain token is replaced', async (t) => {
  const gw = await startGateway(t);
  const bad = ['', 'x'.repeat(65), 'has space', 'semi;colon', '"quoted"', '<script>', 'ünïcode'];
  const seen = new Set<string>();
  for (const given of [undefined, ...bad]) {
    // node:http so that any byte string reaches the server as sent.
    const res = await rawRequest(new URL('/healthz', gw.url), { headers: given === undefined ? {} : { 'x-request-id': given } });
    const got = String(res.headers['x-request-id']);
    t.match(got, UUID, `${JSON.stringify(given)} → a fresh UUID`);
    t.not(got, given);
    seen.add(got);
  }
  t.equal(seen.size, bad.length + 1, 'every generated id is new');
  await settle();
  t.notOk(gw.logs.some((l) => l.includes('<script>') || l.includes('x'.repeat(65))), 'a rejected id is not logged');
});

t.test('two requests with the same caller id still get one line each', async (t) => {
  const gw = await startGateway(t);
  const id = 'same-id-twice';
  for (let i = 0; i < 2; i++) await (await fetch(new URL('/healthz', gw.url), { headers: { 'x-request-id': id } })).arrayBuffer();
  await settle();
  t.equal(linesWith(gw, id).filter((l) => l.msg === 'request').length, 2);
});
