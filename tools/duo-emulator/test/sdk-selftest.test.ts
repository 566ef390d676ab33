// Protocol doc §12.6: the must-pass self-tests, run with the real, unmodified SDK.
import t from 'tap';
import { REDIRECT_URL, loginForCode, makeClient, rejection, startEmulator, startLogin } from './helpers.ts';

const emu = await startEmulator(t);
const client = makeClient(emu);

t.test('health check OK, with Duo-shaped body carrying the emulator clock', async (t) => {
  const r = (await client.healthCheck()) as { stat: string; response: { timestamp: number } };
  t.equal(r.stat, 'OK');
  t.ok(Math.abs(r.response.timestamp - Date.now() / 1000) < 5);
});

t.test('wrong secret → invalid_client catch-all', async (t) => {
  const bad = makeClient(emu, { clientSecret: 'x'.repeat(40) });
  const err = await rejection(bad.healthCheck());
  t.equal(err.name, 'DuoException');
  t.equal(err.message, 'invalid_client: The provided client_assertion was invalid.');
  t.match(emu.requests.at(-1), { path: '/oauth/v1/health_check', status: 400, error: /A2/ });
});

t.test('unknown client id → invalid_client on health and token', async (t) => {
  const bad = makeClient(emu, { clientId: 'DIXXXXXXXXXXXXXXXXXX' });
  t.equal((await rejection(bad.healthCheck())).message, 'invalid_client: The provided client_assertion was invalid.');
  const err = await rejection(bad.exchangeAuthorizationCodeFor2FAResult('0'.repeat(32), 'alice'));
  t.equal(err.message, 'invalid_client: The provided client_assertion was invalid.');
});

t.test('authorize → 302 to redirect_uri with duo_code (32 hex) and the state echoed', async (t) => {
  const { state, hop } = await startLogin(emu, client, 'alice');
  t.equal(hop.status, 302);
  const cb = new URL(hop.location!);
  t.equal(`${cb.origin}${cb.pathname}`, REDIRECT_URL);
  t.match(cb.searchParams.get('duo_code'), /^[0-9a-f]{32}$/);
  t.equal(cb.searchParams.get('state'), state);
  t.equal(cb.searchParams.get('code'), null);
});

t.test('useDuoCodeAttribute:false → code= instead of duo_code=', async (t) => {
  const c = makeClient(emu, { useDuoCodeAttribute: false });
  const { code } = await loginForCode(emu, c, 'alice', 'code');
  t.equal((await c.exchangeAuthorizationCodeFor2FAResult(code, 'alice')).preferred_username, 'alice');
});

t.test("redirect_uri's own query is preserved byte for byte", async (t) => {
  const redirectUrl = 'https://gw.example/cb?session_code=a%20b&x=1';
  const c = makeClient(emu, { redirectUrl });
  const { state, hop } = await startLogin(emu, c, 'alice');
  t.ok(hop.location!.startsWith(`${redirectUrl}&duo_code=`));
  t.ok(hop.location!.endsWith(`&state=${state}`));
});

t.test('wrong username at exchange → The username is invalid, and the code is burned', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  t.equal((await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'ALICE'))).message, 'The username is invalid');
  const again = await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'));
  t.match(again.message, /^invalid_grant: /);
});

t.test('allow: exchange returns auth_result allow with the expected keys', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice');
  t.same(Object.keys(tok).sort(), [
    'aud', 'auth_context', 'auth_result', 'auth_time', 'exp', 'iat', 'iss', 'preferred_username', 'sub',
  ]);
  t.same(tok.auth_result, { result: 'allow', status: 'allow', status_msg: 'Login Successful' });
  t.equal(tok.iss, `https://${emu.apiHost}/oauth/v1/token`);
  t.equal(tok.aud, emu.clientId);
  t.equal(tok.exp - tok.iat, 300);
  t.match(tok.auth_context, {
    factor: 'duo_push',
    reason: 'user_approved',
    result: 'success',
    event_type: 'authentication',
    application: { name: 'Web SDK', key: emu.clientId },
    user: { name: 'alice' },
    access_device: { ip: /127\.0\.0\.1|::1/ },
  });
  t.match(tok.auth_context.txid, /^[0-9a-f-]{36}$/);
});

t.test('preferred_username is the duo_uname exactly as sent', async (t) => {
  const { code } = await loginForCode(emu, client, 'Bob.Smith@Example.COM');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(code, 'Bob.Smith@Example.COM');
  t.equal(tok.preferred_username, 'Bob.Smith@Example.COM');
});

t.test('setFactor goes to auth_context.factor (passcode factors → valid_passcode)', async (t) => {
  emu.setFactor('carol', 'phone_call');
  emu.setFactor('dave', 'hardware_token');
  const c1 = await loginForCode(emu, client, 'carol');
  t.match((await client.exchangeAuthorizationCodeFor2FAResult(c1.code, 'carol')).auth_context, {
    factor: 'phone_call',
    reason: 'user_approved',
  });
  const c2 = await loginForCode(emu, client, 'dave');
  t.match((await client.exchangeAuthorizationCodeFor2FAResult(c2.code, 'dave')).auth_context, {
    factor: 'hardware_token',
    reason: 'valid_passcode',
  });
});

t.test('code replay → invalid_grant', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice');
  const err = await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'));
  t.equal(
    err.message,
    'invalid_grant: The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI.',
  );
  t.match(emu.requests.at(-1), { status: 400, error: /T3/ });
});

t.test('nonce passed to the exchange → The nonce is invalid (the Node SDK cannot send one)', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const err = await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice', 'n'.repeat(32)));
  t.equal(err.message, 'The nonce is invalid');
});

t.test('the request log never contains secrets, assertions or codes', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice');
  const log = JSON.stringify(emu.requests);
  t.notOk(log.includes(emu.clientSecret));
  t.notOk(log.includes(code));
  t.notOk(log.includes('eyJ'));
  t.ok(emu.requests.every((r) => typeof r.at === 'number' && r.status > 0));
});
