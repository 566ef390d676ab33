// Back-channel logout: when the SSO session ends, each client with a backchannelLogoutUri receives a signed
// logout_token naming the session (sid) it must end.
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, discover, loginAndGetTokens } from '../helpers/oidc.ts';

interface Received { path: string; contentType: string | undefined; body: URLSearchParams }

/** A tiny relying-party endpoint that records what it is sent. */
async function logoutReceiver(t: Test) {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ path: req.url!, contentType: req.headers['content-type'], body: new URLSearchParams(body) });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/backchannel`, received,
    /** Resolves once n requests arrived (or after 3 s, so a missing call fails the assertions, not the runner). */
    async waitFor(n: number) {
      const deadline = Date.now() + 3000;
      while (received.length < n && Date.now() < deadline) await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
    },
  };
}

t.test('back-channel logout', async (t) => {
  const receiver = await logoutReceiver(t);
  const bcClient = {
    clientId: 'bc-app', clientSecret: 'bc-app-secret-0123456789abcdefgh', name: 'Back-channel App',
    redirectUris: ['http://127.0.0.1:9993/cb'], postLogoutRedirectUris: ['http://127.0.0.1:9993/bye'],
    grantTypes: ['authorization_code', 'refresh_token'], firstParty: true, mfa: 'off', backchannelLogoutUri: receiver.url,
  };
  // A second back-channel client whose endpoint refuses connections (port 9, discard, is never listening here).
  const broken = { ...bcClient, clientId: 'bc-broken', redirectUris: ['http://127.0.0.1:9992/cb'], postLogoutRedirectUris: ['http://127.0.0.1:9992/bye'], backchannelLogoutUri: 'http://127.0.0.1:9/unreachable' };
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, bcClient, broken] } } });
  const user = await addUser(gw);
  const rp = await discover(gw);
  const bc = await discover(gw, bcClient);
  const jwks = jose.createRemoteJWKSet(new URL(`${gw.url}/oidc/jwks`));

  t.test('RP-initiated logout at another client notifies the back-channel client', async (t) => {
    const browser = new Browser();
    // Single sign-on into both clients; only bc-app has a back-channel URI.
    const bcTokens = (await loginAndGetTokens(gw, bc, 'alice', 'correct horse battery', { scope: 'openid', browser, redirectUri: bcClient.redirectUris[0] })).tokens;
    const webTokens = (await loginAndGetTokens(gw, rp, 'alice', 'correct horse battery', { scope: 'openid', browser })).tokens;
    const sid = bcTokens.claims()!.sid as string;
    t.type(sid, 'string', 'the ID token of a back-channel client carries sid');
    t.equal(receiver.received.length, 0, 'nothing sent before logout');
    t.equal((await client.tokenIntrospection(bc, bcTokens.access_token)).active, true, 'bc-app\'s access token is live before logout');

    const page = await browser.navigate(client.buildEndSessionUrl(rp, { id_token_hint: webTokens.id_token!, post_logout_redirect_uri: confidentialClient.postLogoutRedirectUris[0]! }));
    const form = readForm(await page.text(), '/session/end/confirm');
    const done = await browser.submit(form.action, { ...form.fields, logout: 'yes' });
    t.equal(done.status, 303);
    await receiver.waitFor(1);

    t.equal(receiver.received.length, 1, 'exactly one back-channel call');
    const call = receiver.received[0]!;
    t.equal(call.path, '/backchannel');
    t.match(call.contentType, /^application\/x-www-form-urlencoded/);
    const logoutToken = call.body.get('logout_token')!;
    t.ok(logoutToken, 'a logout_token parameter');
    const { payload, protectedHeader } = await jose.jwtVerify(logoutToken, jwks, { issuer: gw.url, audience: bcClient.clientId, typ: 'logout+jwt' });
    t.equal(protectedHeader.alg, 'ES256');
    t.equal(payload.sid, sid, 'sid of the ended session');
    t.equal(payload.sub, user.id);
    t.same(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    t.type(payload.jti, 'string');
    t.type(payload.iat, 'number');
    t.notOk('nonce' in payload, 'a logout token never carries a nonce');

    t.equal((await client.tokenIntrospection(bc, bcTokens.access_token)).active, false, 'the client\'s session-bound access token is revoked');
  });

  t.test('a back-channel endpoint that fails does not break the user\'s logout', async (t) => {
    const rp2 = await discover(gw, broken);
    const browser = new Browser();
    const { tokens } = await loginAndGetTokens(gw, rp2, 'alice', 'correct horse battery', { scope: 'openid', browser, redirectUri: broken.redirectUris[0] });
    const page = await browser.navigate(client.buildEndSessionUrl(rp2, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: broken.postLogoutRedirectUris[0]!, state: 's1' }));
    const form = readForm(await page.text(), '/session/end/confirm');
    const done = await browser.submit(form.action, { ...form.fields, logout: 'yes' });
    t.equal(done.status, 303, 'logout completes');
    t.equal(receiver.received.length, 1, 'the working receiver was not called again (only bc-broken was in this session)');
    t.equal(new URL(done.headers.get('location')!).searchParams.get('state'), 's1');
    const logged = gw.logs.map((l) => JSON.parse(l) as { event?: string; clientId?: string }).find((l) => l.event === 'GW_ERR_BACKCHANNEL_LOGOUT');
    t.equal(logged?.clientId, 'bc-broken', 'the failed notification is logged for ops');
  });
});
