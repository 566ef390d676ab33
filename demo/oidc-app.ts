// A sample OpenID Connect web application (a relying party of Gatehouse), built with openid-client on
// plain node:http: authorization code + PKCE, the ID token's claims on its page (amr and acr explained),
// and a sign-out button doing RP-initiated logout. Sessions live in memory: it is a demo.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { cookies, csp, demoPage, esc, newId, readForm, redirect, sameToken, send, setCookie, stylesheet } from './ui.ts';

export interface OidcAppOptions {
  /** Gatehouse's issuer URL. Discovery runs at the first sign-in, so the gateway may start later. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  name?: string;
  /** Colour scheme of the page (demo/ui.ts). */
  accent?: 'oidc' | 'partner';
}

export interface OidcApp {
  url: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  close(): Promise<void>;
}

/** What the RFC 8176 values mean, in words a newcomer can read next to the raw claim. */
export const AMR_WORDS: Record<string, string> = {
  pwd: 'password', otp: 'one-time code', mfa: 'multiple factors', swk: 'software key (Duo Push)', user: 'user presence',
  hwk: 'hardware key', sms: 'text message', tel: 'phone call', fpt: 'fingerprint',
};
export const ACR_WORDS: Record<string, string> = {
  'https://refeds.org/profile/mfa': 'multi-factor (REFEDS MFA profile)',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport': 'password only',
};

interface Session { claims: Record<string, unknown>; idToken: string; csrf: string }
interface Pending { verifier: string; state: string; nonce: string }

const SID = 'demo_oidc_sid';
const TX = 'demo_oidc_tx';

export async function startOidcApp(o: OidcAppOptions): Promise<OidcApp> {
  const name = o.name ?? 'Sample OIDC app';
  const host = o.host ?? '127.0.0.1';
  const sessions = new Map<string, Session>();
  const pending = new Map<string, Pending>();
  let config: Promise<client.Configuration> | undefined;
  const issuerOrigin = new URL(o.issuer).origin;
  const policy = csp([issuerOrigin]);
  let base = '';

  // Retried at the next request when the gateway was not up yet.
  const rp = () => {
    config ??= client.discovery(new URL(o.issuer), o.clientId, o.clientSecret, undefined, {
      execute: o.issuer.startsWith('http:') ? [client.allowInsecureRequests] : [],
    }).catch((err: unknown) => { config = undefined; throw err; });
    return config;
  };

  const html = (res: ServerResponse, status: number, title: string, body: string, error?: string, extra: Record<string, string | string[]> = {}) =>
    send(res, status, 'text/html; charset=utf-8', demoPage({ app: name, title, body, accent: o.accent ?? 'oidc', error }), policy, extra);

  function home(res: ServerResponse, s: Session | undefined, notice?: string) {
    if (!s) {
      return html(res, 200, 'Welcome', `${notice ? `<p role="status" id="notice">${esc(notice)}</p>` : ''}
<p>You are not signed in. This application lets <strong>Gatehouse</strong> sign you in with OpenID Connect.</p>
<p><a class="button" id="sign-in" href="/login">Sign in with Gatehouse</a></p>`);
    }
    const c = s.claims;
    const amr = Array.isArray(c.amr) ? (c.amr as string[]) : [];
    const rows = Object.entries(c).map(([k, v]) => {
      const shown = k === 'auth_time' || k === 'iat' || k === 'exp'
        ? `${esc(v)} <span class="note">(${esc(new Date(Number(v) * 1000).toISOString())})</span>` : esc(JSON.stringify(v));
      const hl = k === 'amr' || k === 'acr' ? ' class="hl"' : '';
      return `<tr${hl}><th scope="row"><code>${esc(k)}</code></th><td id="claim-${esc(k)}"><code>${shown}</code></td></tr>`;
    }).join('\n');
    return html(res, 200, `Signed in as ${String(c.preferred_username ?? c.sub)}`, `<p>How you signed in: <strong id="amr-words">${esc(amr.map((v) => AMR_WORDS[v] ?? v).join(', ') || 'not stated')}</strong>
(<code>acr</code>: <span id="acr-words">${esc(ACR_WORDS[String(c.acr)] ?? String(c.acr ?? 'none'))}</span>).</p>
<h2>The ID token's claims</h2>
<table id="claims"><caption class="note">Verified by openid-client against Gatehouse's published keys.</caption>
${rows}
</table>
<h2>Try next</h2>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${esc(s.csrf)}"><button type="submit" id="sign-out">Sign out</button></form>
<a class="button secondary" id="sign-in-again" href="/login?prompt=login">Sign in again (password and second factor)</a>`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const jar = cookies(req);
    const session = jar[SID] ? sessions.get(jar[SID]) : undefined;

    // No icon: answered empty so browsers do not log a 404 on every page.
    if (url.pathname === '/favicon.ico') { res.writeHead(204, { 'cache-control': 'max-age=86400' }); return res.end(); }
    if (req.method === 'GET' && url.pathname === '/style.css') {
      return send(res, 200, 'text/css; charset=utf-8', stylesheet, policy);
    }
    if (req.method === 'GET' && url.pathname === '/') {
      return home(res, session, url.searchParams.get('signed_out') === '1' ? 'You are signed out of this application and of Gatehouse.' : undefined);
    }
    if (req.method === 'GET' && url.pathname === '/login') {
      const config = await rp();
      const tx: Pending = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
      const id = newId();
      pending.set(id, tx);
      setTimeout(() => pending.delete(id), 15 * 60_000).unref();
      const params: Record<string, string> = {
        redirect_uri: `${base}/callback`, scope: 'openid profile email groups', state: tx.state, nonce: tx.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(tx.verifier), code_challenge_method: 'S256',
      };
      if (url.searchParams.get('prompt') === 'login') params.prompt = 'login';
      return redirect(res, client.buildAuthorizationUrl(config, params).href, { 'set-cookie': setCookie(TX, id, 900) });
    }
    if (req.method === 'GET' && url.pathname === '/callback') {
      const tx = jar[TX] ? pending.get(jar[TX]) : undefined;
      const clear = setCookie(TX, '', 0);
      if (url.searchParams.has('error')) {
        const why = url.searchParams.get('error') === 'access_denied' ? 'The sign-in was cancelled.' : `Gatehouse answered: ${url.searchParams.get('error')}.`;
        return html(res, 400, 'Not signed in', '<p><a class="button" id="sign-in" href="/login">Try again</a></p>', why, { 'set-cookie': clear });
      }
      if (!tx) return html(res, 400, 'Not signed in', '<p><a class="button" id="sign-in" href="/login">Start again</a></p>', 'This sign-in was not started here, or it took too long.', { 'set-cookie': clear });
      pending.delete(jar[TX]!);
      try {
        const tokens = await client.authorizationCodeGrant(await rp(), url, { pkceCodeVerifier: tx.verifier, expectedState: tx.state, expectedNonce: tx.nonce });
        const sid = newId();
        sessions.set(sid, { claims: { ...tokens.claims()! }, idToken: tokens.id_token!, csrf: newId() });
        return redirect(res, '/', { 'set-cookie': [clear, setCookie(SID, sid)] });
      } catch (err) {
        return html(res, 400, 'Not signed in', '<p><a class="button" id="sign-in" href="/login">Try again</a></p>', `The answer from Gatehouse was not accepted: ${(err as Error).message}`, { 'set-cookie': clear });
      }
    }
    if (req.method === 'POST' && url.pathname === '/logout') {
      const form = await readForm(req);
      if (!session || !sameToken(form.get('csrf'), session.csrf)) return redirect(res, '/');
      sessions.delete(jar[SID]!);
      const end = client.buildEndSessionUrl(await rp(), { id_token_hint: session.idToken, post_logout_redirect_uri: `${base}/?signed_out=1` });
      return redirect(res, end.href, { 'set-cookie': setCookie(SID, '', 0) });
    }
    return html(res, 404, 'Not found', '<p><a href="/">Home</a></p>');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) html(res, 502, 'Gatehouse is not reachable', '<p><a href="/">Home</a></p>', `Could not talk to ${o.issuer}: ${(err as Error).message}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port ?? 0, host, () => resolve()); });
  base = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url: base, redirectUri: `${base}/callback`, postLogoutRedirectUri: `${base}/?signed_out=1`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
