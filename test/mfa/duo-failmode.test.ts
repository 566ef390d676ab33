// Duo unreachable before the redirect (down, hang past the gateway's deadline, HTTP 500): fail mode `closed`
// hides Duo and offers the other factors (or the no-factor page when Duo is all a user has); `open` lets the
// user through without claiming MFA, audited and counted. Global `open` here, with a per-client `closed`
// override; the reverse and post-redirect failures are in duo.test.ts. Duo never needs to be healthy in this
// file, so the deadline can be short.
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { duoCalls, duoReachable, startDuo } from '../helpers/duo.ts';
import {
  ACR_PASSWORD, AMR_TOTP, alertText, atClient, auditRows, chooseFactor, choiceButtons, enrollTotp, freshTotp, idClaims,
  isChoicePage, login, mfaCount, policyClient, submitCode, matchAll,
} from '../helpers/mfa.ts';

const TIMEOUT_MS = 300;
const appOpen = policyClient('required');
const appClosed = policyClient('required', 'app-fail-closed', { duoFailMode: 'closed' });
const duo = await startDuo(t);
const gw = await startGateway(t, {
  overrides: {
    oidc: { clients: [appOpen, appClosed] }, security: { ipLimitPerMinute: 10_000 },
    ...duo.overrides({ failMode: 'open', timeoutMs: TIMEOUT_MS }),
  },
});

const FAULTS = { down: /^network:/, hang: /^timeout:/, http500: /^response:/ } as const;

/** Puts the emulator into `fault` for this test (a hang needs the listener up to accept and stall). */
async function inject(t: Test, fault: keyof typeof FAULTS) {
  duo.emulator.setFault(null);
  await duoReachable(duo.emulator);
  duo.emulator.setFault(fault);
  t.teardown(() => duo.emulator.setFault(null));
}

for (const fault of Object.keys(FAULTS) as (keyof typeof FAULTS)[]) {
  t.test(`${fault}, client fail mode closed: Duo shown unavailable, TOTP offered and signs in`, async (t) => {
    const username = `totp-${fault}`;
    const user = await addUser(gw, username);
    const { secret } = await enrollTotp(gw, user.id);
    await inject(t, fault);
    const f = await login(gw, appClosed, username);
    t.ok(isChoicePage(f.page), 'the factor choice');
    t.same(choiceButtons(f.page), { duo: false, totp: true, recovery: true });
    t.match(f.page, /id="factor-duo"[^>]*disabled[^>]*>Duo<br><span class="muted">Unavailable right now/);
    await chooseFactor(f, 'totp');
    await submitCode(f, await freshTotp(secret));
    t.same((await idClaims(f)).amr, AMR_TOTP);
    t.same((await auditRows(gw, user.id, 'mfa.duo')), [], 'Duo was never tried');
  });

  t.test(`${fault}, client fail mode closed, Duo is the user's only factor: the no-factor page, nothing signed in`, async (t) => {
    const username = `solo-${fault}`;
    const user = await addUser(gw, username);
    await inject(t, fault);
    const f = await login(gw, appClosed, username);
    t.notOk(atClient(f), 'nothing signed in');
    t.equal(f.status, 200);
    t.match(f.page, /<p id="no-factor">No verification method is available for your account right now/);
    t.same(choiceButtons(f.page), { duo: false });
    t.match(f.page, /id="cancel"/, 'the user can still cancel back to the application');
    matchAll(t, await auditRows(gw, user.id, 'mfa.choice'), [
      { outcome: 'failure', reason: 'no_usable_factor', client_id: appClosed.clientId, detail: { duo: FAULTS[fault], totp: 'not_enrolled' } },
    ], 'the audit row says why no factor was usable');
    // Duo being down never opens TOTP enrollment: a password alone must not add a factor.
    const uid = /^\/interaction\/([^/]+)/.exec(f.url.pathname)![1]!;
    const enroll = await f.browser.get(new URL(`/interaction/${uid}/mfa/enroll`, gw.url));
    t.equal(enroll.status, 303);
    t.match(enroll.headers.get('location'), /\?choose=1$/);
    t.equal(await gw.services.mfa.totp.find(user.id), undefined, 'no seed created');
    // Posting Duo anyway (a stale page) is refused with the reason.
    await chooseFactor(f, 'duo');
    t.notOk(atClient(f));
    t.equal(f.url.searchParams.get('failed'), 'unavailable');
    t.equal(alertText(f.page), 'Duo: That method is unavailable right now. Choose a method below to continue.');
    matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'error', reason: 'unavailable', detail: { problem: FAULTS[fault] } }]);
  });

  t.test(`${fault}, fail mode open: signed in without mfa in amr, audited as fail-open and counted`, async (t) => {
    const username = `open-${fault}`;
    const user = await addUser(gw, username);
    await inject(t, fault);
    const before = await mfaCount(gw, { factor: 'duo', result: 'fail-open' });
    const tokens = duoCalls(duo.emulator, 'token').length;
    const f = await login(gw, appOpen, username);
    t.ok(atClient(f), 'signed in');
    const claims = await idClaims(f);
    t.same(claims.amr, ['pwd']);
    t.equal(claims.acr, ACR_PASSWORD);
    matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [
      { outcome: 'fail-open', reason: 'fail-open', factor: 'duo', client_id: appOpen.clientId, detail: { amr: ['pwd'], problem: FAULTS[fault] } },
    ]);
    t.equal(await mfaCount(gw, { factor: 'duo', result: 'fail-open' }), before + 1);
    t.equal(duoCalls(duo.emulator, 'token').length, tokens, 'no code exchange');
    t.equal((await gw.services.users.findById(user.id))!.preferredFactor, null);
  });
}
