// Duo bypass users (allowed without a prompt) under the two stricter bypass policies, and a username other
// than the stored one coming back from Duo. Real SDK ↔ emulator; bypassPolicy `mfa` is in duo.test.ts.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { authorizeRequest, duoAnswer, duoCalls, openUrl, startDuo, toDuo } from '../helpers/duo.ts';
import { createSdkDuoClient, type DuoClient } from '../../src/mfa/duo/duo-client.ts';
import { ACR_PASSWORD, alertText, atClient, auditRows, choiceButtons, idClaims, isChoicePage, matchAll, mfaCount, policyClient } from '../helpers/mfa.ts';

const app = policyClient('required');
const base = { oidc: { clients: [app] }, security: { ipLimitPerMinute: 10_000 } };
const [single, deny] = await Promise.all([startDuo(t), startDuo(t)]);

// The deny gateway's Duo client opens the prompt for "wally" as "WALLY": Duo then answers with a name other
// than the one stored with the state (as real Duo does when it resolves an alias), and the SDK must refuse
// it. Everything else is the real SDK-backed client, trusting the emulator's CA.
const real = createSdkDuoClient({
  clientId: deny.emulator.clientId, clientSecret: deny.emulator.clientSecret, apiHost: deny.emulator.apiHost,
  timeoutMs: 5000, caPem: deny.emulator.caPem,
});
const renaming: DuoClient = { ...real, createAuthUrl: (u, s, r) => real.createAuthUrl(u === 'wally' ? 'WALLY' : u, s, r) };

const [gwSingle, gwDeny] = await Promise.all([
  startGateway(t, { overrides: { ...base, ...single.overrides({ bypassPolicy: 'single-factor' }) } }),
  startGateway(t, { overrides: { ...base, ...deny.overrides({ bypassPolicy: 'deny' }) }, duoClient: renaming }),
]);

t.test('bypassPolicy single-factor: signed in as password only (amr pwd, acr PasswordProtectedTransport), audited as bypass', async (t) => {
  const user = await addUser(gwSingle, 'sam');
  single.emulator.setOutcome('sam', 'bypass');
  const f = await toDuo(gwSingle, app, 'sam');
  await openUrl(f, await duoAnswer(f, single));
  t.ok(atClient(f), 'signed in');
  const claims = await idClaims(f);
  t.same(claims.amr, ['pwd'], 'never claims more than happened');
  t.equal(claims.acr, ACR_PASSWORD);
  matchAll(t, await auditRows(gwSingle, user.id, 'mfa.duo'), [
    { outcome: 'bypass', reason: 'bypass', factor: 'duo', detail: { amr: ['pwd'], duoReason: 'bypass_user', policy: 'single-factor' } },
  ]);
  t.equal(await mfaCount(gwSingle, { factor: 'duo', result: 'bypass' }), 1, 'counted as a bypass');
  t.equal((await gwSingle.services.users.findById(user.id))!.preferredFactor, null, 'a bypass is not a factor the user used');
});

t.test('bypassPolicy deny: back at the choice with the reason, nothing signed in', async (t) => {
  const user = await addUser(gwDeny, 'dora');
  deny.emulator.setOutcome('dora', 'bypass');
  const f = await toDuo(gwDeny, app, 'dora');
  await openUrl(f, await duoAnswer(f, deny));
  t.notOk(atClient(f));
  t.equal(f.url.searchParams.get('failed'), 'denied');
  t.ok(isChoicePage(f.page));
  t.equal(alertText(f.page), 'Duo: The request was denied. Choose a method below to continue.');
  t.same(choiceButtons(f.page), { duo: true });
  matchAll(t, await auditRows(gwDeny, user.id, 'mfa.duo'), [{ outcome: 'failure', reason: 'denied', detail: { bypass: true, duoReason: 'bypass_user' } }]);
});

t.test('Duo answers for another username than the stored one: refused', async (t) => {
  const user = await addUser(gwDeny, 'wally');
  const f = await toDuo(gwDeny, app, 'wally');
  t.equal(authorizeRequest(f.url).duo_uname, 'WALLY', 'the prompt ran for a different name');
  await openUrl(f, await duoAnswer(f, deny));
  t.notOk(atClient(f), 'nothing signed in');
  t.equal(f.url.searchParams.get('failed'), 'error');
  t.ok(isChoicePage(f.page));
  t.match(duoCalls(deny.emulator, 'token').at(-1), { status: 200 }, 'Duo answered; the gateway refused the answer');
  matchAll(t, await auditRows(gwDeny, user.id, 'mfa.duo'), [{ outcome: 'error', reason: 'error', detail: { problem: /^username:/ } }]);
});
