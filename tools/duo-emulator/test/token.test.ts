// POST /oauth/v1/token: checks T1–T5 (protocol doc §12.3) and the response shape.
import t from 'tap';
import {
  REDIRECT_URL,
  fetchOnce,
  loginForCode,
  makeAssertion,
  makeAuthorizeUrl,
  makeClient,
  postForm,
  rejection,
  startEmulator,
} from './helpers.ts';

const INVALID_GRANT =
  'invalid_grant: The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI.';

const emu = await startEmulator(t, { codeTtlSeconds: 100 });
const client = makeClient(emu);
t.afterEach(() => emu.reset());

async function tokenForm(code: string, over: Record<string, string> = {}) {
  return postForm(emu, '/oauth/v1/token', {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URL,
    client_id: emu.clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await makeAssertion(emu, 'token'),
    ...over,
  });
}

t.test('success response: the four keys, Bearer, no-store', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const r = await tokenForm(code);
  t.equal(r.status, 200);
  t.same(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'id_token', 'token_type']);
  t.match(r.json, { token_type: 'Bearer', expires_in: 300, id_token: /^eyJ/ });
  const header = JSON.parse(Buffer.from(String(r.json.id_token).split('.')[0]!, 'base64url').toString());
  t.same(header, { alg: 'HS512', typ: 'JWT' });
});

t.test('redirect_uri mismatch at exchange → invalid_grant', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const other = makeClient(emu, { redirectUrl: 'https://gw.example/other/callback' });
  t.equal((await rejection(other.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).message, INVALID_GRANT);
  t.match(emu.requests.at(-1)?.error, /T4: redirect_uri mismatch/);
});

t.test('redirect_uri longer than 256 chars: authorize refuses, token says invalid_request', async (t) => {
  const long = makeClient(emu, { redirectUrl: `https://gw.example/cb?p=${'a'.repeat(240)}` });
  const authUrl = await long.createAuthUrl('alice', long.generateState());
  const hop = await fetchOnce(emu, authUrl);
  t.equal(hop.status, 400);
  t.equal(hop.location, undefined);
  const err = await rejection(long.exchangeAuthorizationCodeFor2FAResult('0'.repeat(32), 'alice'));
  t.equal(err.message, "invalid_request: redirect_uri: ['Length must be between 1 and 256.']");
});

t.test('expired code (TTL 100 s, emulator clock +200 s) → invalid_grant', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  emu.setClockOffset(200); // still inside the SDK assertion's 300 s lifetime
  t.equal((await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).message, INVALID_GRANT);
  t.match(emu.requests.at(-1)?.error, /T2: code expired/);
});

t.test('unknown code → invalid_grant', async (t) => {
  t.equal((await rejection(client.exchangeAuthorizationCodeFor2FAResult('f'.repeat(32), 'alice'))).message, INVALID_GRANT);
});

t.test('a code belongs to the app it was issued to (and is not burned by another app)', async (t) => {
  const apps = [
    { clientId: 'DIAAAAAAAAAAAAAAAAAA', clientSecret: 'a'.repeat(40) },
    { clientId: 'DIBBBBBBBBBBBBBBBBBB', clientSecret: 'b'.repeat(40) },
  ];
  const multi = await startEmulator(t, { apps });
  const a = makeClient(multi, apps[0]);
  const b = makeClient(multi, apps[1]);
  const { code } = await loginForCode(multi, a, 'alice');
  t.equal((await rejection(b.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).message, INVALID_GRANT);
  t.equal((await a.exchangeAuthorizationCodeFor2FAResult(code, 'alice')).aud, apps[0]!.clientId);
});

t.test('grant_type must be authorization_code', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const r = await tokenForm(code, { grant_type: 'refresh_token' });
  t.match(r, { status: 400, json: { error: 'unsupported_grant_type' } });
});

t.test('client_id may be omitted (java style)', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const r = await postForm(emu, '/oauth/v1/token', {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URL,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await makeAssertion(emu, 'token'),
  });
  t.equal(r.status, 200);
});

t.test('nonce sent in the request object comes back in the id_token (other SDKs can send one)', async (t) => {
  const nonce = 'n0nce-'.repeat(4);
  const hop = await fetchOnce(emu, await makeAuthorizeUrl(emu, { nonce }));
  const code = new URL(hop.location!).searchParams.get('duo_code')!;
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice', nonce);
  t.equal(tok.nonce, nonce);
  const hop2 = await fetchOnce(emu, await makeAuthorizeUrl(emu, { nonce }));
  const code2 = new URL(hop2.location!).searchParams.get('duo_code')!;
  const err = await rejection(client.exchangeAuthorizationCodeFor2FAResult(code2, 'alice', 'x'.repeat(24)));
  t.equal(err.message, 'The nonce is invalid');
});

t.test('GET on the token endpoint → 405', async (t) => {
  const hop = await fetchOnce(emu, `https://${emu.apiHost}/oauth/v1/token`);
  t.equal(hop.status, 405);
  t.match(JSON.parse(hop.body), { stat: 'FAIL' });
});
