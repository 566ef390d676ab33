// Client-assertion checks A1–A10 (protocol doc §12.3) and the emulator clock.
import t from 'tap';
import { UnsecuredJWT } from 'jose';
import { loginForCode, makeAssertion, makeClient, postForm, rawHealth, rejection, startEmulator } from './helpers.ts';

const INVALID_CLIENT = 'invalid_client: The provided client_assertion was invalid.';
const HEALTH_FAIL = {
  stat: 'FAIL',
  code: 40002,
  message: 'invalid_client',
  message_detail: 'The provided client_assertion was invalid.',
};

const emu = await startEmulator(t);
const client = makeClient(emu);
t.afterEach(() => emu.reset());

t.test('clock skew: emulator 400 s behind or 3700 s ahead fails the health check', async (t) => {
  for (const offset of [-400, 3700]) {
    emu.setClockOffset(offset);
    t.equal((await rejection(client.healthCheck())).message, INVALID_CLIENT, `offset ${offset}`);
    t.match(emu.requests.at(-1)?.error, offset < 0 ? /A8: iat in the future/ : /A6\/A7: exp in the past/);
  }
});

t.test('small skew (±30 s) is tolerated, and the timestamp shows the emulator clock', async (t) => {
  for (const offset of [-30, 30]) {
    emu.setClockOffset(offset);
    const r = (await client.healthCheck()) as { response: { timestamp: number } };
    t.ok(Math.abs(r.response.timestamp - (Date.now() / 1000 + offset)) < 3, `offset ${offset}`);
  }
});

t.test('emulator 200 s ahead: health and exchange still pass (the SDK does not check id_token iat)', async (t) => {
  // 200 s ahead: the SDK assertion is still valid for the emulator, and the
  // SDK accepts an id_token whose iat is in the future (jose does not check iat).
  emu.setClockOffset(200);
  await client.healthCheck();
  const ok = await loginForCode(emu, client, 'alice');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(ok.code, 'alice');
  t.ok(tok.iat > Date.now() / 1000 + 150);
});

t.test('nbf in the future is rejected with zero leeway; nbf = now is accepted', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const future = await rawHealth(emu, await makeAssertion(emu, 'health_check', { nbf: now + 2 }));
  t.equal(future.status, 400);
  t.match(future.json, HEALTH_FAIL);
  t.match(emu.requests.at(-1)?.error, /nbf in the future/);
  const present = await rawHealth(emu, await makeAssertion(emu, 'health_check', { nbf: now }));
  t.match(present, { status: 200, json: { stat: 'OK' } });
});

t.test('exp more than 1 h ahead, missing exp and expired exp are rejected; numeric strings accepted', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  for (const exp of [now + 3700, undefined, now - 1, 'soon']) {
    const r = await rawHealth(emu, await makeAssertion(emu, 'health_check', { exp }));
    t.equal(r.status, 400, `exp ${String(exp)}`);
  }
  const str = await rawHealth(emu, await makeAssertion(emu, 'health_check', { exp: String(now + 300), iat: String(now) }));
  t.equal(str.status, 200, 'C#-style string claims');
});

t.test('alg must be HS512 (HS256 and none rejected)', async (t) => {
  t.equal((await rawHealth(emu, await makeAssertion(emu, 'health_check', {}, { alg: 'HS256' }))).status, 400);
  const now = Math.floor(Date.now() / 1000);
  const none = new UnsecuredJWT({ iss: emu.clientId, sub: emu.clientId, aud: `https://${emu.apiHost}/oauth/v1/health_check`, jti: 'x', exp: now + 300 }).encode();
  t.equal((await rawHealth(emu, none)).status, 400);
  t.equal((await rawHealth(emu, 'not-a-jwt')).status, 400);
  t.match(emu.requests.at(-1)?.error, /A1/);
});

t.test('iss, sub and aud must match exactly', async (t) => {
  const other = 'DIYYYYYYYYYYYYYYYYYY';
  t.equal((await rawHealth(emu, await makeAssertion(emu, 'health_check', { iss: other }))).status, 400);
  t.equal((await rawHealth(emu, await makeAssertion(emu, 'health_check', { sub: other }))).status, 400);
  // token aud on the health endpoint
  t.equal((await rawHealth(emu, await makeAssertion(emu, 'token'))).status, 400);
  t.match(emu.requests.at(-1)?.error, /A5/);
  // aud as an array containing the endpoint is fine
  const arr = await makeAssertion(emu, 'health_check', { aud: ['x', `https://${emu.apiHost}/oauth/v1/health_check`] });
  t.equal((await rawHealth(emu, arr)).status, 200);
});

t.test('an SDK configured with another spelling of the host fails (aud is compared to the canonical apiHost)', async (t) => {
  const port = emu.apiHost.split(':')[1];
  const c = makeClient(emu, { apiHost: `127.0.0.1:${port}` });
  t.equal((await rejection(c.healthCheck())).message, INVALID_CLIENT);
  t.match(emu.requests.at(-1)?.error, /A5/);
});

t.test('jti replay is rejected; missing jti is rejected', async (t) => {
  const a = await makeAssertion(emu, 'health_check');
  t.equal((await rawHealth(emu, a)).status, 200);
  t.equal((await rawHealth(emu, a)).status, 400);
  t.match(emu.requests.at(-1)?.error, /A9: jti replayed/);
  t.equal((await rawHealth(emu, await makeAssertion(emu, 'health_check', { jti: undefined }))).status, 400);
});

t.test('replayCheckJti:false allows reusing an assertion', async (t) => {
  const lenient = await startEmulator(t, { replayCheckJti: false });
  const a = await makeAssertion(lenient, 'health_check');
  t.equal((await rawHealth(lenient, a)).status, 200);
  t.equal((await rawHealth(lenient, a)).status, 200);
});

t.test('client_id may be omitted (java style): the iss claim picks the app', async (t) => {
  const a = await makeAssertion(emu, 'health_check');
  const r = await postForm(emu, '/oauth/v1/health_check', { client_assertion: a });
  t.equal(r.status, 200);
});

t.test('token: iss ≠ client_id gives the specific invalid_client text', async (t) => {
  const other = 'DIYYYYYYYYYYYYYYYYYY';
  const r = await postForm(emu, '/oauth/v1/token', {
    grant_type: 'authorization_code',
    code: 'x',
    redirect_uri: 'https://gw.example/duo/callback',
    client_id: emu.clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await makeAssertion(emu, 'token', { iss: other }),
  });
  t.same(r, {
    status: 400,
    json: {
      error: 'invalid_client',
      error_description: 'Invalid Client assertion: The `iss` claim must match the supplied client_id',
    },
  });
});

t.test('token: wrong client_assertion_type → invalid_request (A10)', async (t) => {
  const r = await postForm(emu, '/oauth/v1/token', {
    grant_type: 'authorization_code',
    code: 'x',
    redirect_uri: 'https://gw.example/duo/callback',
    client_id: emu.clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
    client_assertion: await makeAssertion(emu, 'token'),
  });
  t.match(r, { status: 400, json: { error: 'invalid_request' } });
});

t.test('several apps: each is checked with its own secret', async (t) => {
  const apps = [
    { clientId: 'DIAAAAAAAAAAAAAAAAAA', clientSecret: 'a'.repeat(40) },
    { clientId: 'DIBBBBBBBBBBBBBBBBBB', clientSecret: 'b'.repeat(40) },
  ];
  const multi = await startEmulator(t, { apps });
  t.equal(multi.clientId, apps[0]!.clientId);
  t.equal(multi.clientSecret, apps[0]!.clientSecret);
  const b = makeClient(multi, apps[1]);
  t.equal(((await b.healthCheck()) as { stat: string }).stat, 'OK');
  const mixed = makeClient(multi, { clientId: apps[1]!.clientId, clientSecret: apps[0]!.clientSecret });
  t.equal((await rejection(mixed.healthCheck())).message, INVALID_CLIENT);
});

t.test('bad app credentials are refused at start', async (t) => {
  await t.rejects(startEmulator(t, { apps: [{ clientId: 'short', clientSecret: 'x'.repeat(40) }] }), /20 chars/);
});
