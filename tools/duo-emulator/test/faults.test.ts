// Fault injection: what the SDK (and so the gateway) sees when Duo misbehaves.
import t from 'tap';
import { fetchOnce, loginForCode, makeClient, rejection, startEmulator, startLogin } from './helpers.ts';

const MALFORMED = 'Result missing expected data';

const emu = await startEmulator(t);
const client = makeClient(emu);
t.afterEach(() => emu.reset());

t.test('down: connection refused everywhere, and back up after setFault(null)', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  const authUrl = await client.createAuthUrl('alice', client.generateState());
  emu.setFault('down');
  const err = await rejection(client.healthCheck());
  t.equal(err.name, 'DuoException');
  t.equal(err.inner?.code, 'ECONNREFUSED');
  t.match(err.message, /ECONNREFUSED/);
  t.equal((await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).inner?.code, 'ECONNREFUSED');
  await t.rejects(fetchOnce(emu, authUrl), { code: 'ECONNREFUSED' });

  emu.setFault(null);
  t.equal(((await client.healthCheck()) as { stat: string }).stat, 'OK');
  t.equal((await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice')).preferred_username, 'alice');
});

t.test('http500: HTML 500 → Result missing expected data (health and token)', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  emu.setFault('http500');
  const err = await rejection(client.healthCheck());
  t.equal(err.message, MALFORMED);
  t.equal((err.inner as unknown as { response: { status: number } }).response.status, 500);
  t.equal((await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).message, MALFORMED);
  t.match(emu.requests.at(-1), { status: 500, error: 'fault: http500' });
  // the browser leg is unaffected
  t.equal((await startLogin(emu, client, 'alice')).hop.status, 302);
});

t.test('bad_json: 200 with a non-JSON body → Result missing expected data', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  emu.setFault('bad_json');
  t.equal((await rejection(client.healthCheck())).message, MALFORMED);
  t.equal((await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).message, MALFORMED);
});

t.test('hang: the client-side axios timeout fires (the SDK sets none)', async (t) => {
  const impatient = makeClient(emu, { timeout: 150 });
  const { code } = await loginForCode(emu, impatient, 'alice');
  emu.setFault('hang');
  const err = await rejection(impatient.healthCheck());
  t.equal(err.message, 'timeout of 150ms exceeded');
  t.equal(err.inner?.code, 'ECONNABORTED');
  t.equal((await rejection(impatient.exchangeAuthorizationCodeFor2FAResult(code, 'alice'))).message, 'timeout of 150ms exceeded');
  t.match(emu.requests.at(-1), { path: '/oauth/v1/token', error: 'fault: hang' });
});

t.test('hang also applies to authorize', async (t) => {
  const authUrl = await client.createAuthUrl('alice', client.generateState());
  emu.setFault('hang');
  const pending = fetchOnce(emu, authUrl);
  const timer = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 150));
  t.equal(await Promise.race([pending, timer]), 'still waiting');
  emu.reset(); // does not answer the held request; close() will destroy it
  pending.catch(() => {});
});

t.test('close() returns promptly while requests hang', async (t) => {
  const own = await startEmulator(t);
  own.setFault('hang');
  const pending = rejection(makeClient(own, { timeout: 0 }).healthCheck());
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await own.close();
  t.ok(Date.now() - started < 1000, `closed in ${Date.now() - started} ms`);
  t.match((await pending).message, /socket hang up|ECONNRESET/);
});

t.test('wrong_signing_key: the SDK rejects the id_token', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  emu.setFault('wrong_signing_key');
  t.equal(((await client.healthCheck()) as { stat: string }).stat, 'OK', 'health is unaffected');
  const err = await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'));
  t.equal(err.message, 'Error decoding JWT');
  t.equal(err.inner?.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  t.match(emu.requests.at(-1), { path: '/oauth/v1/token', status: 200, warning: 'fault: wrong_signing_key' });
});

t.test('wrong_username: a correctly signed id_token for another user, which the SDK rejects', async (t) => {
  const { code } = await loginForCode(emu, client, 'alice');
  emu.setFault('wrong_username');
  t.teardown(() => emu.setFault(null));
  const err = await rejection(client.exchangeAuthorizationCodeFor2FAResult(code, 'alice'));
  t.equal(err.message, 'The username is invalid');
  t.match(emu.requests.at(-1), { path: '/oauth/v1/token', status: 200, warning: 'fault: wrong_username' });
});

t.test('reset() clears a down fault', async (t) => {
  emu.setFault('down');
  emu.reset();
  t.equal(((await client.healthCheck()) as { stat: string }).stat, 'OK');
});
