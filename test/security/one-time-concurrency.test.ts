// Every one-time value of the gateway, raced: 20 parallel uses of one value give exactly one success, for
// several rounds (GATEHOUSE_STRESS_ROUNDS raises the default of 3), with zero double-spends, and every loser
// gets a clean refusal (a protocol error or a 4xx page, or the factor choice with its reason), never a 5xx.
// Values: authorization code, rotating refresh token, TOTP step, recovery code, Duo state, SAML AuthnRequest
// ID (the replay cache) and the parked SAML request the Response answers (InResponseTo). CSRF tokens are
// MACs of the interaction and form (src/interaction/csrf.ts), reusable by design: what a form spends is
// one of the values above, so the same form with the same token is raced against one challenge instead.
// One gateway for the file; each round uses a fresh value (and, for the factors, a fresh user).
import t, { type Test } from 'tap';
import * as client from 'openid-client';
import { Browser, readForm, SAME_ORIGIN } from '../helpers/browser.ts';
import { confidentialClient, type Gateway } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetCallback } from '../helpers/oidc.ts';
import { duoAnswer, duoCalls, startDuo } from '../helpers/duo.ts';
import {
  AMR_TOTP, advance, atClient, auditRows, chooseFactor, enrollTotp, freshTotp, idClaims, isChoicePage, login, policyClient,
  submitCode, type Flow,
} from '../helpers/mfa.ts';
import { authnRequestXml, b64, errorCode, keyPair, signXml, spConfig, startSamlGateway } from '../saml/helpers.ts';
import { PARALLEL, raceRounds, type RaceSummary, type Shot } from './race.ts';

const PASSWORD = 'correct horse battery';
const app = policyClient('required');
/** A sign-in: the step's POST resumed the authorization in-process and sends the browser to the client with a code. */
const signsIn = (res: Response) => res.status === 303 && (res.headers.get('location') ?? '').startsWith(`${app.redirectUris[0]}?code=`);
const duo = await startDuo(t);
const gw: Gateway = await startSamlGateway(t, [await spConfig({ requireSignedRequests: true })], {
  overrides: {
    oidc: { clients: [confidentialClient, app] },
    // All traffic comes from 127.0.0.1, and each race makes 19 failures on purpose: neither the per-IP limit
    // nor the account lockout may decide a race (a fresh user per round keeps the counts apart anyway).
    security: { ipLimitPerMinute: 100_000, lockoutThreshold: 100 },
    ...duo.overrides({ factors: ['duo', 'totp'] }),
  },
});
await addUser(gw, 'alice', PASSWORD);
const report: RaceSummary[] = [];
let users = 0;
const freshUser = async (prefix: string) => addUser(gw, `${prefix}-${++users}`, PASSWORD);

// ---- OIDC: authorization code and refresh token ------------------------------------------------------

const basic = `Basic ${Buffer.from(`${confidentialClient.clientId}:${confidentialClient.clientSecret}`).toString('base64')}`;

/** A token endpoint call as the client: the HTTP status and the OAuth error (or the tokens). */
async function tokenCall(params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL('/oidc/token', gw.url), {
    method: 'POST', body: new URLSearchParams(params),
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}
const tokenShot = async (params: Record<string, string>): Promise<Shot> => {
  const r = await tokenCall(params);
  return { won: r.status === 200 && typeof r.body.access_token === 'string', status: r.status, outcome: `${r.status} ${String(r.body.error)}` };
};
const rp = await discover(gw);

t.test('authorization code', async (t) => {
  report.push(await raceRounds(t, 'authorization code', {
    loserOutcomes: ['400 invalid_grant'],
    async arm() {
      const r = await loginAndGetCallback(gw, rp, 'alice', PASSWORD);
      const params = { grant_type: 'authorization_code', code: r.callback.searchParams.get('code')!, redirect_uri: r.redirectUri, code_verifier: r.verifier };
      return { fire: () => tokenShot(params) };
    },
  }));
});

t.test('rotating refresh token', async (t) => {
  report.push(await raceRounds(t, 'refresh token', {
    loserOutcomes: ['400 invalid_grant'],
    async arm() {
      const r = await loginAndGetCallback(gw, rp, 'alice', PASSWORD);
      const tokens = await client.authorizationCodeGrant(rp, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
      const rt = tokens.refresh_token!;
      return {
        fire: () => tokenShot({ grant_type: 'refresh_token', refresh_token: rt }),
        async after(t, _shots, round) {
          const again = await tokenCall({ grant_type: 'refresh_token', refresh_token: rt });
          t.same([again.status, again.body.error], [400, 'invalid_grant'], `round ${round + 1}: the raced refresh token stays spent`);
        },
      };
    },
  }));
});

// ---- MFA: TOTP step, recovery code, Duo state -----------------------------------------------------------

/** Logs in with the password and chooses a factor whose form the user then stands on. */
async function atForm(username: string, factor: 'totp' | 'recovery'): Promise<Flow> {
  const f = await login(gw, app, username);
  if (!isChoicePage(f.page)) throw new Error(`expected the factor choice, got ${f.status} ${f.url.pathname}`);
  await chooseFactor(f, factor);
  if (!f.page.includes(`/mfa/${factor}"`)) throw new Error(`expected the ${factor} form, got ${f.status} ${f.url.pathname}`);
  return f;
}

/** One submission of a code on a flow's form: won when the flow reached the client with an authorization code. */
async function codeShot(f: Flow, code: string): Promise<Shot> {
  const { res } = await submitCode(f, code);
  const failed = f.url.searchParams.get('failed');
  return { won: atClient(f), status: res.status, outcome: `${res.status}${failed ? ` failed=${failed}` : ''}` };
}

/** After a factor race: the winner's ID token claims the factor, and the audit has one success and 19 failures. */
async function factorAftermath(t: Test, flows: Flow[], userId: string, type: string, round: number) {
  const winner = flows.find(atClient);
  if (winner) t.same((await idClaims(winner)).amr, AMR_TOTP, `round ${round + 1}: the winner's ID token says pwd otp mfa`);
  const rows = await auditRows(gw, userId, type);
  t.equal(rows.filter((r) => r.outcome === 'success').length, 1, `round ${round + 1}: one success audited`);
  t.equal(rows.filter((r) => r.outcome === 'failure').length, PARALLEL - 1, `round ${round + 1}: ${PARALLEL - 1} failures audited`);
}

t.test('TOTP step: one code in 20 parallel challenges of one user', async (t) => {
  report.push(await raceRounds(t, 'TOTP step', {
    loserOutcomes: ['401'],
    async arm() {
      const user = await freshUser('totp');
      const { secret } = await enrollTotp(gw, user.id);
      const flows = await Promise.all(Array.from({ length: PARALLEL }, () => atForm(user.username, 'totp')));
      const code = await freshTotp(secret);
      return {
        fire: (i) => codeShot(flows[i]!, code),
        after: (t, _s, round) => factorAftermath(t, flows, user.id, 'mfa.totp', round),
      };
    },
  }));
});

t.test('recovery code: one code in 20 parallel challenges of one user', async (t) => {
  report.push(await raceRounds(t, 'recovery code', {
    loserOutcomes: ['401'],
    async arm() {
      const user = await freshUser('rec');
      const { recoveryCodes } = await enrollTotp(gw, user.id);
      const flows = await Promise.all(Array.from({ length: PARALLEL }, () => atForm(user.username, 'recovery')));
      return {
        fire: (i) => codeShot(flows[i]!, recoveryCodes[0]!),
        async after(t, shots, round) {
          await factorAftermath(t, flows, user.id, 'mfa.recovery', round);
          t.equal(await gw.services.mfa.recovery.remaining(user.id), recoveryCodes.length - 1, `round ${round + 1}: exactly one code spent`);
        },
      };
    },
  }));
});

t.test('Duo state: one callback opened 20 times in parallel', async (t) => {
  report.push(await raceRounds(t, 'Duo state', {
    // The state is consumed first: a loser is sent back to the choice (expired), or, once the winner has
    // finished the interaction, finds the interaction gone.
    loserOutcomes: ['303 failed=expired', '400 GW_INTERACTION_EXPIRED'],
    async arm() {
      const user = await freshUser('duo');
      const f = await login(gw, app, user.username);
      if (!f.url.pathname.endsWith('/oauth/v1/authorize')) throw new Error(`expected the Duo prompt, got ${f.status} ${f.url.href}`);
      const cb = await duoAnswer(f, duo);
      const exchanges = duoCalls(duo.emulator, 'token').length;
      let winner: Response | undefined;
      return {
        async fire() {
          const res = await f.browser.get(cb);
          const location = res.headers.get('location') ?? '';
          const won = signsIn(res);
          if (won) winner = res;
          const failed = new URL(location || '/', gw.url).searchParams.get('failed');
          const body = res.status >= 400 ? await res.text() : '';
          return { won, status: res.status, outcome: `${res.status}${failed ? ` failed=${failed}` : ''}${/GW_[A-Z_]+/.exec(body)?.[0] ? ` ${/GW_[A-Z_]+/.exec(body)![0]}` : ''}` };
        },
        async after(t, _shots, round) {
          t.equal(duoCalls(duo.emulator, 'token').length, exchanges + 1, `round ${round + 1}: exactly one code exchange reached Duo`);
          const rows = await auditRows(gw, user.id, 'mfa.duo');
          t.equal(rows.filter((r) => r.outcome === 'success').length, 1, `round ${round + 1}: one success audited`);
          t.equal(rows.filter((r) => r.reason === 'expired').length, rows.length - 1, `round ${round + 1}: every other audit row says expired`);
          if (winner) {
            await advance(f, winner, cb);
            t.ok(atClient(f), `round ${round + 1}: the winner reaches the client`);
          }
        },
      };
    },
  }));
});

t.test('the same MFA form (one CSRF token, one challenge) posted 20 times at once: never two sign-ins', async (t) => {
  // Not every post can be a fair contender here: the challenge allows maxAttempts tries, and a post beyond
  // them ends the challenge. So at most one succeeds (possibly none, when the end comes first); never two.
  report.push(await raceRounds(t, 'TOTP form replay (same CSRF token)', {
    expectWins: [0, 1],
    // A post after the winner's finds the interaction ended (the winner's commit ended it with the sign-in)
    // and starts the authorization request again (src/interaction/restart.ts), which is no sign-in.
    loserOutcomes: ['401', '303 failed=too_many_attempts', '303 failed=expired', '303 restart'],
    async arm() {
      const user = await freshUser('form');
      const { secret } = await enrollTotp(gw, user.id);
      const f = await atForm(user.username, 'totp');
      const form = readForm(f.page, '/mfa/totp');
      const action = new URL(form.action, gw.url);
      const code = await freshTotp(secret);
      return {
        async fire() {
          const res = await f.browser.post(action, { ...form.fields, code });
          const location = res.headers.get('location') ?? '';
          const failed = new URL(location || '/', gw.url).searchParams.get('failed');
          const gwCode = res.status === 400 ? /GW_[A-Z_]+/.exec(await res.text())?.[0] : undefined;
          const restart = location.startsWith('/oidc/auth?') ? ' restart' : '';
          return { won: signsIn(res), status: res.status, outcome: `${res.status}${failed ? ` failed=${failed}` : ''}${gwCode ? ` ${gwCode}` : ''}${restart}` };
        },
        async after(t, shots, round) {
          const rows = await auditRows(gw, user.id, 'mfa.totp');
          t.equal(rows.filter((r) => r.outcome === 'success').length, shots.filter((s) => s.won).length, `round ${round + 1}: successes audited as they happened`);
        },
      };
    },
  }));
});

// ---- SAML: AuthnRequest ID and the parked request --------------------------------------------------------

const sso = `${gw.url}/saml/sso`;
const kp = await keyPair(0);
const signedRequest = (id: string) => b64(signXml(authnRequestXml(gw, { id }), kp));
let requestIds = 0;
const samlSuccesses = async () => (await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'saml.sso' AND outcome = 'success'`)).rows[0]!.n;
const assertionsCounted = async () => (await gw.services.metrics.issued.get()).values.find((v) => v.labels.kind === 'saml_assertion')?.value ?? 0;

/**
 * A race whose winner gets the auto-post page: `send` fires one request; `after` checks that one successful
 * Response answering `id` was issued, audited and counted once.
 */
async function oneResponse(id: string, send: () => Promise<Response>) {
  const responses: string[] = [];
  const before = await samlSuccesses();
  const counted = await assertionsCounted();
  return {
    async fire() {
      const res = await send();
      const page = await res.text();
      const won = res.status === 200 && page.includes('id="saml-post"');
      if (won) responses.push(readForm(page).fields.SAMLResponse!);
      return { won, status: res.status, outcome: won ? '200' : `${res.status} ${errorCode(page)}` };
    },
    async after(t: Test, round: number) {
      t.equal(responses.length, 1, `round ${round + 1}: one Response issued`);
      const xml = Buffer.from(responses[0] ?? '', 'base64').toString('utf8');
      t.match(xml, `InResponseTo="${id}"`, `round ${round + 1}: it answers the request`);
      t.match(xml, 'urn:oasis:names:tc:SAML:2.0:status:Success', `round ${round + 1}: a successful Response`);
      t.equal(await samlSuccesses(), before + 1, `round ${round + 1}: one sign-in audited`);
      t.equal(await assertionsCounted(), counted + 1, `round ${round + 1}: one assertion counted in gatehouse_issued_total`);
    },
  };
}

t.test('SAML AuthnRequest ID: one signed request posted 20 times in parallel', async (t) => {
  report.push(await raceRounds(t, 'SAML request ID', {
    loserOutcomes: ['400 GW_SAML_REPLAY'],
    async arm() {
      const id = `_race${++requestIds}_${Date.now()}`;
      const SAMLRequest = signedRequest(id);
      return {
        async fire() {
          const res = await new Browser().post(sso, { SAMLRequest, RelayState: 'rs' }, SAME_ORIGIN); // the post that parks
          const location = res.headers.get('location') ?? '';
          const won = res.status === 303 && location.startsWith(`${gw.url}/oidc/auth?`);
          return { won, status: res.status, outcome: won ? '303' : `${res.status} ${errorCode(await res.text())}` };
        },
        async after(t, _s, round) {
          const parked = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM saml_requests WHERE request_id = $1', [id]);
          t.equal(parked.rows[0]!.n, 1, `round ${round + 1}: exactly one login parked for the request`);
          t.ok(gw.logs.some((l) => l.includes('saml request refused: GW_SAML_REPLAY')), `round ${round + 1}: the replays are logged`);
        },
      };
    },
  }));
});

t.test('SAML AuthnRequest ID from a signed-in browser (answered in-process): one request posted 20 times in parallel', async (t) => {
  // A browser with a gateway session gets the Response from /saml/sso itself (saml/inline-authorize.ts): the
  // message ID's first use, the code issued and redeemed inside the request and the sign-in are one commit.
  const browser = new Browser();
  const isPost = (page: string) => page.includes('id="saml-post"');
  const first = await browser.follow(await browser.post(sso, { SAMLRequest: signedRequest(`_signin${++requestIds}_${Date.now()}`), RelayState: 'rs' }, SAME_ORIGIN), gw.url);
  const form = readForm(await first.res.text(), '/login');
  const action = new URL(form.action, gw.url);
  const done = await browser.follow(await browser.post(action, { ...form.fields, username: 'alice', password: PASSWORD }), action);
  t.ok(isPost(await done.res.text()), 'signed in through the login form');
  report.push(await raceRounds(t, 'SAML request ID, signed in', {
    loserOutcomes: ['400 GW_SAML_REPLAY'],
    async arm() {
      const id = `_inline${++requestIds}_${Date.now()}`;
      const SAMLRequest = signedRequest(id);
      const codes = async () => (await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'AuthorizationCode'`)).rows[0]!.n;
      const codesBefore = await codes();
      const race = await oneResponse(id, () => browser.post(sso, { SAMLRequest, RelayState: 'rs' }));
      return {
        fire: race.fire,
        async after(t, _s, round) {
          await race.after(t, round);
          const parked = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM saml_requests WHERE request_id = $1', [id]);
          t.equal(parked.rows[0]!.n, 0, `round ${round + 1}: nothing parked`);
          t.equal(await codes(), codesBefore, `round ${round + 1}: no authorization code written, by the winner or a loser`);
        },
      };
    },
  }));
});

t.test('SAML parked request (InResponseTo): the return from the login opened 20 times in parallel', async (t) => {
  report.push(await raceRounds(t, 'SAML parked request', {
    loserOutcomes: ['400 GW_SAML_EXPIRED'],
    async arm() {
      const id = `_park${++requestIds}_${Date.now()}`;
      const browser = new Browser();
      const isContinue = (u: URL) => u.pathname === '/saml/continue';
      let step = await browser.follow(await browser.post(sso, { SAMLRequest: signedRequest(id), RelayState: 'rs' }, SAME_ORIGIN), gw.url, isContinue);
      if (!isContinue(step.url)) {
        const form = readForm(await step.res.text(), '/login');
        const action = new URL(form.action, gw.url);
        step = await browser.follow(await browser.post(action, { ...form.fields, username: 'alice', password: PASSWORD }), action, isContinue);
      }
      if (!isContinue(step.url)) throw new Error(`expected the return to /saml/continue, got ${step.res.status} ${step.url.href}`);
      const back = step.url;
      const race = await oneResponse(id, () => browser.get(back));
      return { fire: race.fire, after: (t, _s, round) => race.after(t, round) };
    },
  }));
});

t.test('report', async (t) => {
  t.equal(report.length, 9, 'every one-time value was raced');
  for (const r of report) t.comment(`${r.value.padEnd(36)} ${r.rounds} rounds x ${r.parallel}: ${r.wins} successes, ${r.doubleSpends} double-spends`);
  t.notOk(gw.logs.some((l) => /"status":5\d\d/.test(l)), 'no 5xx in the request log');
  t.notOk(gw.logs.some((l) => l.includes('GW_ERR_INTERNAL')), 'no internal error logged');
});

