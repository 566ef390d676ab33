// Durable commits per SAML SSO round trip (issue #7; docs/saml.md "What an SSO round trip costs"): a
// signed-in browser's SP-initiated login (/saml/sso → /oidc/auth → /saml/continue) is one commit per HTTP
// request, 3 in all, with the one-time statements (the message ID's first use, the parked request's take,
// the code's consume) inside those commits. Counted as test/storage/login-writes.test.ts counts: a write
// that changed a row outside a transaction is one commit, and so is a transaction that wrote.
import t from 'tap';
import { Browser } from '../helpers/browser.ts';
import { traceDb } from '../helpers/db-trace.ts';
import { nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser } from './helpers.ts';

t.test('a signed-in SP-initiated SAML round trip makes at most 3 durable commits, one per request', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig()]);
  await withUser(gw);
  const sp = await nodeSamlSp(gw);
  const browser = new Browser();
  const first = await redirectLogin(gw, sp, browser);
  t.ok(first.sawLogin && first.fields.SAMLResponse, 'the first round trip signs in');

  const tr = traceDb(gw.services.db);
  const again = await redirectLogin(gw, sp, browser, 'rs-2', { password: false });
  t.ok(again.fields.SAMLResponse, 'the second round trip answers without a login form');
  t.comment(`SAML round trip: ${tr.commits} durable commits: ${tr.statements.join('; ')}`);
  t.ok(tr.commits <= 3, `durable commits per signed-in SAML round trip: ${tr.commits} (≤ 3)`);
  // The account comes with the session at the authorization endpoint, and the user whose attributes the
  // assertion carries comes with the code (users.ts ACCOUNT_JSON, storage/oidc-adapter.ts).
  t.equal(tr.statements.filter((s) => s === 'SELECT users').length, 0, 'no users statement of its own');
  // The session comes with its Grants at /oidc/auth; the code with its Grant, its account and the Session it
  // expires with at /saml/continue.
  t.ok(tr.reads <= 3, `reads per signed-in SAML round trip: ${tr.reads} (≤ 3)`);
  t.equal(tr.statements.filter((s) => /^(INSERT|UPDATE|DELETE|WITH)/.test(s)).length, 0, 'no write outside a request\'s one commit (TX[…] or ONE[…])');
  const profile = (await sp.validatePostResponseAsync({ SAMLResponse: again.fields.SAMLResponse! })).profile!;
  const firstProfile = (await sp.validatePostResponseAsync({ SAMLResponse: first.fields.SAMLResponse! })).profile;
  t.equal(profile.sessionIndex, firstProfile?.sessionIndex, 'the same gateway session keeps its SessionIndex');

  // What the commits wrote is all there: the message ID, the parked request taken, the SP session, the audit row.
  const q = async (sql: string) => (await gw.services.db.query<{ n: number }>(sql)).rows[0]!.n;
  t.equal(await q('SELECT count(*)::int AS n FROM saml_seen_ids'), 2, 'both message IDs recorded');
  t.equal(await q('SELECT count(*)::int AS n FROM saml_requests WHERE consumed_at IS NULL'), 0, 'every parked request taken');
  t.equal(await q(`SELECT count(*)::int AS n FROM saml_sessions WHERE session_index = '${profile.sessionIndex}'`), 1, 'the SP session recorded with the SessionIndex sent');
  t.equal(await q(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'saml.sso' AND outcome = 'success'`), 2, 'both sign-ins audited');
});

t.test('a replayed AuthnRequest loses at its commit: error page, no redirect, nothing parked', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig()]);
  const sp = await nodeSamlSp(gw);
  const url = await sp.getAuthorizeUrlAsync('rs', undefined, {});
  const ok = await new Browser().get(url);
  t.equal(ok.status, 303, 'the first use redirects to the authorization endpoint');
  const parked = async () => (await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM saml_requests')).rows[0]!.n;
  t.equal(await parked(), 1);
  const replay = await new Browser().get(url);
  t.equal(replay.status, 400);
  t.equal(replay.headers.get('location'), null, 'the redirect built before the commit is not sent');
  t.match(await replay.text(), 'GW_SAML_REPLAY');
  t.equal(await parked(), 1, 'the replay parked nothing');
});
