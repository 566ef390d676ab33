// Duo misbehaving, seen through a whole login (the emulator-level faults are in tools/duo-emulator/test; down,
// hang and HTTP 500 before the redirect in test/mfa/duo-failmode.test.ts; HTTP 500 at the exchange in
// test/mfa/duo.test.ts). Here: garbage (not JSON, the wrong JSON, an id_token with a bad signature), a hang at
// the code exchange beyond the gateway's deadline, and clock skew (Duo's clock off far enough that it refuses
// our client assertion; Duo's id_token expired beyond and within the SDK's 60 s leeway), each for a client in
// fail mode closed and one in open.
//  - Before the redirect (the health check) a failure is an availability failure: closed hides Duo and TOTP
//    signs in; open lets the user through without claiming MFA, audited as fail-open.
//  - At the code exchange every failure denies, whatever the fail mode: back at the factor choice with a plain
//    reason, audited as an error, no fail-open, TOTP still works. A bad or expired id_token never passes.
// Answers that the emulator cannot give (the wrong JSON shape, an id_token stamped with another clock) come from
// a TLS relay in front of the emulator that rewrites Duo's answer: the relay owns the API host name (127.0.0.1:P)
// and the emulator listens on 127.0.0.2:P, so every audience and issuer the real SDK checks stays Duo's own.
import t, { type Test } from 'tap';
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { decodeJwt, SignJWT } from 'jose';
import { startGateway, freePort } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { duoCalls, openUrl, startDuo, toDuo, visitDuo } from '../helpers/duo.ts';
import {
  ACR_PASSWORD, AMR_TOTP, advance, alertText, atClient, auditRows, chooseFactor, choiceButtons, enrollTotp, freshTotp, idClaims,
  isChoicePage, login, matchAll, mfaCount, policyClient, submitCode, type Flow,
} from '../helpers/mfa.ts';
import { createTestCa } from '../../tools/duo-emulator/test-ca.ts';
import { createSdkDuoClient } from '../../src/mfa/duo/duo-client.ts';

const TIMEOUT_MS = 1500;
const AMR_PUSH = ['pwd', 'swk', 'user', 'mfa'];
const closed = policyClient('required', 'app-duo-closed', { duoFailMode: 'closed' });
const open = policyClient('required', 'app-duo-open', { duoFailMode: 'open' });
const MODES = { closed, open } as const;

// ---- the relay: Duo's answers passed through, or rewritten by the current test --------------------------------

type Answer = { status: number; type: string; body: string };
let rewrite: ((path: string, a: Answer) => Answer | Promise<Answer>) | undefined;
const relayPort = await freePort();
const relayTls = await createTestCa();
const duo = await startDuo(t, { host: '127.0.0.2', hostname: '127.0.0.1', port: relayPort });
const relay = https.createServer({ key: relayTls.keyPem, cert: relayTls.certPem }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const up = https.request({
      host: '127.0.0.2', port: relayPort, path: req.url, method: req.method, headers: req.headers, agent: false, ca: duo.emulator.caPem,
      checkServerIdentity: (_h, cert) => tls.checkServerIdentity('127.0.0.1', cert),
    }, (ur: IncomingMessage) => {
      const body: Buffer[] = [];
      ur.on('data', (c: Buffer) => body.push(c));
      ur.on('end', async () => {
        const got: Answer = { status: ur.statusCode ?? 502, type: String(ur.headers['content-type'] ?? ''), body: Buffer.concat(body).toString('utf8') };
        const a = rewrite ? await rewrite(new URL(req.url ?? '/', 'https://x').pathname, got) : got;
        const headers: Record<string, string> = { 'content-type': a.type };
        if (ur.headers.location) headers.location = ur.headers.location;
        res.writeHead(a.status, headers).end(a.body);
      });
    });
    up.on('error', () => res.destroy()); // the emulator hung up (hang fault at teardown, or down)
    up.end(Buffer.concat(chunks));
  });
});
await new Promise<void>((resolve) => relay.listen(relayPort, '127.0.0.1', resolve));
t.teardown(() => { relay.closeAllConnections(); relay.close(); });

/** Rewrites the token endpoint's JSON answer for the rest of this test. */
function tamperToken(t: Test, change: (json: Record<string, unknown>) => unknown | Promise<unknown>) {
  rewrite = async (path, a) => (path === '/oauth/v1/token' && a.status === 200 ? { ...a, body: JSON.stringify(await change(JSON.parse(a.body))) } : a);
  t.teardown(() => { rewrite = undefined; });
}
/** Duo's id_token re-signed with Duo's key after moving its iat and exp by `seconds` (a Duo clock that far off). */
async function shiftIdToken(json: Record<string, unknown>, seconds: number) {
  const claims = decodeJwt(json.id_token as string);
  const moved = { ...claims, iat: claims.iat! + seconds, exp: claims.exp! + seconds };
  return { ...json, id_token: await new SignJWT(moved).setProtectedHeader({ alg: 'HS512', typ: 'JWT' }).sign(new TextEncoder().encode(duo.emulator.clientSecret)) };
}

const gw = await startGateway(t, {
  overrides: { oidc: { clients: [closed, open] }, security: { ipLimitPerMinute: 10_000 }, ...duo.overrides({ failMode: 'closed', timeoutMs: TIMEOUT_MS }) },
  // The real SDK-backed client, trusting the relay's CA instead of the emulator's.
  duoClient: createSdkDuoClient({ clientId: duo.emulator.clientId, clientSecret: duo.emulator.clientSecret, apiHost: duo.emulator.apiHost, timeoutMs: TIMEOUT_MS, caPem: relayTls.caPem }),
});

let n = 0;
async function userWithTotp(prefix: string) {
  const username = `${prefix}-${++n}`;
  const user = await addUser(gw, username);
  const { secret } = await enrollTotp(gw, user.id);
  return { username, user, secret };
}
/** The browser's visit to Duo (through the relay): the callback it is sent back to. */
async function duoCallback(f: Flow): Promise<URL> {
  const hop = await visitDuo(f.url, relayTls.caPem);
  if (hop.status !== 302 || !hop.location) throw new Error(`Duo answered ${hop.status}: ${hop.body.slice(0, 200)}`);
  return new URL(hop.location);
}

t.test('the relay is transparent: a plain Duo login through it signs in with MFA', async (t) => {
  const { username } = await userWithTotp('clean');
  const f = await toDuo(gw, closed, username);
  await openUrl(f, await duoCallback(f));
  t.ok(atClient(f));
  t.same((await idClaims(f)).amr, AMR_PUSH);
  t.notOk(duo.emulator.requests.some((r) => r.error), 'the emulator accepted every call (audiences and issuer are Duo\'s own)');
});

// ---- before the redirect: availability failures ----------------------------------------------------------------

// `refused`: Duo answered and refused us (credentials, clock): a misconfiguration, which never fails open.
const HEALTH_FAULTS: Record<string, { inject: (t: Test) => void; problem: RegExp; refused?: boolean }> = {
  'not JSON (truncated body)': { inject: (t) => { duo.emulator.setFault('bad_json'); t.teardown(() => duo.emulator.setFault(null)); }, problem: /^response:/ },
  'the wrong JSON (no stat)': {
    inject: (t) => {
      rewrite = (path, a) => (path === '/oauth/v1/health_check' ? { ...a, status: 200, type: 'application/json', body: '{"status":"OK","response":[]}' } : a);
      t.teardown(() => { rewrite = undefined; });
    },
    problem: /^response:/,
  },
  'Duo clock 400 s slow (our assertion looks issued in the future)': {
    inject: (t) => { duo.emulator.setClockOffset(-400); t.teardown(() => duo.emulator.setClockOffset(0)); }, problem: /^credentials:/, refused: true,
  },
};

for (const [fault, { inject, problem, refused }] of Object.entries(HEALTH_FAULTS)) {
  const closedModes = refused ? [closed, open] : [closed];
  for (const client of closedModes) t.test(`health check answers ${fault}, fail mode ${client === open ? 'open (refused: stays closed)' : 'closed'}: Duo unavailable, TOTP signs in`, async (t) => {
    const { username, user, secret } = await userWithTotp('hc');
    inject(t);
    const f = await login(gw, client, username);
    t.ok(isChoicePage(f.page), 'the factor choice');
    t.same(choiceButtons(f.page), { duo: false, totp: true, recovery: true }, 'Duo disabled');
    await chooseFactor(f, 'duo');
    t.equal(alertText(f.page), 'Duo: That method is unavailable right now. Choose a method below to continue.', 'a stale Duo click explains itself');
    matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'error', reason: 'unavailable', detail: { problem } }]);
    await chooseFactor(f, 'totp');
    await submitCode(f, await freshTotp(secret));
    t.same((await idClaims(f)).amr, AMR_TOTP);
  });

  if (!refused) t.test(`health check answers ${fault}, fail mode open: through without MFA, audited as fail-open`, async (t) => {
    const { username, user } = await userWithTotp('hco');
    inject(t);
    const before = await mfaCount(gw, { factor: 'duo', result: 'fail-open' });
    const tokens = duoCalls(duo.emulator, 'token').length;
    const f = await login(gw, open, username);
    await chooseFactor(f, 'duo');
    t.ok(atClient(f), 'signed in');
    const claims = await idClaims(f);
    t.same(claims.amr, ['pwd'], 'no MFA claimed');
    t.equal(claims.acr, ACR_PASSWORD);
    matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'fail-open', reason: 'fail-open', client_id: open.clientId, detail: { amr: ['pwd'], problem } }]);
    t.equal(await mfaCount(gw, { factor: 'duo', result: 'fail-open' }), before + 1, 'counted');
    t.equal(duoCalls(duo.emulator, 'token').length, tokens, 'no code exchange');
  });
}

// ---- at the code exchange: every failure denies ------------------------------------------------------------------

// `healthToo`: the emulator fault also breaks the health check, so a closed client then shows Duo disabled.
const EXCHANGE_FAULTS: Record<string, { inject: (t: Test) => void; problem: RegExp; healthToo?: boolean }> = {
  'hangs beyond the deadline': { inject: (t) => { duo.emulator.setFault('hang'); t.teardown(() => duo.emulator.setFault(null)); }, problem: /^timeout:/, healthToo: true },
  'answers not JSON': { inject: (t) => { duo.emulator.setFault('bad_json'); t.teardown(() => duo.emulator.setFault(null)); }, problem: /^response:/, healthToo: true },
  'answers JSON without an id_token': { inject: (t) => tamperToken(t, ({ id_token: _, ...rest }) => rest), problem: /^response:/ },
  'answers token_type "bearer" (lower case)': { inject: (t) => tamperToken(t, (j) => ({ ...j, token_type: 'bearer' })), problem: /^response:/ },
  'answers an id_token that is not a JWT': { inject: (t) => tamperToken(t, (j) => ({ ...j, id_token: 'not.a.jwt' })), problem: /^token:/ },
  'signs the id_token with another key': { inject: (t) => { duo.emulator.setFault('wrong_signing_key'); t.teardown(() => duo.emulator.setFault(null)); }, problem: /^token:/ },
  'answers with a signed id_token for another user': { inject: (t) => { duo.emulator.setFault('wrong_username'); t.teardown(() => duo.emulator.setFault(null)); }, problem: /^username:/ },
  'signs an id_token with alg none': {
    inject: (t) => tamperToken(t, (j) => {
      const [, payload] = (j.id_token as string).split('.');
      return { ...j, id_token: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.` };
    }),
    problem: /^token:/,
  },
  'stamps the id_token expired 90 s ago (beyond the 60 s leeway)': { inject: (t) => tamperToken(t, (j) => shiftIdToken(j, -(300 + 90))), problem: /^token:/ },
};

for (const [fault, { inject, problem, healthToo }] of Object.entries(EXCHANGE_FAULTS)) {
  for (const [mode, c] of Object.entries(MODES)) {
    t.test(`Duo ${fault} at the code exchange, fail mode ${mode}: denied with the reason, no fail-open, TOTP signs in`, async (t) => {
      const { username, user, secret } = await userWithTotp(`x${mode}`);
      const failOpen = await mfaCount(gw, { factor: 'duo', result: 'fail-open' });
      const tokens = duoCalls(duo.emulator, 'token').length;
      const f = await toDuo(gw, c, username);
      const cb = await duoCallback(f);
      inject(t);
      const started = Date.now();
      const res = await f.browser.get(cb);
      const took = Date.now() - started;
      t.equal(res.status, 303, 'the callback answers with a redirect, not an error');
      t.ok(took < TIMEOUT_MS + 1500, `answered within the deadline (${took} ms)`);
      await advance(f, res, cb);
      t.notOk(atClient(f), 'nothing signed in');
      t.equal(f.status, 200);
      t.ok(isChoicePage(f.page), 'back at the factor choice');
      t.equal(f.url.searchParams.get('failed'), 'error');
      t.equal(alertText(f.page), 'Duo: Something went wrong with that method. Choose a method below to continue.');
      const duoShown = !(healthToo && mode === 'closed');
      t.same(choiceButtons(f.page), { duo: duoShown, totp: true, recovery: true }, duoShown ? 'every factor offered again' : 'Duo disabled while its health check fails too');
      t.equal(duoCalls(duo.emulator, 'token').length, tokens + 1, 'exactly one exchange was tried');
      matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'error', reason: 'error', factor: 'duo', client_id: c.clientId, detail: { problem } }]);
      t.equal(await mfaCount(gw, { factor: 'duo', result: 'fail-open' }), failOpen, 'never fail-open after the redirect');
      // The callback cannot be retried into a success once Duo recovers: its state is spent.
      duo.emulator.setFault(null);
      rewrite = undefined;
      await openUrl(f, cb);
      t.equal(f.url.searchParams.get('failed'), 'expired', 'the same callback again: expired');
      await chooseFactor(f, 'totp');
      await submitCode(f, await freshTotp(secret));
      t.same((await idClaims(f)).amr, AMR_TOTP, 'TOTP still signs in');
    });
  }
}

t.test('Duo\'s id_token expired 30 s ago (within the SDK\'s 60 s leeway): accepted as MFA', async (t) => {
  const { username, user } = await userWithTotp('leeway');
  const f = await toDuo(gw, closed, username);
  const cb = await duoCallback(f);
  tamperToken(t, (j) => shiftIdToken(j, -(300 + 30)));
  await openUrl(f, cb);
  t.ok(atClient(f), 'signed in');
  t.same((await idClaims(f)).amr, AMR_PUSH);
  matchAll(t, await auditRows(gw, user.id, 'mfa.duo'), [{ outcome: 'success' }]);
});

t.test('no 500 and no internal error in the whole file', async (t) => {
  t.same(gw.logs.filter((l) => /GW_ERR_INTERNAL|"level":(50|60)/.test(l)), []);
});
