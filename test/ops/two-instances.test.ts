// Horizontal scale: two instances on one PostgreSQL, nothing instance-local. A login (password + TOTP)
// hops between them at every request, and a key rotation on one is picked up by the other.
import t from 'tap';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { PG_URL, pgAvailable, freshDb } from '../helpers/db.ts';
import { confidentialClient, startGateway } from '../helpers/gateway.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';
import { readForm } from '../helpers/browser.ts';
import { enrollTotp, totpNow } from '../helpers/mfa.ts';

const url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

t.test('a login hops between two instances at every step', async (t) => {
  if (!(await pgAvailable(url))) {
    if (PG_URL) throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer at ${url}`);
    t.comment('PostgreSQL not reachable: the two-instance test needs a shared PostgreSQL (PGlite is single-process)');
    return;
  }
  const shared = await freshDb('pg', url);
  await shared.db.close();
  t.teardown(() => shared.drop());
  const overrides = { oidc: { clients: [{ ...confidentialClient, mfa: 'required' }] }, database: { sweepIntervalSeconds: 1 } };
  const a = await startGateway(t, { databaseUrl: shared.url, overrides });
  const b = await startGateway(t, { databaseUrl: shared.url, overrides, issuer: a.url });
  const portA = new URL(a.url).port;
  const portB = String((b.app.server.address() as { port: number }).port);
  t.not(portA, portB);

  const user = await addUser(a);
  const { secret } = await enrollTotp(a, user.id);
  const rp = await discover(a);
  let n = 0;
  const seen = new Set<string>();
  const hop = (u: URL) => { if (u.port === portA) { u.port = n++ % 2 ? portB : portA; seen.add(u.port); } return u; };

  const s = await startAuthorize(a, rp, { browser: Object.assign(new (await import('../helpers/browser.ts')).Browser(), { rewrite: hop }) });
  let posted = await submitLogin(s.browser, a, await s.res.text(), 'alice', 'correct horse battery');
  t.equal(posted.status, 303);
  let { res, url: at } = await s.browser.follow(posted, s.at);
  const choice = readForm(await res.text(), '/mfa/begin');
  res = await s.browser.post(new URL(choice.action, a.url), { ...choice.fields, factor: 'totp' });
  ({ res, url: at } = await s.browser.follow(res, at));
  const form = readForm(await res.text(), '/mfa/totp');
  posted = await s.browser.post(new URL(form.action, a.url), { ...form.fields, code: totpNow(secret) });
  ({ url: at } = await s.browser.follow(posted, at, (u) => u.href.startsWith(s.redirectUri)));
  t.ok(at.href.startsWith(s.redirectUri), 'back at the client');
  t.same([...seen].sort(), [portA, portB].sort(), 'both instances served parts of the login');
  const tokens = await client.authorizationCodeGrant(rp, at, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  t.same(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);

  // Key rotation on A; B notices on its next housekeeping tick and both publish and use the same keys.
  const before = tokens.id_token!;
  const [newKid] = await a.services.keys.rotate(3600);
  let bKids: string[] = [];
  for (let i = 0; i < 50; i++) {
    bKids = ((await (await fetch(`http://127.0.0.1:${portB}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    if (bKids.includes(newKid!)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(bKids.includes(newKid!), 'B publishes the key A created');
  const jwksB = createRemoteJWKSet(new URL(`http://127.0.0.1:${portB}/oidc/jwks`));
  await t.resolves(jwtVerify(before, jwksB, { issuer: a.url, audience: confidentialClient.clientId }), 'a token signed before the rotation still verifies at B');
});
