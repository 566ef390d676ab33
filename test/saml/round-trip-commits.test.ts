// Durable commits per SAML SSO round trip (issue #7; docs/saml.md "What an SSO round trip costs"): a
// signed-in browser's SP-initiated login (/saml/sso → /oidc/auth → /saml/continue) is one commit per HTTP
// request, 3 in all, with the one-time statements (the message ID's first use, the parked request's take,
// the code's consume) inside those commits. Counted as test/storage/login-writes.test.ts counts: a write
// that changed a row outside a transaction is one commit, and so is a transaction that wrote.
import t from 'tap';
import { Browser } from '../helpers/browser.ts';
import type { Db, Queryable } from '../../src/storage/db.ts';
import { nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser } from './helpers.ts';

interface Trace { commits: number; statements: string[] }
const verb = (sql: string) => /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
const isWrite = (sql: string) => /^(INSERT|UPDATE|DELETE)$/.test(verb(sql)) || /^\s*WITH\b[\s\S]*\b(INSERT|UPDATE|DELETE)\b/i.test(sql);
const name = (sql: string) => `${verb(sql)} ${/\b(?:INTO|UPDATE)\s+([a-z_]+)/i.exec(sql)?.[1] ?? /(?<!epoch )\bFROM\s+([a-z_]{2,})\b/i.exec(sql)?.[1] ?? '?'}`;

function trace(db: Db): Trace {
  const tr: Trace = { commits: 0, statements: [] };
  const query = db.query.bind(db);
  const transaction = db.transaction.bind(db);
  (db as { query: Db['query'] }).query = async <R>(text: string, params?: unknown[]) => {
    tr.statements.push(name(text));
    const r = await query<R>(text, params);
    if (isWrite(text) && r.rowCount > 0) tr.commits++;
    return r;
  };
  (db as { transaction: Db['transaction'] }).transaction = <T>(fn: (q: Queryable) => Promise<T>) => {
    let wrote = false;
    const inner: string[] = [];
    return transaction((q) => fn({
      query<R>(text: string, params?: unknown[]) { if (isWrite(text)) wrote = true; inner.push(name(text)); return q.query<R>(text, params); },
    })).finally(() => { if (wrote) tr.commits++; tr.statements.push(`TX[${inner.join(', ')}]`); });
  };
  return tr;
}

t.test('a signed-in SP-initiated SAML round trip makes at most 3 durable commits, one per request', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig()]);
  await withUser(gw);
  const sp = await nodeSamlSp(gw);
  const browser = new Browser();
  const first = await redirectLogin(gw, sp, browser);
  t.ok(first.sawLogin && first.fields.SAMLResponse, 'the first round trip signs in');

  const tr = trace(gw.services.db);
  const again = await redirectLogin(gw, sp, browser, 'rs-2', { password: false });
  t.ok(again.fields.SAMLResponse, 'the second round trip answers without a login form');
  t.comment(`SAML round trip: ${tr.commits} durable commits: ${tr.statements.join('; ')}`);
  t.ok(tr.commits <= 3, `durable commits per signed-in SAML round trip: ${tr.commits} (≤ 3)`);
  t.equal(tr.statements.filter((s) => !s.startsWith('TX[') && /^(INSERT|UPDATE|DELETE|WITH)/.test(s)).length, 0, 'no autocommitted write');
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
