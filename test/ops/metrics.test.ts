// /metrics: what an operator graphs (logins by protocol and result, lockouts, tokens and assertions
// issued, HTTP latency by route, pool use), the bearer-token guard, and the separate metrics port.
import t, { type Test } from 'tap';
import { freePort, startGateway, type Gateway } from '../helpers/gateway.ts';
import { addUser, discover, loginAndGetTokens, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import { loadConfig, ConfigError } from '../../src/config/load.ts';
import { spConfig, startSamlGateway, nodeSamlSp, redirectLogin, withUser } from '../saml/helpers.ts';

const scrape = async (url: string, token?: string) => {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
};

/** The value of one sample, e.g. value(text, 'gatehouse_logins_total', { protocol: 'oidc', result: 'success' }). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

t.test('after OIDC logins: counters by protocol and result, lockouts, issued tokens, latency by route', async (t) => {
  const gw = await startGateway(t, { overrides: { security: { lockoutThreshold: 2, lockoutSeconds: 60 } } });
  await addUser(gw, 'alice', 'correct horse battery');
  await addUser(gw, 'bob', 'correct horse battery');
  const rp = await discover(gw);
  await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid' });
  // Two wrong passwords lock bob (threshold 2); the third attempt is refused without checking.
  for (let i = 0; i < 3; i++) {
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    await (await submitLogin(s.browser, gw, await s.res.text(), 'bob', 'wrong password!')).arrayBuffer();
  }
  const { status, text } = await scrape(`${gw.url}/metrics`);
  t.equal(status, 200);
  t.equal(value(text, 'gatehouse_logins_total', { protocol: 'oidc', result: 'success' }), 1, 'one successful OIDC password step');
  t.equal(value(text, 'gatehouse_logins_total', { protocol: 'oidc', result: 'failure' }), 2, 'two wrong passwords');
  t.equal(value(text, 'gatehouse_logins_total', { protocol: 'oidc', result: 'denied' }), 1, 'one refused while locked');
  t.equal(value(text, 'gatehouse_throttle_events_total', { kind: 'lockout' }), 1, 'the lockout counted once');
  t.equal(value(text, 'gatehouse_throttle_events_total', { kind: 'account_locked' }), 1, 'the refused attempt counted');
  t.ok((value(text, 'gatehouse_issued_total', { kind: 'access_token' }) ?? 0) >= 1, 'access tokens issued');
  t.ok((value(text, 'gatehouse_issued_total', { kind: 'authorization_code' }) ?? 0) >= 1, 'authorization codes issued');
  t.ok((value(text, 'gatehouse_http_request_duration_seconds_count', { route: '/interaction/:uid/login', method: 'POST', status: '303' }) ?? 0) >= 1, 'latency by route template, not by raw URL');
  t.notMatch(text, /route="\/interaction\/[A-Za-z0-9_-]{10,}/, 'no interaction uid in a label (unbounded cardinality)');
  t.ok(value(text, 'gatehouse_db_pool_connections', { state: 'total' }) !== undefined, 'database pool use');
  t.ok(value(text, 'gatehouse_process_resident_memory_bytes') !== undefined, 'process metrics');
});

t.test('SAML logins are counted as SAML, assertions as issued', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig({ mfa: 'off' })]);
  await withUser(gw);
  const sp = await nodeSamlSp(gw);
  const posted = await redirectLogin(gw, sp);
  t.ok(posted.fields.SAMLResponse, 'the SP received a response');
  const { text } = await scrape(`${gw.url}/metrics`);
  t.equal(value(text, 'gatehouse_logins_total', { protocol: 'saml', result: 'success' }), 1);
  t.equal(value(text, 'gatehouse_issued_total', { kind: 'saml_assertion' }), 1);
});

t.test('metrics.token: 401 without the bearer token, 200 with it', async (t) => {
  const gw = await startGateway(t, { overrides: { metrics: { token: 'metrics-token-0123456789' } } });
  const none = await scrape(`${gw.url}/metrics`);
  t.equal(none.status, 401);
  t.notMatch(none.text, /gatehouse_/, 'nothing leaks without the token');
  t.equal((await scrape(`${gw.url}/metrics`, 'metrics-token-012345678X')).status, 401, 'a wrong token of the same length');
  t.equal((await scrape(`${gw.url}/metrics`, 'metrics-token-0123456789')).status, 200);
});

async function withMetricsPort(t: Test): Promise<{ gw: Gateway; port: number }> {
  const port = await freePort();
  const gw = await startGateway(t, { overrides: { metrics: { port } } });
  return { gw, port };
}

t.test('metrics.port: served only on its own listener, which closes with the gateway', async (t) => {
  const { gw, port } = await withMetricsPort(t);
  t.equal((await fetch(`${gw.url}/metrics`)).status, 404, 'not on the public port');
  const own = await scrape(`http://127.0.0.1:${port}/metrics`);
  t.equal(own.status, 200);
  t.match(own.text, /gatehouse_http_request_duration_seconds/);
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 404, 'nothing else on the metrics port');
  t.ok(gw.logs.some((l) => l.includes('"GW_METRICS_LISTENING"')), 'the listener is logged');
  await gw.close();
  await t.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'the metrics port closes with the gateway');
});

t.test('metrics.port equal to server.port is a config error naming the key', async (t) => {
  const err = (() => { try { loadConfig({ env: {}, overrides: { server: { port: 3100 }, metrics: { port: 3100 } } }); } catch (e) { return e; } })();
  t.ok(err instanceof ConfigError);
  t.match((err as Error).message, /metrics\.port|\/metrics\/port/);
  t.match((err as Error).message, /must differ from server\.port/);
});

// oidc-provider announces a token when it builds it; the request's commit comes after, and a refresh that
// loses the race for its token answers invalid_grant and hands out nothing (storage/unit-of-work.ts).
t.test('tokens are counted once their commit succeeded: of parallel refreshes with one token, only the winner counts', async (t) => {
  const gw = await startGateway(t);
  await addUser(gw, 'carol', 'correct horse battery');
  const rp = await discover(gw);
  const { tokens } = await loginAndGetTokens(gw, rp, 'carol', 'correct horse battery');
  const count = async (kind: string) => value((await scrape(`${gw.url}/metrics`)).text, 'gatehouse_issued_total', { kind }) ?? 0;
  const [refresh0, access0] = [await count('refresh_token'), await count('access_token')];
  const client = await import('openid-client');
  const results = await Promise.all(Array.from({ length: 8 }, () => client.refreshTokenGrant(rp, tokens.refresh_token!).then(() => 'ok', (e: { error?: string }) => e.error ?? 'error')));
  const won = results.filter((r) => r === 'ok').length;
  t.equal(won, 1, `one refresh wins (${results.join(', ')})`);
  t.equal(await count('refresh_token') - refresh0, 1, 'one refresh token counted');
  t.equal(await count('access_token') - access0, 1, 'one access token counted');
});
