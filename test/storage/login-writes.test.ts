// Durable writes per login (issue #7, G8: ≤ 4). Every statement the gateway sends through its Db is counted
// while one complete login runs (authorize → login form → password → [TOTP] → code → token): a write
// statement that changed a row outside a transaction is one durable commit, and so is a transaction that wrote.
import t from 'tap';
import type { Test } from 'tap';
import * as client from 'openid-client';
import { traceDb, resetTrace as reset, type DbTrace as Trace } from '../helpers/db-trace.ts';
import { startGateway, confidentialClient, type Gateway } from '../helpers/gateway.ts';
import { discover, loginAndGetTokens, loginAndGetCallback, addUser } from '../helpers/oidc.ts';
import { enrollTotp, freshTotp, login, policyClient, submitCode, isChoicePage, chooseFactor, atClient, PASSWORD } from '../helpers/mfa.ts';

const mfaClient = policyClient('required', 'app-mfa');

async function gateway(t: Test): Promise<{ gw: Gateway; tr: Trace }> {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, mfaClient] }, mfa: { factors: ['totp'] } } });
  return { gw, tr: traceDb(gw.services.db) };
}

t.test('a password login (authorize → form → code → token) makes at most 3 durable commits', async (t) => {
  const { gw, tr } = await gateway(t);
  await addUser(gw, 'alice');
  const rp = await discover(gw);
  // The first login warms what is created once (e.g. a first-party client's grant is per login anyway).
  await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid profile' });
  reset(tr);
  const r = await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid profile' });
  t.ok(r.tokens.id_token, 'the login completed');
  t.comment(`password login: ${tr.commits} durable commits, ${tr.reads} reads: ${tr.statements.join('; ')}`);
  t.ok(tr.commits <= 3, `durable commits per password login: ${tr.commits} (≤ 3; 4 before the password POST resumed the authorization in-process)`);
  // The password step's throttle check and user lookup come with its interaction read (storage/along.ts),
  // the resume's account with the user lookup (users.ts), the token request's Grant, account and Session
  // with the code (storage/oidc-prefetch.ts): two reads in all.
  t.ok(tr.reads <= 2, `reads per password login: ${tr.reads} (≤ 2; 7 before oidc-prefetch.ts, 6 before the authorization answer showed the login form, 5 before the in-process resume, 4 before the password step's reads came with the interaction's)`);
  t.same(tr.statements.filter((s) => /^SELECT (users|login_throttle)\b/.test(s)), [], 'no users or throttle statement of its own');
  t.equal(tr.statements.filter((s) => s === 'SELECT oidc_models+[login_throttle, users]').length, 1, 'the password POST\'s interaction read brings the throttle check and the user');
});

// The code comes with its Grant, its account and (it expires with the session: no offline_access) the
// Session oidc-provider checks it against: one read, then the one commit (storage/oidc-adapter.ts).
t.test('the code exchange is one read and one commit, and a code whose session ended is refused', async (t) => {
  const { gw, tr } = await gateway(t);
  await addUser(gw, 'dave');
  const rp = await discover(gw);
  const exchange = (r: Awaited<ReturnType<typeof loginAndGetCallback>>) => client.authorizationCodeGrant(rp, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
  const first = await loginAndGetCallback(gw, rp, 'dave', 'correct horse battery', { scope: 'openid profile' });
  reset(tr);
  const tokens = await exchange(first);
  t.ok(tokens.id_token && tokens.access_token, 'tokens issued');
  t.comment(`code exchange: ${tr.commits} durable commits, ${tr.reads} reads: ${tr.statements.join('; ')}`);
  t.equal(tr.reads, 1, 'one read: the code with its Grant, its account and its Session');
  t.equal(tr.commits, 1, 'one commit');
  // The session ends between the login and the exchange: the code dies with it (checkSessionBinding saw
  // the Session that came with the code, and it is gone).
  const second = await loginAndGetCallback(gw, rp, 'dave', 'correct horse battery', { scope: 'openid profile' });
  await gw.services.db.query(`DELETE FROM oidc_models WHERE model = 'Session'`);
  const refused = await exchange(second).then(() => 'accepted', (e: { error?: string }) => e.error);
  t.equal(refused, 'invalid_grant', 'a code whose session is gone is refused');
});

t.test('a password + TOTP login', async (t) => {
  const { gw, tr } = await gateway(t);
  const user = await addUser(gw, 'bob');
  const { secret } = await enrollTotp(gw, user.id);
  // First login: the user has no preferred factor yet.
  let f = await login(gw, mfaClient, 'bob', { password: PASSWORD });
  if (isChoicePage(f.page)) f = await chooseFactor(f, 'totp');
  ({ flow: f } = await submitCode(f, await freshTotp(secret)));
  t.ok(atClient(f), 'first login completed');
  reset(tr);
  f = await login(gw, mfaClient, 'bob', { password: PASSWORD });
  if (isChoicePage(f.page)) f = await chooseFactor(f, 'totp');
  ({ flow: f } = await submitCode(f, await freshTotp(secret)));
  t.ok(atClient(f), 'second login completed');
  await client.authorizationCodeGrant(f.rp, f.url, { pkceCodeVerifier: f.verifier, expectedState: f.state, expectedNonce: f.nonce });
  t.comment(`TOTP login: ${tr.commits} durable commits, ${tr.reads} reads: ${tr.statements.join('; ')}`);
  // Password (4) plus the MFA step: the attempt counter (committed before the code is checked) and the
  // sign-in (the TOTP step and the challenge are spent in that same commit). The challenge row is written
  // with the password POST, whose answer is the code form; the step runs inside the login interaction
  // (interaction/pending-mfa.ts): one resume, as without MFA.
  t.ok(tr.commits <= 5, `durable commits per TOTP login: ${tr.commits} (≤ 5; 19 before units of work, 10 before the step joined the sign-in's commit, 8 before the step ran in the login interaction, 7 before the password POST answered with the code form, 6 before the in-process resume)`);
  // The password POST's user comes with its TOTP seed (users.ts accountRows), the code POST's interaction
  // with its user and seed (storage/oidc-prefetch.ts).
  t.ok(tr.reads <= 3, `reads per TOTP login: ${tr.reads} (≤ 3; 23 before oidc-prefetch.ts, 14 before the step ran in the login interaction, 12 before the throttle check rode along, 11 before the seed came with the interaction, 9 before the password POST answered with the code form, 7 before the authorization answer showed the login form, 6 before the in-process resume, 5 before the password step's reads came with the interaction's)`);
  t.same(tr.statements.filter((s) => s.startsWith('SELECT users')), [], 'no users statement: the password step\'s user comes with its interaction read, the MFA screens\' with theirs');
  t.equal(tr.statements.filter((s) => s.includes('mfa_totp') && !s.includes('UPDATE mfa_totp')).length, 0,
    'no mfa_totp read: the factor screen\'s enrollment check and the code POST\'s seed came with the user and the interaction');
  t.same(tr.statements.filter((s) => s.startsWith('SELECT mfa_challenges') || s.startsWith('SELECT login_throttle')), [],
    'the code form needs no challenge or throttle read (the password step\'s own throttle check, which comes with its interaction read, is the one)');
});

// Policy `optional` asks "has this user a local factor?" twice in a login without one: the password POST
// (whether the MFA step runs in its interaction) and the resume's `mfa` prompt. Both come with the password
// step's user read: the resume is made in-process by the same request, which shares what it read
// (src/interaction/resume-in-process.ts): no mfa_totp statement at all.
t.test('policy optional, user without a second factor: no mfa_totp read', async (t) => {
  const optional = policyClient('optional', 'app-optional');
  const gw = await startGateway(t, { overrides: { oidc: { clients: [optional] }, mfa: { factors: ['totp'] } } });
  const tr = traceDb(gw.services.db);
  await addUser(gw, 'erin');
  await login(gw, optional, 'erin', { password: PASSWORD });
  reset(tr);
  const f = await login(gw, optional, 'erin', { password: PASSWORD });
  t.ok(atClient(f), 'signed in with the password alone');
  t.comment(`optional, no factor: ${tr.commits} durable commits, ${tr.reads} reads: ${tr.statements.join('; ')}`);
  t.equal(tr.statements.filter((s) => s.includes('mfa_totp')).length, 0, 'no mfa_totp statement: the seed came with the user');
  t.ok(tr.reads <= 1, `reads up to the code: ${tr.reads} (≤ 1: a password login's before its token request)`);
});

t.test('a refresh with rotation is one durable commit', async (t) => {
  const { gw, tr } = await gateway(t);
  await addUser(gw, 'carol');
  const rp = await discover(gw);
  const { tokens } = await loginAndGetTokens(gw, rp, 'carol', 'correct horse battery');
  reset(tr);
  const next = await client.refreshTokenGrant(rp, tokens.refresh_token!);
  t.ok(next.access_token && next.refresh_token && next.refresh_token !== tokens.refresh_token, 'rotated');
  t.comment(`refresh: ${tr.commits} durable commits, ${tr.reads} reads: ${tr.statements.join('; ')}`);
  t.equal(tr.commits, 1, 'consume + new refresh token + access token in one commit');
  t.equal(tr.reads, 1, 'one read: the refresh token with its Grant and its account');
  reset(tr);
  await client.fetchUserInfo(rp, next.access_token, client.skipSubjectCheck);
  t.equal(tr.reads, 1, 'userinfo: one read, the access token with its Grant and its account');
  reset(tr);
  const replay = await client.refreshTokenGrant(rp, tokens.refresh_token!).then(() => 'accepted', (e: { error?: string }) => e.error);
  t.equal(replay, 'invalid_grant', 'the spent refresh token is refused');
});
