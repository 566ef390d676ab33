// An instance killed with SIGKILL mid-login loses nothing: two real gateway processes (`node src/main.ts`)
// on one PostgreSQL behind one public name (a TCP "load balancer" the test points at the live instance).
// A browser starts a login on A; A is killed at one stage (after the authorize redirect, after the password,
// with the TOTP challenge open, after the code was issued but before it was redeemed, and for SAML after the
// AuthnRequest was parked and with the TOTP challenge open); B finishes the same login from the database
// alone. Each login signs in exactly once: one password success, one TOTP success, the code redeemed once.
import t, { type Test } from 'tap';
import * as client from 'openid-client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_URL, requirePostgres, freshDb } from '../helpers/db.ts';
import { startGateway, TEST_SECRET, type Gateway } from '../helpers/gateway.ts';
import { startProcess, type Started } from '../helpers/process.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { Browser, readForm } from '../helpers/browser.ts';
import { addUser, oauthFailure } from '../helpers/oidc.ts';
import {
  AMR_TOTP, PASSWORD, advance, atClient, auditRows, chooseFactor, enrollTotp, freshTotp, idClaims, isChoicePage, isLoginPage,
  policyClient, submitCode, type Flow,
} from '../helpers/mfa.ts';
import { inflate, nodeSamlSp, spConfig, SP_ACS } from '../saml/helpers.ts';
import { ACR_MFA } from '../../src/mfa/amr.ts';

const url = PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const app = policyClient('required');

if (await requirePostgres(t, 'two gateway processes need a shared PostgreSQL (the embedded PGlite is single-process)', url)) await run();

async function run() {
  const shared = await freshDb('pg', url);
  await shared.db.close();
  t.teardown(() => shared.drop());

  // The public name: a TCP proxy whose target the test moves from the killed instance to the survivor.
  const target = { host: '127.0.0.1', port: 1 };
  const lb = await startTcpProxy(target);
  t.teardown(() => lb.close());
  const issuer = `http://127.0.0.1:${lb.port}`;
  /** Sends all new traffic to `p` (open connections to the previous instance are dropped, as an LB does). */
  const routeTo = async (p: Started) => {
    await lb.cut();
    target.port = p.port;
    await lb.restore();
    await new Promise((r) => setTimeout(r, 100)); // lets the client see its dropped keep-alive connections closed
  };

  const sp = await spConfig({ mfa: 'required' });
  const settings = {
    oidc: { clients: [app] }, saml: { sps: [sp] },
    passwords: { memoryKiB: 1024, iterations: 1, parallelism: 1, minLength: 8 },
    security: { progressiveDelayMs: 0, ipLimitPerMinute: 10_000 },
  };
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(settings));
  const env = { DATABASE_URL: shared.url!, ISSUER: issuer, GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_CONFIG: join(dir, 'config.json') };

  // An in-process instance on the same database for setup and for reading the database; it serves no login.
  const admin = await startGateway(t, { databaseUrl: shared.url, overrides: settings, issuer });
  const b = await startProcess(t, env);
  /** The cluster as the login helpers see it: only its public URL. */
  const cluster = { url: issuer } as Gateway;

  /** A fresh instance A for one stage, receiving all traffic until it is killed. */
  async function startA(): Promise<Started> {
    const a = await startProcess(t, env);
    await routeTo(a);
    return a;
  }
  async function kill(t: Test, a: Started) {
    a.child.kill('SIGKILL');
    t.equal(await a.exited, null, 'A died of SIGKILL (no exit code)');
    await routeTo(b);
  }

  /** Exactly one password success and one TOTP success were recorded for this login, and no error. */
  async function signedInOnce(t: Test, userId: string) {
    const rows = await auditRows(admin, userId);
    t.same(rows.map((r) => `${r.type}:${r.outcome}`).filter((s) => !s.startsWith('saml.')), ['login.password:success', 'mfa.totp:success'],
      'one password success, one TOTP success, nothing else');
  }

  const OIDC_STAGES = ['authorize', 'password', 'totp-challenge', 'code'] as const;
  for (const stage of OIDC_STAGES) {
    t.test(`OIDC: A killed after ${stage}, B finishes the login, the code is redeemed once`, async (t) => {
      const username = `kill-${stage}`;
      const user = await addUser(admin, username);
      const { secret } = await enrollTotp(admin, user.id);
      const a = await startA();
      const at = async (s: typeof stage) => { if (s === stage) await kill(t, a); };

      const rp = await client.discovery(new URL(issuer), app.clientId, app.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
      const verifier = client.randomPKCECodeVerifier();
      const f: Flow = {
        gw: cluster, rp, browser: new Browser(), verifier, state: client.randomState(), nonce: client.randomNonce(),
        redirectUri: app.redirectUris[0]!, url: new URL(issuer), status: 0, page: '',
      };
      f.url = client.buildAuthorizationUrl(rp, {
        redirect_uri: f.redirectUri, scope: 'openid profile', state: f.state, nonce: f.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      const authorized = await f.browser.navigate(f.url);
      t.equal(authorized.status, 200, 'A answered with the login form (its interaction written)');
      await at('authorize');
      await advance(f, authorized);
      t.ok(isLoginPage(f.page), 'the login page');

      const form = readForm(f.page, '/login');
      const posted = await f.browser.submit(new URL(form.action, issuer), { ...form.fields, username, password: PASSWORD });
      t.equal(posted.status, 200, 'password accepted');
      await at('password');
      await advance(f, posted, new URL(form.action, issuer));
      t.ok(isChoicePage(f.page), 'the factor choice, the password POST\'s own answer (B takes the next step)');

      await chooseFactor(f, 'totp');
      t.match(f.url.pathname, /\/mfa\/totp$/, 'the TOTP code page (challenge stored)');
      await at('totp-challenge');
      const { res } = await submitCode(f, await freshTotp(secret));
      t.equal(res.status, 303, 'the code is accepted');
      t.ok(atClient(f), 'back at the client with a code');
      await at('code');

      t.equal(b.child.exitCode, null, 'B is still running');
      const claims = await idClaims(f);
      t.equal(claims.sub, user.id);
      t.same(claims.amr, AMR_TOTP, 'amr pwd otp mfa');
      t.equal(claims.acr, ACR_MFA);
      t.match(await oauthFailure(client.authorizationCodeGrant(rp, f.url, { pkceCodeVerifier: f.verifier, expectedState: f.state, expectedNonce: f.nonce })),
        { error: 'invalid_grant' }, 'a second redemption of the code is refused');
      await signedInOnce(t, user.id);
      t.notMatch(b.stderr() + b.stdout(), /"level":(50|60)/, 'B logged no error');
    });
  }

  const SAML_STAGES = ['sso', 'totp-challenge'] as const;
  for (const stage of SAML_STAGES) {
    t.test(`SAML: A killed after ${stage}, B answers the same AuthnRequest (InResponseTo kept)`, async (t) => {
      const username = `saml-${stage}`;
      const user = await addUser(admin, username);
      const { secret } = await enrollTotp(admin, user.id);
      const a = await startA();
      const at = async (s: typeof stage) => { if (s === stage) await kill(t, a); };
      const samlSp = await nodeSamlSp(cluster, { authnContext: [ACR_MFA], racComparison: 'exact' });
      const browser = new Browser();
      const start = new URL(await samlSp.getAuthorizeUrlAsync('relay-1', undefined, {}));
      const f: Flow = { gw: cluster, rp: undefined as never, browser, verifier: '', state: '', nonce: '', redirectUri: SP_ACS, url: start, status: 0, page: '' };
      const parked = await browser.navigate(start);
      t.equal(parked.status, 303, 'A parked the AuthnRequest and entered the login pipeline');
      await at('sso');
      await advance(f, parked);
      t.ok(isLoginPage(f.page), 'the login page');
      const form = readForm(f.page, '/login');
      await advance(f, await browser.submit(new URL(form.action, issuer), { ...form.fields, username, password: PASSWORD }), new URL(form.action, issuer));
      await chooseFactor(f, 'totp');
      t.match(f.url.pathname, /\/mfa\/totp$/, 'the TOTP code page');
      await at('totp-challenge');
      await submitCode(f, await freshTotp(secret));
      t.match(f.page, /id="saml-post"/, 'the auto-post to the SP');
      const post = readForm(f.page, '');
      t.equal(post.action, SP_ACS);
      t.equal(post.fields.RelayState, 'relay-1', 'RelayState kept');
      const xml = Buffer.from(post.fields.SAMLResponse!, 'base64').toString('utf8');
      const requestId = /ID="([^"]+)"/.exec(inflate(start.searchParams.get('SAMLRequest')!))![1]!;
      t.match(xml, `InResponseTo="${requestId}"`, 'the Response answers the AuthnRequest A parked');
      const { profile } = await samlSp.validatePostResponseAsync({ SAMLResponse: post.fields.SAMLResponse! });
      t.ok(profile, 'node-saml verifies it (signatures, InResponseTo, audience)');
      t.equal(/<saml:AuthnContextClassRef>([^<]+)</.exec(xml)?.[1], ACR_MFA, 'AuthnContextClassRef: REFEDS MFA');
      await signedInOnce(t, user.id);
      t.same((await auditRows(admin, user.id, 'saml.sso')).map((r) => r.outcome), ['success'], 'one SAML sign-on');
    });
  }
}
