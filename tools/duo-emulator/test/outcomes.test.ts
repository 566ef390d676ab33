// Scripted outcomes (protocol doc §12.5) and the interactive prompt.
import t from 'tap';
import { REDIRECT_URL, fetchOnce, loginForCode, makeClient, startEmulator, startLogin } from './helpers.ts';

const emu = await startEmulator(t);
const client = makeClient(emu);
t.afterEach(() => emu.reset());

t.test('deny: a code whose id_token says deny (the SDK does not check auth_result)', async (t) => {
  emu.setOutcome('alice', 'deny');
  const { code } = await loginForCode(emu, client, 'alice');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice');
  t.same(tok.auth_result, { result: 'deny', status: 'deny', status_msg: 'Login denied' });
  t.match(tok.auth_context, { result: 'denied', factor: 'duo_push' });
});

t.test('fraud: deny with status fraud, reason user_marked_fraud', async (t) => {
  emu.setOutcome('alice', 'fraud');
  const { code } = await loginForCode(emu, client, 'alice');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice');
  t.match(tok.auth_result, { result: 'deny', status: 'fraud' });
  t.match(tok.auth_context, { reason: 'user_marked_fraud', result: 'fraud' });
});

t.test('bypass: immediate 302, allow with reason bypass_user and factor not_available', async (t) => {
  emu.setOutcome('alice', 'bypass');
  emu.setFactor('alice', 'passcode'); // ignored: no factor is used for bypass users
  const { code } = await loginForCode(emu, client, 'alice');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(code, 'alice');
  t.same(tok.auth_result, { result: 'allow', status: 'allow', status_msg: 'Login Successful' });
  t.match(tok.auth_context, { reason: 'bypass_user', factor: 'not_available', result: 'success' });
});

t.test('error_redirect: error=access_denied with a description and the state, no code', async (t) => {
  emu.setOutcome('alice', 'error_redirect');
  const { state, hop } = await startLogin(emu, client, 'alice');
  t.equal(hop.status, 302);
  const cb = new URL(hop.location!);
  t.equal(`${cb.origin}${cb.pathname}`, REDIRECT_URL);
  t.equal(cb.searchParams.get('error'), 'access_denied');
  t.ok(cb.searchParams.get('error_description'));
  t.equal(cb.searchParams.get('state'), state);
  t.notOk(cb.searchParams.has('duo_code'));
});

t.test('no_redirect: a 200 dead-end page that never goes back', async (t) => {
  emu.setOutcome('<b>alice', 'no_redirect');
  const { hop } = await startLogin(emu, client, '<b>alice');
  t.equal(hop.status, 200);
  t.equal(hop.location, undefined);
  t.match(hop.body, /id="duo-dead-end"/);
  t.match(hop.body, /&lt;b&gt;alice/);
  t.notMatch(hop.body, /<form|href=/);
});

t.test('interactive: prompt page, Approve → allow code', async (t) => {
  emu.setOutcome('alice', 'interactive');
  emu.setFactor('alice', 'webauthn');
  const { state, hop } = await startLogin(emu, client, 'alice');
  t.equal(hop.status, 302);
  t.ok(hop.location!.startsWith(`https://${emu.apiHost}/frame/frameless/v4/auth?sid=`));

  const page = await fetchOnce(emu, hop.location!);
  t.equal(page.status, 200);
  t.match(page.body, /id="duo-approve"/);
  t.match(page.body, /id="duo-deny"/);
  t.match(page.body, /id="duo-username">alice</);
  t.notMatch(page.body, /<script|src=|href=/, 'self-contained, no scripts');
  const csp = String(page.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.notMatch(csp, /form-action/, 'no form-action: Chromium would block the redirect chain after Approve');
  t.match(csp, /frame-ancestors 'none'/);

  const sid = /name="sid" value="([0-9a-f]+)"/.exec(page.body)![1]!;
  const exit = await fetchOnce(emu, `https://${emu.apiHost}/frame/v4/oidc/exit`, { sid, action: 'approve' });
  t.equal(exit.status, 302);
  const cb = new URL(exit.location!);
  t.equal(cb.searchParams.get('state'), state);
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(cb.searchParams.get('duo_code')!, 'alice');
  t.match(tok.auth_result, { result: 'allow', status: 'allow' });
  t.match(tok.auth_context, { factor: 'webauthn', reason: 'user_approved' });

  const again = await fetchOnce(emu, `https://${emu.apiHost}/frame/v4/oidc/exit`, { sid, action: 'approve' });
  t.equal(again.status, 400, 'a prompt can be answered only once');
});

async function promptAnswer(action: string) {
  const { hop } = await startLogin(emu, client, 'alice');
  const sid = new URL(hop.location!).searchParams.get('sid')!;
  return fetchOnce(emu, `https://${emu.apiHost}/frame/v4/oidc/exit`, { sid, action });
}

t.test('interactive: Deny → deny code; Cancel → error redirect', async (t) => {
  emu.setDefaultOutcome('interactive');
  const deny = await promptAnswer('deny');
  const tok = await client.exchangeAuthorizationCodeFor2FAResult(
    new URL(deny.location!).searchParams.get('duo_code')!,
    'alice',
  );
  t.match(tok.auth_result, { result: 'deny', status: 'deny' });
  const cancel = await promptAnswer('cancel');
  t.equal(new URL(cancel.location!).searchParams.get('error'), 'access_denied');
  const bogus = await promptAnswer('maybe');
  t.equal(bogus.status, 400);
});

t.test('setDefaultOutcome applies to users without their own outcome; reset restores allow', async (t) => {
  emu.setDefaultOutcome('error_redirect');
  emu.setOutcome('bob', 'allow');
  t.ok(new URL((await startLogin(emu, client, 'alice')).hop.location!).searchParams.has('error'));
  t.ok(new URL((await startLogin(emu, client, 'bob')).hop.location!).searchParams.has('duo_code'));
  emu.reset();
  t.equal(emu.requests.length, 0);
  t.ok(new URL((await startLogin(emu, client, 'alice')).hop.location!).searchParams.has('duo_code'));
});

t.test('outcomes are per exact duo_uname (case-sensitive)', async (t) => {
  emu.setOutcome('alice', 'error_redirect');
  t.ok(new URL((await startLogin(emu, client, 'Alice')).hop.location!).searchParams.has('duo_code'));
});

t.test('defaultOutcome option', async (t) => {
  const other = await startEmulator(t, { defaultOutcome: 'no_redirect' });
  const { hop } = await startLogin(other, makeClient(other), 'alice');
  t.equal(hop.status, 200);
});
