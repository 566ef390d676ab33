// Duo Universal Prompt through real OIDC logins: the unmodified SDK talks TLS to the emulator (trusted only
// through mfa.duo.caFile), the test plays the browser's visit to Duo. Outcomes (allow, deny, fraud, error
// redirect, bypass counted as MFA), the state's guarantees (forged, replayed, from another login, expired),
// what reaches Duo and the logs, and fail mode closed (default) with a per-client `open` override.
// Other bypass policies and a username mismatch: duo-bypass.test.ts; hang and global open: duo-failmode.test.ts.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { authorizeRequest, duoAnswer as answer, duoCalls, duoReachable, openUrl as open, startDuo, toDuo, type TestDuo } from '../helpers/duo.ts';
import {
  ACR_MFA, ACR_PASSWORD, AMR_TOTP, alertText, atClient, auditRows, chooseFactor, choiceButtons, enrollTotp, freshTotp,
  idClaims, isChoicePage, login, mfaCount, policyClient, submitCode, matchAll, type Flow,
} from '../helpers/mfa.ts';

const AMR_PUSH = ['pwd', 'swk', 'user', 'mfa'];
const app = policyClient('required');
const appOpen = policyClient('required', 'app-fail-open', { duoFailMode: 'open' });
const duo = await startDuo(t);
const gw = await startGateway(t, {
  overrides: {
    oidc: { clients: [app, appOpen] }, security: { ipLimitPerMinute: 10_000 },
    ...duo.overrides({ bypassPolicy: 'mfa', failMode: 'closed' }),
  },
});

/** Every callback Duo handed out in this file: none of their codes or states may reach the logs. */
const seen: URL[] = [];
async function duoAnswer(f: Flow, d: TestDuo): Promise<URL> {
  const cb = await answer(f, d);
  seen.push(cb);
  return cb;
}

const uidOf = (u: URL) => /^\/interaction\/([^/]+)\//.exec(u.pathname)![1]!;

t.test('allow: amr has mfa (push = swk user), acr refeds, audit success; Duo saw health, authorize and one token call', async (t) => {
  const user = await addUser(gw, 'alice');
  const f = await toDuo(gw, app, 'alice');
  const rq = authorizeRequest(f.url);
  t.equal(rq.duo_uname, 'alice');
  t.equal(rq.redirect_uri, `${gw.url}/interaction/${uidOf(new URL(rq.redirect_uri as string))}/mfa/duo/callback`, 'callback below the interaction');
  t.match(rq.state, /^[0-9a-f]{36}$/);
  const cb = await duoAnswer(f, duo);
  const duoCode = cb.searchParams.get('duo_code')!;
  t.ok(duoCode);
  t.equal(cb.searchParams.get('state'), rq.state, 'Duo echoes the state');
  await open(f, cb);
  t.ok(atClient(f), 'signed in');
  const claims = await idClaims(f);
  t.same(claims.amr, AMR_PUSH);
  t.equal(claims.acr, ACR_MFA);
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'success', factor: 'duo', detail: { duoFactor: 'duo_push', amr: AMR_PUSH } }]);
  t.equal(await mfaCount(gw, { factor: 'duo', result: 'success' }), 1);
  t.ok(duoCalls(duo.emulator, 'health_check').some((r) => r.method === 'POST' && r.status === 200), 'health check before the redirect');
  matchAll(t, duoCalls(duo.emulator, 'authorize'), [{ method: 'GET', status: 302 }]);
  matchAll(t, duoCalls(duo.emulator, 'token'), [{ method: 'POST', status: 200, clientId: duo.emulator.clientId }], 'exactly one code exchange');
  t.notOk(duo.emulator.requests.some((r) => r.error), 'Duo accepted every call');
  const logs = gw.logs.join('\n');
  t.notOk(logs.includes(duoCode), 'the duo_code never reaches the logs');
  t.notOk(logs.includes(rq.state as string), 'nor the state');
  t.notOk(logs.includes(duo.emulator.clientSecret), 'nor the client secret');
  t.match(logs, /duo_code=%5Bredacted%5D|duo_code=\[redacted\]/, 'the callback was logged, redacted');
});

t.test('deny: back at the choice with the reason, TOTP still offered, then TOTP signs in', async (t) => {
  const user = await addUser(gw, 'dana');
  const { secret } = await enrollTotp(gw, user.id);
  duo.emulator.setOutcome('dana', 'deny');
  const f = await toDuo(gw, app, 'dana');
  await open(f, await duoAnswer(f, duo));
  t.notOk(atClient(f));
  t.equal(f.url.searchParams.get('failed'), 'denied');
  t.equal(alertText(f.page), 'Duo: The request was denied. Choose a method below to continue.');
  t.same(choiceButtons(f.page), { duo: true, totp: true, recovery: true }, 'every factor offered again');
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'denied', factor: 'duo' }]);
  await chooseFactor(f, 'totp');
  await submitCode(f, await freshTotp(secret));
  t.same((await idClaims(f)).amr, AMR_TOTP);
});

t.test('fraud: refused with the fraud reason', async (t) => {
  const user = await addUser(gw, 'fred');
  duo.emulator.setOutcome('fred', 'fraud');
  const f = await toDuo(gw, app, 'fred');
  await open(f, await duoAnswer(f, duo));
  t.notOk(atClient(f));
  t.equal(f.url.searchParams.get('failed'), 'fraud');
  t.match(alertText(f.page), /^Duo: The request was reported as not made by you/);
  t.same(choiceButtons(f.page), { duo: true }, 'Duo can be tried again (the user has no other factor)');
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'fraud', detail: { duoReason: 'user_marked_fraud' } }]);
});

t.test('error_redirect: back at the choice, no code exchanged', async (t) => {
  const user = await addUser(gw, 'erik');
  duo.emulator.setOutcome('erik', 'error_redirect');
  const tokens = duoCalls(duo.emulator, 'token').length;
  const f = await toDuo(gw, app, 'erik');
  const cb = await duoAnswer(f, duo);
  t.equal(cb.searchParams.get('error'), 'access_denied');
  await open(f, cb);
  t.notOk(atClient(f));
  t.ok(isChoicePage(f.page));
  t.equal(f.url.searchParams.get('failed'), 'denied');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens);
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'denied', detail: { duoError: 'access_denied' } }]);
});

t.test('bypass with bypassPolicy mfa: counts as MFA, audited as bypass', async (t) => {
  const user = await addUser(gw, 'bea');
  duo.emulator.setOutcome('bea', 'bypass');
  const f = await toDuo(gw, app, 'bea');
  await open(f, await duoAnswer(f, duo));
  const claims = await idClaims(f);
  t.same(claims.amr, ['pwd', 'mfa']);
  t.equal(claims.acr, ACR_MFA);
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'bypass', detail: { duoReason: 'bypass_user', policy: 'mfa' } }]);
});

t.test('forged state: refused with expired before any exchange; the real answer still works', async (t) => {
  const user = await addUser(gw, 'sly');
  const f = await toDuo(gw, app, 'sly');
  const cb = await duoAnswer(f, duo);
  const forged = new URL(cb);
  forged.searchParams.set('state', 'f'.repeat(36));
  const tokens = duoCalls(duo.emulator, 'token').length;
  await open(f, forged);
  t.notOk(atClient(f), 'nothing signed in');
  t.equal(f.url.searchParams.get('failed'), 'expired');
  t.equal(alertText(f.page), 'Duo: That attempt expired or was already used. Choose a method below to continue.');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens, 'the code was never sent to Duo');
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'expired' }]);
  await open(f, cb);
  t.same((await idClaims(f)).amr, AMR_PUSH, 'a forged state does not burn the real one');
});

t.test('replayed callback: refused with expired, no second exchange', async (t) => {
  const user = await addUser(gw, 'rex');
  duo.emulator.setOutcome('rex', 'deny');
  const f = await toDuo(gw, app, 'rex');
  const cb = await duoAnswer(f, duo);
  await open(f, cb);
  t.equal(f.url.searchParams.get('failed'), 'denied', 'first use: exchanged, Duo said deny');
  const tokens = duoCalls(duo.emulator, 'token').length;
  await open(f, cb);
  t.equal(f.url.searchParams.get('failed'), 'expired', 'second use: the state is spent');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens);
  // After a successful sign-in the interaction itself is gone: the replay lands on the expired page.
  duo.emulator.setOutcome('rex', 'allow');
  await chooseFactor(f, 'duo');
  const ok = await duoAnswer(f, duo);
  await open(f, ok);
  t.ok(atClient(f));
  const replay = await f.browser.get(ok);
  t.equal(replay.status, 400);
  t.match(await replay.text(), /GW_INTERACTION_EXPIRED/);
  t.equal(duoCalls(duo.emulator, 'token').length, tokens + 1);
  t.same((await auditRows(gw, user.id, 'mfa.duo')).map((r) => r.reason ?? r.outcome), ['denied', 'expired', 'success']);
});

t.test("another login's callback: refused with expired, and the other login is unharmed", async (t) => {
  await addUser(gw, 'amy');
  const bUser = await addUser(gw, 'ben');
  const a = await toDuo(gw, app, 'amy');
  const cbA = await duoAnswer(a, duo);
  const b = await toDuo(gw, app, 'ben');
  const tokens = duoCalls(duo.emulator, 'token').length;
  // A's callback URL opened in B's browser: not B's interaction.
  const res = await b.browser.get(cbA);
  t.equal(res.status, 400);
  t.match(await res.text(), /GW_INTERACTION_EXPIRED/);
  // A's code and state grafted onto B's own callback path: not B's state.
  const grafted = new URL(`/interaction/${uidOf(new URL(authorizeRequest(b.url).redirect_uri as string))}/mfa/duo/callback${cbA.search}`, gw.url);
  await open(b, grafted);
  t.notOk(atClient(b), 'B is not signed in');
  t.equal(b.url.searchParams.get('failed'), 'expired');
  matchAll(t, await auditRows(gw, bUser.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'expired' }]);
  t.equal(duoCalls(duo.emulator, 'token').length, tokens, 'nothing was exchanged');
  await open(a, cbA);
  const claims = await idClaims(a);
  t.equal(claims.preferred_username, 'amy', 'A finishes as A');
});

t.test('expired state: refused with expired, no exchange', async (t) => {
  const user = await addUser(gw, 'tardy');
  const f = await toDuo(gw, app, 'tardy');
  const cb = await duoAnswer(f, duo);
  // The user took longer than the state's lifetime at Duo.
  await gw.services.db.query(`UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [cb.searchParams.get('state')]);
  const tokens = duoCalls(duo.emulator, 'token').length;
  await open(f, cb);
  t.notOk(atClient(f));
  t.equal(f.url.searchParams.get('failed'), 'expired');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens);
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'expired' }]);
});

for (const fault of ['down', 'http500'] as const) {
  t.test(`Duo ${fault}, fail mode closed: Duo shown unavailable, TOTP offered and signs in`, async (t) => {
    const user = await addUser(gw, `closed-${fault}`);
    const { secret } = await enrollTotp(gw, user.id);
    duo.emulator.setFault(fault);
    t.teardown(() => duo.emulator.setFault(null));
    const f = await login(gw, app, `closed-${fault}`);
    t.ok(isChoicePage(f.page));
    t.same(choiceButtons(f.page), { duo: false, totp: true, recovery: true }, 'Duo disabled, the others usable');
    t.match(f.page, /id="factor-duo"[^>]*disabled[^>]*>Duo<br><span class="muted">Unavailable right now/);
    // Choosing Duo anyway (a stale page) explains itself and offers the rest.
    await chooseFactor(f, 'duo');
    t.equal(f.url.searchParams.get('failed'), 'unavailable');
    t.equal(alertText(f.page), 'Duo: That method is unavailable right now. Choose a method below to continue.');
    matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'error', reason: 'unavailable', detail: { problem: fault === 'down' ? /^network:/ : /^response:/ } }]);
    await chooseFactor(f, 'totp');
    await submitCode(f, await freshTotp(secret));
    t.same((await idClaims(f)).amr, AMR_TOTP);
    duo.emulator.setFault(null);
    await duoReachable(duo.emulator);
  });
}

t.test('per-client duoFailMode open: Duo down lets the user through without claiming MFA', async (t) => {
  const user = await addUser(gw, 'opie');
  duo.emulator.setFault('down');
  t.teardown(() => duo.emulator.setFault(null));
  const before = await mfaCount(gw, { factor: 'duo', result: 'fail-open' });
  const f = await login(gw, appOpen, 'opie');
  t.ok(atClient(f), 'signed in');
  const claims = await idClaims(f);
  t.same(claims.amr, ['pwd'], 'no mfa in amr');
  t.equal(claims.acr, ACR_PASSWORD);
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'fail-open', reason: 'fail-open', client_id: appOpen.clientId, detail: { amr: ['pwd'], problem: /^network:/ } }]);
  t.equal(await mfaCount(gw, { factor: 'duo', result: 'fail-open' }), before + 1, 'counted');
  // The same outage on the default (closed) client: no way through.
  await addUser(gw, 'clara');
  const closed = await login(gw, app, 'clara');
  t.notOk(atClient(closed));
  t.match(closed.page, /id="no-factor"/, 'the no-factor page');
  duo.emulator.setFault(null);
  await duoReachable(duo.emulator);
});

t.test('after the redirect every failure denies, even with fail mode open', async (t) => {
  const user = await addUser(gw, 'hal');
  const f = await toDuo(gw, appOpen, 'hal');
  const cb = await duoAnswer(f, duo);
  duo.emulator.setFault('http500');
  t.teardown(() => duo.emulator.setFault(null));
  await open(f, cb);
  t.notOk(atClient(f), 'nothing signed in');
  t.equal(f.url.searchParams.get('failed'), 'error');
  t.match(duoCalls(duo.emulator, 'token').at(-1), { status: 500 });
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'error', reason: 'error', detail: { problem: /^response:/ } }]);
  duo.emulator.setFault(null);
});

t.test('parallel opens of one callback: the state is consumed once, one exchange, one sign-in', async (t) => {
  await addUser(gw, 'paris');
  const f = await toDuo(gw, app, 'paris');
  const cb = await duoAnswer(f, duo);
  const tokens = duoCalls(duo.emulator, 'token').length;
  const flows = Array.from({ length: 8 }, () => ({ ...f, url: new URL(f.url) }));
  await Promise.all(flows.map((x) => open(x, cb)));
  t.equal(flows.filter(atClient).length, 1, 'exactly one reaches the client');
  t.equal(duoCalls(duo.emulator, 'token').length, tokens + 1, 'exactly one code exchange');
  t.same((await idClaims(flows.find(atClient)!)).amr, AMR_PUSH);
});

t.test('no duo_code or state of this file ever reached the logs', async (t) => {
  t.ok(seen.length >= 10, `${seen.length} callbacks checked`);
  const logs = gw.logs.join('\n');
  for (const cb of seen) {
    for (const k of ['duo_code', 'state']) {
      const v = cb.searchParams.get(k);
      if (v) t.notOk(logs.includes(v), `${k} of ${uidOf(cb)} not logged`);
    }
  }
});
