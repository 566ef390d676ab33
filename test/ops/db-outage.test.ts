// The database going away: 503 with Retry-After (never 500), readiness 503, liveness 200, no crash,
// and service resumes by itself when the database is back.
import t from 'tap';
import { PG_URL, requirePostgres } from '../helpers/db.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { freshDb } from '../helpers/db.ts';

const url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

t.test('PostgreSQL outage and recovery', async (t) => {
  if (!await requirePostgres(t, 'outage test runs only against PostgreSQL', url)) return;
  // A fresh schema, reached through a proxy the test can cut.
  const fresh = await freshDb('pg', url);
  const schemaUrl = new URL(fresh.url!);
  await fresh.db.close();
  const proxy = await startTcpProxy({ host: schemaUrl.hostname, port: Number(schemaUrl.port || 5432) });
  t.teardown(() => proxy.close());
  schemaUrl.host = `127.0.0.1:${proxy.port}`;
  const gw = await startGateway(t, { databaseUrl: schemaUrl.href, overrides: { database: { connectionTimeoutMs: 500, statementTimeoutMs: 1000 } } });
  t.teardown(() => fresh.drop());

  const post = (body: string) => fetch(`${gw.url}/oidc/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('web-app:web-app-secret-0123456789abcdef').toString('base64')}` },
    body,
  });
  // Redeeming a code needs the database (a JWT client-credentials token does not).
  const token = () => post(`grant_type=authorization_code&code=${'x'.repeat(43)}&redirect_uri=http://127.0.0.1:9999/cb&code_verifier=${'v'.repeat(43)}`);
  t.equal((await token()).status, 400, 'healthy first: an unknown code is invalid_grant');

  await proxy.cut();
  const started = Date.now();
  const res = await token();
  t.equal(res.status, 503, 'token endpoint: 503 during the outage');
  t.equal((await post('grant_type=client_credentials')).status, 200, 'client credentials (self-contained JWT) keep working');
  t.equal(res.headers.get('retry-after'), '5');
  t.ok(Date.now() - started < 3000, 'answered within a couple of seconds');
  const page = await fetch(`${gw.url}/oidc/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=http://127.0.0.1:9999/cb&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
  t.not(page.status, 500, `authorization endpoint is not a 500 (${page.status})`);
  const ready = await fetch(`${gw.url}/readyz`);
  t.equal(ready.status, 503);
  t.same(await ready.json(), { status: 'unavailable', failed: 'database' });
  t.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'liveness stays 200');

  await proxy.restore();
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) { ok = (await token()).status === 400; if (!ok) await new Promise((r) => setTimeout(r, 100)); }
  t.ok(ok, 'service resumes by itself');
  t.equal((await fetch(`${gw.url}/readyz`)).status, 200);
  t.notOk(gw.logs.some((l) => /"level":60/.test(l)), 'no fatal log');
});
