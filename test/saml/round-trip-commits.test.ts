// Durable commits per SAML SSO round trip (issue #7; docs/saml.md "What an SSO round trip costs"). A signed-in
// browser's SP-initiated login is one HTTP request to the gateway: /saml/sso makes the authorization request
// in-process (saml/inline-authorize.ts), and everything — the message ID's first use, the Session and Grant
// oidc-provider saves, the SP session, the audit row — is one commit; the code is issued and redeemed inside
// it and never written. Counted as test/storage/login-writes.test.ts counts: a write that changed a row
// outside a transaction is one commit, and so is a transaction that wrote.
import t from 'tap';
import { Browser } from '../helpers/browser.ts';
import { traceDb } from '../helpers/db-trace.ts';
import { inflate, nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser } from './helpers.ts';

const inflateOf = (url: string) => inflate(new URL(url).searchParams.get('SAMLRequest')!);

t.test('a signed-in SP-initiated SAML round trip is one request and one durable commit', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig()]);
  await withUser(gw);
  const sp = await nodeSamlSp(gw);
  const browser = new Browser();
  const first = await redirectLogin(gw, sp, browser);
  t.ok(first.sawLogin && first.fields.SAMLResponse, 'the first round trip signs in');

  const tr = traceDb(gw.services.db);
  const url = await sp.getAuthorizeUrlAsync('rs-2', undefined, {});
  const res = await browser.get(url);
  t.equal(res.status, 200, 'the AuthnRequest is answered with the auto-post form itself: no trip through /oidc/auth and /saml/continue');
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(await res.text())?.[1];
  t.ok(samlResponse, 'a SAMLResponse in the form');
  t.comment(`SAML round trip: ${tr.commits} durable commits: ${tr.statements.join('; ')}`);
  t.equal(tr.commits, 1, 'one durable commit per signed-in SAML round trip');
  // The session comes with its Grants and account (oidc-prefetch.ts), which the redemption and the assertion
  // use too (Unit.sharePrefetched); the code is read from the unit's own queue.
  t.equal(tr.reads, 1, 'one read per signed-in SAML round trip');
  t.equal(tr.statements.filter((s) => s === 'SELECT users').length, 0, 'no users statement of its own');
  t.equal(tr.statements.filter((s) => /^(INSERT|UPDATE|DELETE|WITH)/.test(s)).length, 0, 'no write outside the request\'s one commit (TX[…] or ONE[…])');
  const profile = (await sp.validatePostResponseAsync({ SAMLResponse: samlResponse! })).profile!;
  const firstProfile = (await sp.validatePostResponseAsync({ SAMLResponse: first.fields.SAMLResponse! })).profile;
  t.equal(profile.sessionIndex, firstProfile?.sessionIndex, 'the same gateway session keeps its SessionIndex');
  t.equal(profile.inResponseTo, /ID="([^"]+)"/.exec(inflateOf(url))?.[1], 'InResponseTo the request');

  // What the commits wrote is all there: the message ID, the SP session, the audit row; no code is left.
  const q = async (sql: string) => (await gw.services.db.query<{ n: number }>(sql)).rows[0]!.n;
  t.equal(await q('SELECT count(*)::int AS n FROM saml_seen_ids'), 2, 'both message IDs recorded');
  t.equal(await q('SELECT count(*)::int AS n FROM saml_requests'), 1, 'only the first login (sent to the login form) was parked');
  t.equal(await q('SELECT count(*)::int AS n FROM saml_requests WHERE consumed_at IS NULL'), 0, 'and it was taken');
  t.equal(await q(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'AuthorizationCode'`), 1, 'one code in the table: the first login\'s, redeemed at /saml/continue');
  t.equal(await q(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'AuthorizationCode' AND consumed_at IS NULL`), 0, 'no unredeemed code anywhere');
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
