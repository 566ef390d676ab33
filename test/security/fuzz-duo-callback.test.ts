// Property-based fuzzing of the Duo callback while real logins are parked at the Duo step (state stored,
// browser sent to the emulator's prompt): arbitrary `state`, `duo_code` and extra parameters (empty, huge,
// unicode, control characters, repeated, bracketed, truncated or altered real state, the other login's
// state, malformed percent-encoding) never give a 500. Every forged callback lands back at the factor choice
// with `expired` (or a 4xx page with a stable code; 431 from Node beyond 16 KiB), spends neither pending state, and sends nothing to
// Duo's token endpoint. Afterwards each real Duo answer still completes its login, once.
// Runs: 150 by default, GATEHOUSE_FUZZ_RUNS=<n> for a longer search.
import t from 'tap';
import fc from 'fast-check';
import { startGateway } from '../helpers/gateway.ts';
import { addUser } from '../helpers/oidc.ts';
import { hasStackTrace } from '../helpers/browser.ts';
import { authorizeRequest, duoAnswer, duoCalls, openUrl, startDuo, toDuo } from '../helpers/duo.ts';
import { alertText, atClient, idClaims, isChoicePage, policyClient, type Flow } from '../helpers/mfa.ts';

const RUNS = Number(process.env.GATEHOUSE_FUZZ_RUNS) || 150;
const AMR_PUSH = ['pwd', 'swk', 'user', 'mfa'];
const EXPIRED = 'Duo: That attempt expired or was already used. Choose a method below to continue.';

const app = policyClient('required');
const duo = await startDuo(t);
const gw = await startGateway(t, { overrides: { oidc: { clients: [app] }, security: { ipLimitPerMinute: 100_000 }, ...duo.overrides() } });

/** A login parked at the Duo prompt: its flow, the prompt URL, its stored state and its callback path. */
interface Parked { name: string; f: Flow; prompt: URL; state: string; callback: string }
async function park(name: string): Promise<Parked> {
  await addUser(gw, name);
  const f = await toDuo(gw, app, name);
  const rq = authorizeRequest(f.url);
  return { name, f, prompt: new URL(f.url), state: rq.state as string, callback: new URL(rq.redirect_uri as string).pathname };
}
const alice = await park('alice');
const bob = await park('bob');

/** Whether a state is still stored and unspent. */
async function pending(state: string): Promise<boolean> {
  const r = await gw.services.db.query(`SELECT 1 FROM mfa_challenges WHERE id = $1 AND consumed_at IS NULL AND expires_at > now()`, [state]);
  return r.rowCount === 1;
}

const text = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }), // unicode, multi-code-point
  fc.string({ unit: 'binary', maxLength: 64 }), // any code point, control characters and NUL included
  fc.string({ unit: fc.constantFrom('a', '0', '%', '&', '=', '+', '#', '[', ']', '\u0000', '\u202e', '\ud800', 'é'), maxLength: 64 }),
  fc.nat({ max: 6000 }).map((n) => 'x'.repeat(n)), // beyond the 1024 a state may have; several may pass Node's 16 KiB
);

/** A state value: resolved against the target login (its own real state must never be sent as is). */
type StateKind =
  | { k: 'text'; v: string } | { k: 'truncated'; n: number } | { k: 'suffixed'; v: string } | { k: 'upper' } | { k: 'spaced' }
  | { k: 'other' } | { k: 'flipped'; i: number };
const stateKind: fc.Arbitrary<StateKind> = fc.oneof(
  text.map((v) => ({ k: 'text' as const, v })),
  fc.nat({ max: 35 }).map((n) => ({ k: 'truncated' as const, n })),
  fc.string({ minLength: 1, maxLength: 8 }).map((v) => ({ k: 'suffixed' as const, v })),
  fc.constant({ k: 'upper' as const }),
  fc.constant({ k: 'spaced' as const }),
  fc.constant({ k: 'other' as const }),
  fc.nat({ max: 35 }).map((i) => ({ k: 'flipped' as const, i })),
);
function resolve(s: StateKind, own: string, other: string): string {
  switch (s.k) {
    case 'text': return s.v;
    case 'truncated': return own.slice(0, s.n);
    case 'suffixed': return own + s.v;
    case 'upper': return own.toUpperCase();
    case 'spaced': return ` ${own}`;
    case 'other': return other;
    case 'flipped': return own.slice(0, s.i) + (own[s.i] === '0' ? '1' : '0') + own.slice(s.i + 1);
  }
}

/** Query parameters: names (repeatable, so `state` can arrive as an array) and raw, unencoded tails. */
const param = fc.tuple(fc.constantFrom('state', 'duo_code', 'code', 'error', 'error_description', 'state[]', 'state[0]', 'duo_code[]',
  '__proto__', 'constructor', 'toString', 'x', ''), text);
const rawTail = fc.constantFrom('', '&', '%', '%zz', '%E0%A4%A', '%00', 'state', 'state=%', '&&&==&', 'state[a][b]=1', '__proto__[x]=1',
  'constructor[prototype][admin]=1', ';state=x', 'duo_code=%ff%fe', '%C0%AF');

const input = fc.record({
  target: fc.constantFrom('alice', 'bob'),
  state: fc.option(fc.array(stateKind, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  duoCode: fc.option(fc.oneof(text, fc.array(text, { minLength: 2, maxLength: 3 })), { nil: undefined }),
  extra: fc.array(param, { maxLength: 4 }),
  tail: rawTail,
  order: fc.boolean(),
});

t.test(`${RUNS} forged callbacks while two logins wait at Duo`, async (t) => {
  const tokensBefore = duoCalls(duo.emulator, 'token').length;
  const tally = new Map<string, number>();
  /** A failed expectation inside the property: thrown, so fast-check shrinks and reports the input. */
  const expect = (ok: boolean, what: string) => { if (!ok) throw new Error(what); };
  await fc.assert(fc.asyncProperty(input, async (i) => {
    const [own, other] = i.target === 'alice' ? [alice, bob] : [bob, alice];
    const states = (i.state ?? []).map((s) => resolve(s, own.state, other.state));
    // A lone real state would be the genuine callback, not a forgery (repeated, it arrives as an array).
    if (states.length === 1 && states[0] === own.state) states[0] = other.state;
    const q = new URLSearchParams();
    if (i.order) for (const s of states) q.append('state', s);
    if (typeof i.duoCode === 'string') q.append('duo_code', i.duoCode);
    else for (const c of i.duoCode ?? []) q.append('duo_code', c);
    for (const [k, v] of i.extra) q.append(k, v);
    if (!i.order) for (const s of states) q.append('state', s);
    const search = [q.toString(), i.tail].filter(Boolean).join('&');
    const url = new URL(`${own.callback}${search ? `?${search}` : ''}`, gw.url);

    const res = await own.f.browser.get(url);
    const body = await res.text();
    tally.set(String(res.status), (tally.get(String(res.status)) ?? 0) + 1);
    expect(res.status < 500 && !hasStackTrace(body), `no 5xx and no stack trace, got ${res.status}`);
    if (res.status === 431) {
      // Node's own limit on the request line and headers (16 KiB, SECURITY.md "Input limits").
      expect(search.length > 15_000, `431 only beyond the header limit, got it for ${search.length} characters`);
    } else if (res.status === 303) {
      const back = new URL(res.headers.get('location')!, url);
      expect(`${back.pathname}${back.search}` === `${own.callback.replace(/\/mfa\/duo\/callback$/, '')}?failed=expired&factor=duo`,
        `back at the factor choice with expired, got ${back.href}`);
      const choice = await own.f.browser.get(back);
      const page = await choice.text();
      expect(choice.status === 200 && isChoicePage(page) && alertText(page) === EXPIRED, `the choice page with the reason, got ${choice.status} ${alertText(page)}`);
    } else {
      expect(res.status >= 400 && /\bGW_[A-Z_]+\b/.test(body), `a 4xx page with a stable code, got ${res.status}`);
    }
    expect(duoCalls(duo.emulator, 'token').length === tokensBefore, 'a code exchange reached Duo');
    expect((await pending(alice.state)) && (await pending(bob.state)), 'a real state was spent');
  }), { numRuns: RUNS });
  t.equal(duoCalls(duo.emulator, 'token').length, tokensBefore, 'no code exchange reached Duo');
  t.ok((await pending(alice.state)) && (await pending(bob.state)), 'both real states are still pending');
  t.equal([...tally.values()].reduce((a, n) => a + n, 0), RUNS, `${RUNS} forged callbacks, every one answered as expected`);
  t.comment(`callback answers: ${JSON.stringify(Object.fromEntries(tally))}`);
});

for (const who of [alice, bob]) {
  t.test(`afterwards ${who.name}'s real Duo answer signs in, once`, async (t) => {
    who.f.url = who.prompt;
    const cb = await duoAnswer(who.f, duo);
    t.equal(cb.searchParams.get('state'), who.state);
    const tokens = duoCalls(duo.emulator, 'token').length;
    await openUrl(who.f, cb);
    t.ok(atClient(who.f), 'back at the client');
    const claims = await idClaims(who.f);
    t.same(claims.amr, AMR_PUSH);
    t.equal(claims.preferred_username, who.name);
    t.equal(duoCalls(duo.emulator, 'token').length, tokens + 1, 'exactly one code exchange');
    t.notOk(await pending(who.state), 'the state is spent');
    const replay = await who.f.browser.get(cb);
    t.equal(replay.status, 400, 'a replay of the real callback is refused');
    t.match(await replay.text(), /GW_INTERACTION_EXPIRED/);
    t.equal(duoCalls(duo.emulator, 'token').length, tokens + 1, 'no second exchange');
    const successes = await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'mfa.duo' AND outcome = 'success' AND username = $1`, [who.name]);
    t.equal(successes.rows[0]!.n, 1, 'one Duo success audited');
  });
}
