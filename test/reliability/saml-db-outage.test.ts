// The database going away under a signed-in browser's SAML login, which /saml/sso answers in-process
// (saml/inline-authorize.ts: oidc-provider's authorization request inside the SAML request's unit of work):
// 503 + Retry-After with the plain page, no Response and nothing half-written, and the same browser signs in
// silently once the database is back. The outage is a TCP proxy the test cuts (the shared server is untouched).
import t from 'tap';
import { PG_URL, requirePostgres, freshDb } from '../helpers/db.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { Browser, hasStackTrace } from '../helpers/browser.ts';
import { sleep } from '../helpers/mfa.ts';
import { nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser } from '../saml/helpers.ts';

const url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

if (await requirePostgres(t, 'the outage is made by cutting a TCP proxy in front of PostgreSQL', url)) t.test('a signed-in SAML login while the database is away', async (t) => {
  const fresh = await freshDb('pg', url);
  t.teardown(() => fresh.drop());
  const target = new URL(fresh.url!);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  t.teardown(() => proxy.close());
  target.host = `127.0.0.1:${proxy.port}`;
  const gw = await startSamlGateway(t, [await spConfig()], {
    databaseUrl: target.href,
    overrides: { database: { connectionTimeoutMs: 500, statementTimeoutMs: 3000 } },
  });
  await withUser(gw);
  const sp = await nodeSamlSp(gw);
  const browser = new Browser();
  t.ok((await redirectLogin(gw, sp, browser)).fields.SAMLResponse, 'signed in');
  const audited = async () => (await fresh.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'saml.sso'`)).rows[0]!.n;
  const before = await audited();

  await proxy.cut();
  const res = await browser.request(await sp.getAuthorizeUrlAsync('rs-down', undefined, {}), { headers: { accept: 'text/html' } });
  t.equal(res.status, 503, 'database down: 503');
  t.equal(res.headers.get('retry-after'), '5', 'with Retry-After');
  const body = await res.text();
  t.notOk(body.includes('SAMLResponse'), 'no Response');
  t.notOk(hasStackTrace(body), 'no internal detail');
  t.notOk(/ECONNREFUSED|127\.0\.0\.1/.test(body), 'nor the database error or address');
  t.match(body, /temporarily unavailable/, 'the user is told plainly');
  t.notOk(gw.logs.some((l) => /"status":500/.test(l)), 'never a 500');

  await proxy.restore();
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) { ready = (await fetch(`${gw.url}/readyz`)).status === 200; if (!ready) await sleep(100); }
  t.ok(ready, 'ready again');
  t.equal(await audited(), before, 'nothing of the failed request was written');
  const again = await redirectLogin(gw, sp, browser, 'rs-back', { password: false });
  t.ok(again.fields.SAMLResponse, 'the same browser signs in silently once the database is back');
  t.equal(again.fields.RelayState, 'rs-back');
});
