// One-time values stay one-time under concurrency, over real HTTP: 20 parallel redemptions of one
// authorization code or one rotating refresh token give exactly one success, and the reuse revokes the
// grant, so even the winner's tokens die. The adapter's conditional UPDATE is what makes this hold:
// oidc-provider's own `consumed` check runs before any of the parallel requests has consumed anything.
import t from 'tap';
import { startGateway, confidentialClient, type Gateway } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetCallback, loginAndGetTokens } from '../helpers/oidc.ts';

const PARALLEL = 20;
const ROUNDS = 5;
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(confidentialClient.clientId)}:${encodeURIComponent(confidentialClient.clientSecret)}`).toString('base64');

interface Reply { status: number; body: Record<string, unknown> }

async function post(gw: Gateway, path: string, params: Record<string, string>): Promise<Reply> {
  const res = await fetch(new URL(path, gw.url), {
    method: 'POST', body: new URLSearchParams(params),
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}
const token = (gw: Gateway, params: Record<string, string>) => post(gw, '/oidc/token', params);
const introspect = (gw: Gateway, value: string) => post(gw, '/oidc/token/introspection', { token: value });
const refresh = (gw: Gateway, rt: string) => token(gw, { grant_type: 'refresh_token', refresh_token: rt });

/** A fresh authorization code (a new login each time, so every round has its own grant). */
async function freshCode(gw: Gateway) {
  const rp = await discover(gw);
  const r = await loginAndGetCallback(gw, rp, 'alice', 'correct horse battery');
  const code = r.callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${r.callback.href}`);
  return { grant_type: 'authorization_code', code, redirect_uri: r.redirectUri, code_verifier: r.verifier };
}

/** Splits parallel replies into the successes and the error codes of the rest. */
function tally(replies: Reply[]) {
  return {
    ok: replies.filter((r) => r.status === 200),
    errors: replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${String(r.body.error)}`),
  };
}

const gw = await startGateway(t);
await addUser(gw);

t.test('control: without a race the tokens from a code stay live', async (t) => {
  const first = await token(gw, await freshCode(gw));
  t.equal(first.status, 200, 'the code is redeemed');
  t.equal((await introspect(gw, first.body.access_token as string)).body.active, true, 'its access token is active');
  const next = await refresh(gw, first.body.refresh_token as string);
  t.equal(next.status, 200, 'its refresh token works');
  t.equal((await introspect(gw, next.body.access_token as string)).body.active, true, 'the refreshed access token is active');
});

t.test(`${PARALLEL} parallel redemptions of one authorization code: one success, grant revoked`, async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const params = await freshCode(gw);
    const { ok, errors } = tally(await Promise.all(Array.from({ length: PARALLEL }, () => token(gw, params))));
    t.equal(ok.length, 1, `round ${round}: exactly one redemption succeeded`);
    t.same(errors, Array(PARALLEL - 1).fill('400 invalid_grant'), `round ${round}: the other ${PARALLEL - 1} got invalid_grant`);
    const winner = ok[0]?.body ?? {};
    t.type(winner.access_token, 'string', `round ${round}: the winner got an access token`);
    t.same((await introspect(gw, winner.access_token as string)).body, { active: false }, `round ${round}: the winner's access token is revoked`);
    const r = await refresh(gw, winner.refresh_token as string);
    t.same([r.status, r.body.error], [400, 'invalid_grant'], `round ${round}: the winner's refresh token is revoked`);
  }
});

t.test(`${PARALLEL} parallel refreshes of one rotating refresh token: one success, grant revoked`, async (t) => {
  const rp = await discover(gw);
  for (let round = 0; round < ROUNDS; round++) {
    const { tokens } = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery');
    const rt = tokens.refresh_token!;
    const { ok, errors } = tally(await Promise.all(Array.from({ length: PARALLEL }, () => refresh(gw, rt))));
    t.equal(ok.length, 1, `round ${round}: exactly one refresh succeeded`);
    t.same(errors, Array(PARALLEL - 1).fill('400 invalid_grant'), `round ${round}: the other ${PARALLEL - 1} got invalid_grant`);
    const winner = ok[0]?.body ?? {};
    t.type(winner.refresh_token, 'string', `round ${round}: the winner got a rotated refresh token`);
    t.not(winner.refresh_token, rt, `round ${round}: and it is a new one`);
    const again = await refresh(gw, winner.refresh_token as string);
    t.same([again.status, again.body.error], [400, 'invalid_grant'], `round ${round}: the winner's new refresh token is dead too`);
    t.same((await introspect(gw, winner.access_token as string)).body, { active: false }, `round ${round}: the winner's access token is revoked`);
    t.same((await introspect(gw, tokens.access_token)).body, { active: false }, `round ${round}: the original access token is revoked`);
  }
});
