// GET /oauth/v1/authorize: request-object checks R1–R11 (protocol doc §12.3).
// Failures must answer 400 with an HTML page and never redirect.
import t from 'tap';
import { REDIRECT_URL, fetchOnce, makeAuthorizeUrl, startEmulator } from './helpers.ts';
import type { Hop } from './helpers.ts';

const emu = await startEmulator(t);
t.afterEach(() => emu.reset());

type Assert = Pick<typeof t, 'equal' | 'match'>;

function refused(t: Assert, hop: Hop, check: RegExp) {
  t.equal(hop.status, 400);
  t.equal(hop.location, undefined, 'no redirect');
  t.match(hop.headers['content-type'], /^text\/html/);
  t.match(hop.body, check);
  t.match(emu.requests.at(-1), { path: '/oauth/v1/authorize', status: 400, error: check });
}

t.test('a well-formed hand-made request is accepted', async (t) => {
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu));
  t.equal(hop.status, 302);
  t.ok(hop.location!.startsWith(`${REDIRECT_URL}?duo_code=`));
});

t.test('R1: response_type, known client_id and request are required', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, {}, { response_type: 'token' })), /R1/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, {}, { client_id: 'DIZZZZZZZZZZZZZZZZZZ' })), /R1/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, {}, { request: undefined })), /R1/);
});

t.test('R2: the request must be signed with the app secret', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, {}, {}, 'z'.repeat(40))), /R2/);
});

t.test('R3: client_id, response_type and scope claims', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { client_id: 'DIZZZZZZZZZZZZZZZZZZ' })), /R3/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { response_type: 'token' })), /R3/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { scope: 'profile' })), /R3/);
});

t.test('R4: redirect_uri absolute, ≤ 256 chars, no fragment; http is allowed', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { redirect_uri: '/relative' })), /R4/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { redirect_uri: `${REDIRECT_URL}#frag` })), /R4/);
  const long = `https://gw.example/cb?p=${'a'.repeat(256)}`;
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { redirect_uri: long })), /R4/);
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, { redirect_uri: 'http://localhost:3000/cb' }));
  t.equal(hop.status, 302);
});

t.test('R5: state 16–1024 chars (the API limit, looser than the SDK 22)', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { state: 'a'.repeat(15) })), /R5/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { state: 'a'.repeat(1025) })), /R5/);
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, { state: 'a'.repeat(16) }));
  t.equal(new URL(hop.location!).searchParams.get('state'), 'a'.repeat(16));
});

t.test('R6: duo_uname required', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { duo_uname: '' })), /R6/);
});

t.test('R7: exp required, in the future, ≤ 1 h; nbf with zero leeway', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { exp: undefined })), /R7/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { exp: now - 1 })), /R7/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { exp: now + 3700 })), /R7/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { nbf: now + 2 })), /R7/);
  // C#-style string claims
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, { exp: String(now + 300) }));
  t.equal(hop.status, 302);
});

t.test('R8/R9: iss and aud, when present, must match; java omits both', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { iss: 'DIZZZZZZZZZZZZZZZZZZ' })), /R8/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { aud: 'https://api-other.duosecurity.com' })), /R9/);
  const csharp = await fetchOnce(emu, await makeAuthorizeUrl(emu, { aud: `https://${emu.apiHost}/oauth/v1/authorize` }));
  t.equal(csharp.status, 302);
  const java = await fetchOnce(emu, await makeAuthorizeUrl(emu, { aud: undefined, iss: undefined }));
  t.equal(java.status, 302);
});

t.test('R10: use_duo_code_attribute true / "true" → duo_code, else code', async (t) => {
  for (const [v, param] of [[true, 'duo_code'], ['true', 'duo_code'], [false, 'code'], [undefined, 'code']] as const) {
    const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, { use_duo_code_attribute: v }));
    t.ok(new URL(hop.location!).searchParams.has(param), `${String(v)} → ${param}`);
  }
});

t.test('R11: nonce (claim or query) must be 16–1024 chars', async (t) => {
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, { nonce: 'short' })), /R11/);
  refused(t, await fetchOnce(emu, await makeAuthorizeUrl(emu, {}, { nonce: 'short' })), /R11/);
});

t.test('the request object wins over the query redirect_uri (logged as a warning)', async (t) => {
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, {}, { redirect_uri: 'https://evil.example/' }));
  t.ok(hop.location!.startsWith(`${REDIRECT_URL}?`));
  t.match(emu.requests.at(-1)?.warning, /redirect_uri differs/);
});

t.test('error pages are escaped and served with a strict CSP', async (t) => {
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, { redirect_uri: '<script>' }));
  t.equal(hop.status, 400);
  t.notMatch(hop.body, /<script/);
  t.match(hop.headers['content-security-policy'], /default-src 'none'/);
  t.equal(hop.headers['x-frame-options'], 'DENY');
});

t.test('wrong method and unknown paths', async (t) => {
  const post = await fetchOnce(emu, await makeAuthorizeUrl(emu), { a: 'b' });
  t.equal(post.status, 405);
  const nf = await fetchOnce(emu, `https://${emu.apiHost}/nope`);
  t.equal(nf.status, 404);
  t.match(JSON.parse(nf.body), { stat: 'FAIL', code: 40401 });
});
