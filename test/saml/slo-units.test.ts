// Single logout as units of work (src/protocols/saml/routes.ts, storage/unit-of-work.ts): each /saml/slo
// request writes what it changes in one commit, and its one-time steps — the message ID, the logout moving
// on, the logout answered — are decided by that commit. Parallel copies of one LogoutRequest end the session
// once and tell the back-channel client once; two LogoutResponses to one step move the logout on once and
// answer the initiator once.
import t from 'tap';
import { Browser, readForm } from '../helpers/browser.ts';
import { traceDb, resetTrace } from '../helpers/db-trace.ts';
import { loginAndGetTokens, discover } from '../helpers/oidc.ts';
import { SP2_ENTITY, SP2_SLO, SP_SLO, errorCode, redirectLogin, startSloGateway, withUser } from './helpers.ts';

t.test('single logout: one commit per request, one-time steps under concurrency', async (t) => {
  const { gw, receiver, bcClient, sp1, sp2 } = await startSloGateway(t);
  const bc = await discover(gw, bcClient);
  await withUser(gw);
  const count = async (sql: string) => (await gw.services.db.query<{ n: number }>(sql)).rows[0]!.n;
  const tr = traceDb(gw.services.db);

  /** A browser signed in to the back-channel client and both SPs on one gateway session. */
  async function signedIn() {
    await gw.services.db.query('DELETE FROM saml_sessions');
    const browser = new Browser();
    await loginAndGetTokens(gw, bc, 'alice', 'correct horse battery', { browser, scope: 'openid', redirectUri: bcClient.redirectUris[0] });
    const one = await redirectLogin(gw, sp1, browser, 'rs', { password: false });
    const { profile } = await sp1.validatePostResponseAsync({ SAMLResponse: one.fields.SAMLResponse! });
    await redirectLogin(gw, sp2, browser, 'rs', { password: false });
    return { browser, profile: profile! };
  }
  const waitForTokens = async (n: number) => { for (let i = 0; i < 50 && receiver.tokens.length < n; i++) await new Promise((r) => setTimeout(r, 20)); };

  t.test('a LogoutRequest and the LogoutResponses each commit once; two answers to one step move it on once', async (t) => {
    const { browser, profile } = await signedIn();
    receiver.tokens.length = 0;
    resetTrace(tr);
    const res = await browser.get(await sp1.getLogoutUrlAsync(profile, 'rs-logout', {}));
    t.equal(res.status, 200, 'the other SP is notified');
    const notify = readForm(await res.text(), SP2_SLO);
    t.equal(tr.commits, 1, `one durable commit for the LogoutRequest: ${tr.statements.join('; ')}`);
    t.equal(tr.statements.filter((s) => /^(INSERT|UPDATE|DELETE|WITH)/.test(s)).length, 0, 'no write outside that commit');
    t.equal(await count('SELECT count(*)::int AS n FROM saml_logouts WHERE awaiting IS NOT NULL'), 1, 'the logout stored at its first step');
    await waitForTokens(1);
    t.equal(receiver.tokens.length, 1, 'the back-channel client told, after the commit');

    // SP 2 answers twice (two LogoutResponses, each with its own ID) at the same time.
    const asked = await sp2.validatePostRequestAsync({ SAMLRequest: notify.fields.SAMLRequest! });
    const urls = await Promise.all([1, 2].map(() => sp2.getLogoutResponseUrlAsync(asked.profile!, notify.fields.RelayState!, {}, true)));
    t.not(urls[0], urls[1]);
    const seenBefore = await count(`SELECT count(*)::int AS n FROM saml_seen_ids WHERE issuer = '${SP2_ENTITY}'`);
    const answers = await Promise.all(urls.map((u) => browser.get(u)));
    const toSp1 = answers.filter((a) => a.status === 303 && a.headers.get('location')!.startsWith(`${SP_SLO}?SAMLResponse=`));
    t.equal(toSp1.length, 1, 'exactly one LogoutResponse goes to the initiator');
    const other = answers.find((a) => !toSp1.includes(a))!;
    t.equal(other.status, 400);
    t.equal(errorCode(await other.text()), 'GW_SAML_UNEXPECTED_RESPONSE', 'the other answer is refused');
    t.notOk(other.headers.get('location'), 'and redirects nowhere');
    // The loser's commit rolled back whole: its message ID is not recorded either.
    t.equal(await count(`SELECT count(*)::int AS n FROM saml_seen_ids WHERE issuer = '${SP2_ENTITY}'`), seenBefore + 1, 'one LogoutResponse\'s message ID recorded');
    t.equal(await count('SELECT count(*)::int AS n FROM saml_logouts'), 0, 'the logout is over');
    t.equal(await count('SELECT count(*)::int AS n FROM saml_sessions'), 0);
  });

  t.test('parallel copies of one signed LogoutRequest end the session once', async (t) => {
    const { browser, profile } = await signedIn();
    receiver.tokens.length = 0;
    const auditBefore = await count(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'saml.slo' AND outcome = 'success'`);
    const url = await sp1.getLogoutUrlAsync(profile, 'rs-twice', {});
    const answers = await Promise.all([url, url, url].map((u) => browser.get(u)));
    t.same(answers.map((a) => a.status).sort(), [200, 400, 400], 'one walk starts');
    for (const a of answers.filter((x) => x.status === 400)) t.equal(errorCode(await a.text()), 'GW_SAML_REPLAY');
    t.equal(await count('SELECT count(*)::int AS n FROM saml_logouts'), 1, 'one logout stored');
    t.equal(await count(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'saml.slo' AND outcome = 'success'`), auditBefore + 1, 'audited once');
    await waitForTokens(2);
    t.equal(receiver.tokens.length, 1, 'the back-channel client told once');
  });
});
