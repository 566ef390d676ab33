// The database going away in the middle of a login (through a TCP proxy the test cuts, so the shared server
// is untouched): every request that needs it gets 503 + Retry-After, never a 500, the process keeps running,
// and when the database is back the same login continues to success.
// To cut *inside* a request, the test holds a lock the gateway's next write waits on, then cuts the proxy and
// terminates that backend, as a database restart does. Either the request's writes were one transaction and
// are all gone (the same code then works), or a one-time value (the authorization code) was already spent
// when the rest was cut: it stays spent, the RP is told plainly, nothing is granted, and a fresh attempt
// works. Both are accepted there; a sign-in from the cut request or a second grant never is. A TOTP step is
// spent in the same commit as the sign-in it completes, so a cut TOTP submission always leaves it unspent.
import t, { type Test } from 'tap';
import pg from 'pg';
import * as client from 'openid-client';
import { PG_URL, requirePostgres, freshDb } from '../helpers/db.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { hasStackTrace, readForm } from '../helpers/browser.ts';
import { addUser, oauthFailure, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import {
  AMR_TOTP, alertText, atClient, auditRows, chooseFactor, enrollTotp, freshTotp, idClaims, interactionPage, isChoicePage, login,
  PASSWORD, policyClient, sleep, submitCode, type Flow,
} from '../helpers/mfa.ts';

const url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const app = policyClient('required');
const appNoMfa = policyClient('off', 'app-no-mfa');

if (await requirePostgres(t, 'the outage is made by cutting a TCP proxy in front of PostgreSQL (the embedded PGlite has no connection to cut)', url)) await run();

async function run() {
  const fresh = await freshDb('pg', url);
  t.teardown(() => fresh.drop());
  const direct = fresh.db; // the test's own connection, not through the proxy
  const schemaUrl = new URL(fresh.url!);
  const proxy = await startTcpProxy({ host: schemaUrl.hostname, port: Number(schemaUrl.port || 5432) });
  t.teardown(() => proxy.close());
  schemaUrl.host = `127.0.0.1:${proxy.port}`;
  const gw = await startGateway(t, {
    databaseUrl: schemaUrl.href,
    overrides: { oidc: { clients: [app, appNoMfa] }, security: { ipLimitPerMinute: 10_000 }, database: { connectionTimeoutMs: 500, statementTimeoutMs: 3000 } },
  });

  /** A 503 with Retry-After and the plain "temporarily unavailable" page (or JSON for an API call). */
  async function unavailable(t: Test, res: Response, what: string) {
    t.equal(res.status, 503, `${what}: 503`);
    t.equal(res.headers.get('retry-after'), '5', `${what}: Retry-After`);
    const body = await res.text();
    t.notOk(hasStackTrace(body), `${what}: no internal detail`);
    if ((res.headers.get('content-type') ?? '').includes('html')) t.match(body, /The sign-in service is temporarily unavailable/, `${what}: the user is told plainly`);
    else t.match(JSON.parse(body), { error: 'temporarily_unavailable' }, `${what}: the OAuth error temporarily_unavailable`);
  }
  async function restore(t: Test) {
    await proxy.restore();
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) { ready = (await fetch(`${gw.url}/readyz`)).status === 200; if (!ready) await sleep(100); }
    t.ok(ready, 'ready again after the database came back');
  }
  /**
   * One connection holding a lock (taken by `sql`) that the gateway's next write will wait on. `cutInside` waits
   * until a backend waits on that very lock (`waitingOn`: a pg_locks condition, so no other database's backend
   * is ever picked), then cuts the proxy and terminates that backend, as a database restart does.
   */
  async function holdLock(sql: string, waitingOn: string) {
    const c = new pg.Client({ connectionString: fresh.url });
    c.on('error', () => {});
    await c.connect();
    await c.query('BEGIN');
    await c.query(sql);
    return {
      async cutInside(t: Test, what: string) {
        let pid: number | undefined;
        for (let i = 0; i < 100 && pid === undefined; i++) {
          const r = await direct.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE NOT granted AND ${waitingOn}`);
          pid = r.rows[0]?.pid;
          if (pid === undefined) await sleep(20);
        }
        t.ok(pid, `the gateway is blocked inside the request (${what})`);
        await proxy.cut();
        if (pid) await direct.query('SELECT pg_terminate_backend($1)', [pid]);
        await c.query('ROLLBACK');
        await c.end();
      },
    };
  }
  const lastStep = async (userId: string) => Number((await direct.query<{ last_step: string }>('SELECT last_step FROM mfa_totp WHERE user_id = $1', [userId])).rows[0]!.last_step);
  const codeFormOf = (f: Flow) => readForm(f.page, '/mfa/totp');
  const postCode = (f: Flow, code: string) => { const form = codeFormOf(f); return f.browser.submit(new URL(form.action, gw.url), { ...form.fields, code }); };

  t.test('outage between password and TOTP: 503 at each step, then the same login finishes', async (t) => {
    const user = await addUser(gw, 'pat');
    const { secret } = await enrollTotp(gw, user.id);
    const f = await login(gw, app, 'pat');
    t.ok(isChoicePage(f.page), 'password accepted: the factor choice');
    const choice = f.page;

    await proxy.cut();
    const form = readForm(choice, '/mfa/begin');
    await unavailable(t, await f.browser.submit(new URL(form.action, gw.url), { ...form.fields, factor: 'totp' }), 'choosing TOTP');
    await unavailable(t, await f.browser.navigate(interactionPage(f)), 'reloading the choice');
    t.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'liveness stays 200');
    await restore(t);

    f.page = choice;
    await chooseFactor(f, 'totp');
    t.match(f.url.pathname, /\/mfa\/totp$/, 'the same login continues: the code page');
    const code = await freshTotp(secret);
    const before = await lastStep(user.id);

    await proxy.cut();
    await unavailable(t, await postCode(f, code), 'submitting the code');
    await restore(t);
    t.equal(await lastStep(user.id), before, 'the code was not spent by the failed request');

    const { res } = await submitCode(f, code);
    t.equal(res.status, 303, 'the same code now signs in');
    t.ok(atClient(f));
    t.same((await idClaims(f)).amr, AMR_TOTP);
    t.same((await auditRows(gw, user.id)).map((r) => `${r.type}:${r.outcome}`), ['login.password:success', 'mfa.totp:success'], 'one sign-in, nothing half-recorded');
  });

  t.test('cut inside the TOTP submission: no sign-in from the cut request, the code not spent, the same code finishes the login', async (t) => {
    const user = await addUser(gw, 'quinn');
    const { secret } = await enrollTotp(gw, user.id);
    const f = await login(gw, app, 'quinn');
    await chooseFactor(f, 'totp');
    const code = await freshTotp(secret);
    const before = await lastStep(user.id);
    // The success's audit row is written in the one commit that also spends the step and the challenge and
    // records the sign-in (interaction/mfa/routes.ts): the lock holds that commit, and the cut ends it.
    const lock = await holdLock('LOCK TABLE audit_events IN EXCLUSIVE MODE', `relation = 'audit_events'::regclass`);
    const pending = postCode(f, code);
    await lock.cutInside(t, 'writing the sign-in');
    await unavailable(t, await pending, 'the cut submission');
    await restore(t);

    t.equal(await lastStep(user.id), before, 'the step is spent only with the sign-in: the cut commit spent nothing');
    const { res } = await submitCode(f, code);
    t.equal(res.status, 303);
    t.ok(atClient(f), 'the same code signs in');
    t.same((await idClaims(f)).amr, AMR_TOTP);
    t.same((await auditRows(gw, user.id)).map((r) => `${r.type}:${r.outcome}`),
      ['login.password:success', 'mfa.totp:success'], 'exactly one TOTP success; the cut request left no row');
  });

  t.test('cut inside the password POST\'s commit (its in-process sign-in): 503 without a cookie or a redirect, nothing signed in, then the same form signs in', async (t) => {
    await addUser(gw, 'olive');
    const sessions = async () => Number((await direct.query<{ n: string }>(`SELECT count(*) AS n FROM oidc_models WHERE model = 'Session'`)).rows[0]!.n);
    const rp = await client.discovery(new URL(gw.url), appNoMfa.clientId, appNoMfa.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    const s = await startAuthorize(gw, rp, { scope: 'openid', redirectUri: appNoMfa.redirectUris[0] });
    const page = await s.res.text();
    const before = await sessions();
    // The password step's audit row heads the commit that also records the sign-in (the resume, made
    // in-process: src/interaction/resume-in-process.ts), which is written after the answer was built.
    const lock = await holdLock('LOCK TABLE audit_events IN EXCLUSIVE MODE', `relation = 'audit_events'::regclass`);
    const pending = submitLogin(s.browser, gw, page, 'olive', PASSWORD);
    await lock.cutInside(t, 'writing the sign-in');
    const res = await pending;
    t.notOk(res.headers.get('location'), 'no redirect to the client');
    t.same(res.headers.getSetCookie(), [], 'no cookie of the sign-in that was not written');
    await unavailable(t, res, 'the cut password POST');
    await restore(t);
    t.equal(await sessions(), before, 'no session written');
    const again = await submitLogin(s.browser, gw, page, 'olive', PASSWORD);
    t.equal(again.status, 303);
    t.ok(again.headers.get('location')!.startsWith(`${appNoMfa.redirectUris[0]}?code=`), 'the same form now signs in');
  });

  /** Finishes a login to the point where the RP holds a code. */
  async function toCode(username: string): Promise<Flow> {
    const user = await addUser(gw, username);
    const { secret } = await enrollTotp(gw, user.id);
    const f = await login(gw, app, username);
    await chooseFactor(f, 'totp');
    await submitCode(f, await freshTotp(secret));
    if (!atClient(f)) throw new Error(`expected the client with a code, got ${f.url.href}`);
    return f;
  }
  const redeem = (f: Flow) => client.authorizationCodeGrant(f.rp, f.url, { pkceCodeVerifier: f.verifier, expectedState: f.state, expectedNonce: f.nonce });
  const rawRedeem = (f: Flow) => fetch(`${gw.url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: f.url.searchParams.get('code')!, redirect_uri: f.redirectUri, code_verifier: f.verifier }),
  });
  /** The grant a code belongs to. */
  const grantOf = async (code: string) =>
    (await direct.query<{ grant_id: string }>(`SELECT grant_id FROM oidc_models WHERE model = 'AuthorizationCode' AND id = $1`, [code])).rows[0]!.grant_id;
  /** Rows of a grant by model (`consumed` counts one-time values spent), the Grant itself left out. */
  async function grantRows(grantId: string): Promise<Record<string, number>> {
    const r = await direct.query<{ model: string; n: string; consumed: string }>(`SELECT model, count(*) AS n, count(consumed_at) AS consumed FROM oidc_models
      WHERE grant_id = $1 AND model <> 'Grant' GROUP BY model ORDER BY model`, [grantId]);
    return Object.fromEntries(r.rows.flatMap((row) => [[row.model, Number(row.n)], ...(Number(row.consumed) ? [[`${row.model} consumed`, Number(row.consumed)]] : [])]));
  }

  t.test('outage during the token exchange: 503, then the same code is redeemed once', async (t) => {
    const f = await toCode('ray');
    const grant = await grantOf(f.url.searchParams.get('code')!);
    await proxy.cut();
    await unavailable(t, await rawRedeem(f), 'the token endpoint');
    await restore(t);
    t.same(await grantRows(grant), { AuthorizationCode: 1 }, 'nothing spent or issued during the outage');
    const claims = await idClaims(f);
    t.same(claims.amr, AMR_TOTP, 'the same code is redeemed after the outage');
    t.same(await grantRows(grant), { AccessToken: 1, AuthorizationCode: 1, 'AuthorizationCode consumed': 1 }, 'the code spent once, one access token issued');
    t.match(await oauthFailure(redeem(f)), { error: 'invalid_grant' }, 'and only once');
  });

  t.test('cut inside the token exchange: nothing issued by the cut request; the code redeems once, or is refused and a fresh login works', async (t) => {
    const f = await toCode('sue');
    const grant = await grantOf(f.url.searchParams.get('code')!);
    // Blocks only the access token's INSERT, which oidc-provider runs after consuming the code.
    await direct.query(`CREATE OR REPLACE FUNCTION hold_access_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.model = 'AccessToken' THEN PERFORM pg_advisory_xact_lock(7106); END IF; RETURN NEW; END $$`);
    await direct.query('CREATE TRIGGER hold_access_tokens BEFORE INSERT ON oidc_models FOR EACH ROW EXECUTE FUNCTION hold_access_tokens()');
    t.teardown(() => direct.query('DROP TRIGGER IF EXISTS hold_access_tokens ON oidc_models'));
    const lock = await holdLock('SELECT pg_advisory_xact_lock(7106)', `locktype = 'advisory' AND objid = 7106 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    const pending = rawRedeem(f);
    await lock.cutInside(t, 'writing the access token');
    await unavailable(t, await pending, 'the cut token request');
    await restore(t);
    await direct.query('DROP TRIGGER hold_access_tokens ON oidc_models');

    const rows = await grantRows(grant);
    t.notOk(rows.AccessToken, 'the cut request issued no access token');
    const spent = rows['AuthorizationCode consumed'] === 1;
    t.same(rows, { AuthorizationCode: 1, ...(spent ? { 'AuthorizationCode consumed': 1 } : {}) });
    if (!spent) {
      // The consume and the tokens were one transaction, rolled back together: the same code redeems, once.
      t.same((await idClaims(f)).amr, AMR_TOTP, 'the same code redeems after the outage');
      t.match(await oauthFailure(redeem(f)), { error: 'invalid_grant' }, 'and only once');
    } else {
      // Half-written: the code (a one-time value) is spent without tokens. It stays spent: the RP is told
      // invalid_grant and starts again; the SSO session survived, so a fresh authorization returns a new code.
      t.match(await oauthFailure(redeem(f)), { error: 'invalid_grant' }, 'the spent code is refused: the RP is told to start again');
      t.notOk((await grantRows(grant)).AccessToken, 'still no access token for that grant');
      const again = await login(gw, app, 'sue', { browser: f.browser });
      t.ok(atClient(again), 'a fresh attempt gets a new code (single sign-on, no new password)');
      t.same((await idClaims(again)).amr, AMR_TOTP);
      t.match(await oauthFailure(redeem(again)), { error: 'invalid_grant' }, 'the new code redeems once');
    }
    t.comment(`the cut code was ${spent ? 'spent (RP told invalid_grant, fresh login)' : 'rolled back (same code redeemed)'}`);
  });

  t.test('the gateway survived every cut: no fatal or internal error logged', async (t) => {
    t.notOk(gw.logs.some((l) => /"level":60/.test(l)), 'no fatal log');
    t.same(gw.logs.filter((l) => /GW_ERR_INTERNAL/.test(l)), [], 'no 500');
    t.ok(gw.logs.some((l) => /GW_ERR_DB_UNAVAILABLE/.test(l)), 'the outages were logged as such');
  });
}
