// The admin side (src/cli/mfa-admin.ts): resetting a user's factors forces enrollment at the next sign-in;
// a one-time, time-boxed bypass code is offered as a factor only while valid and works exactly once.
import t from 'tap';
import { bypassCode, mfaReset } from '../../src/cli/mfa-admin.ts';
import { chooseFactor, choiceButtons, idClaims, isChoicePage, login, policyClient, submitCode } from '../helpers/mfa.ts';
import { accountCount, auditOf, portalGateway, signedInBrowser } from './helpers.ts';

const required = policyClient('required');

function io() {
  const o = { out: [] as string[], note: [] as string[] };
  return { o, io: { out: (l: string) => { o.out.push(l); }, note: (l: string) => { o.note.push(l); } } };
}

t.test('mfa-reset and bypass-code', async (t) => {
  const { gw, user, secret } = await portalGateway(t, { overrides: { oidc: { clients: [required] } } });
  const { b } = await signedInBrowser(gw, secret);

  t.test('unknown user, bad --minutes', async (t) => {
    const a = io();
    t.equal(await mfaReset(gw.services, { username: 'nobody' }, a.io), 1);
    t.same(a.o, { out: [], note: ["gatehouse: no user named 'nobody'", 'See `npx gatehouse user list`.'] });
    for (const minutes of ['0', '1441', 'soon', '1.5']) {
      const m = io();
      t.equal(await bypassCode(gw.services, { username: 'alice', minutes }, m.io), 2, `--minutes ${minutes}`);
      t.same(m.o.out, []);
    }
    t.notOk(await gw.services.mfa.bypass.hasUsable(user.id));
  });

  t.test('mfa-reset: factors gone, sessions ended, enrollment at the next sign-in', async (t) => {
    const a = io();
    t.equal(await mfaReset(gw.services, { username: 'ALICE' }, a.io), 0);
    t.match(a.o.out, [/^alice: second factors reset \(authenticator app removed, 10 unused recovery codes and 0 bypass codes voided, 1 sessions ended\)\.$/]);
    t.notOk(await gw.services.mfa.totp.isEnrolled(user.id));
    t.equal(await gw.services.mfa.recovery.remaining(user.id), 0);
    t.equal((await b.get(`${gw.url}/account`)).status, 303, 'the portal session ended');
    t.match(await auditOf(gw, user.id, 'user.mfa_reset'), [{ outcome: 'success', detail: { via: 'cli', totp: true, recoveryCodes: 10 } }]);
    t.equal(await accountCount(gw, 'mfa_reset', 'success'), 1);
    const f = await login(gw, required, 'alice');
    t.match(f.url.pathname, /^\/interaction\/[^/]+\/mfa\/enroll$/, 'no factor left: straight to enrollment');
  });

  t.test('bypass code: offered only while valid, accepted once, audited', async (t) => {
    const a = io();
    t.equal(await bypassCode(gw.services, { username: 'alice', minutes: '15' }, a.io), 0);
    const [code] = a.o.out;
    t.match(code, /^\d{4}-\d{4}-\d{4}$/, 'the code, alone on stdout');
    t.match(a.o.note, [/^One-time bypass code for alice, valid until \S+ \(15 minutes\)/]);
    const [issued] = await auditOf(gw, user.id, 'user.bypass_code');
    t.match(issued, { outcome: 'success', detail: { via: 'cli', minutes: 15 } });
    t.notMatch(JSON.stringify(issued), code!.replace(/-/g, ''), 'the code is not in the audit log');
    t.notOk(gw.logs.some((l) => l.includes(code!)), 'nor in the logs');

    const f = await login(gw, required, 'alice');
    t.ok(isChoicePage(f.page), 'the factor choice');
    t.same(choiceButtons(f.page), { bypass: true }, 'the bypass code is offered (nothing else is enrolled)');
    await chooseFactor(f, 'bypass');
    t.match(f.page, /Bypass code from your administrator/);
    const wrong = await submitCode(f, '0000-0000-0000');
    t.equal(wrong.res.status, 401);
    t.match(f.page, /That bypass code is not valid or was already used\./);
    await submitCode(f, code!.replace(/-/g, ' '));
    const claims = await idClaims(f);
    t.same(claims.amr, ['pwd', 'otp', 'mfa'], 'amrFor({ kind: "bypass-code" })');
    t.match(await auditOf(gw, user.id, 'mfa.bypass'), [{ outcome: 'failure', reason: 'invalid' }, { outcome: 'success' }]);
    t.equal((await gw.services.users.findById(user.id))!.preferredFactor, null, 'a bypass never becomes the preferred factor (the reset cleared it)');

    t.notOk(await gw.services.mfa.bypass.hasUsable(user.id), 'spent');
    const again = await login(gw, required, 'alice');
    t.match(again.url.pathname, /\/mfa\/enroll$/, 'a second sign-in is not offered the code');
    t.notOk(await gw.services.mfa.bypass.use(user.id, code!), 'and the code itself is refused');
  });

  t.test('an expired code is not offered; a new code voids the previous one', async (t) => {
    const first = io();
    await bypassCode(gw.services, { username: 'alice' }, first.io);
    const second = io();
    await bypassCode(gw.services, { username: 'alice', minutes: 60 }, second.io);
    t.notOk(await gw.services.mfa.bypass.use(user.id, first.o.out[0]!), 'the earlier code is void');
    await gw.services.db.query(`UPDATE mfa_bypass_codes SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [user.id]);
    t.notOk(await gw.services.mfa.bypass.hasUsable(user.id), 'expired: not offered');
    t.notOk(await gw.services.mfa.bypass.use(user.id, second.o.out[0]!), 'expired: refused');
  });
});
