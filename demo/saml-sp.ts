// A sample SAML 2.0 service provider of Gatehouse, built with @node-saml/node-saml on plain node:http:
// SP-initiated login over HTTP-Redirect (signed AuthnRequest), the assertion's attributes and
// AuthnContextClassRef on its page, and single logout (signed LogoutRequest, LogoutResponse checked).
// It also answers the gateway's own LogoutRequest when the user signs out elsewhere. Sessions in memory.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml';
import { generateIdpCertificate } from '../src/protocols/saml/idp-cert.ts';
import { certToPem } from '../src/protocols/saml/certs.ts';
import { cookies, csp, demoPage, esc, newId, readForm, redirect, sameToken, send, setCookie, stylesheet } from './ui.ts';

export interface SamlSpOptions {
  /** Gatehouse's issuer URL; the IdP's metadata (its certificate) is read at the first sign-in. */
  issuer: string;
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  name?: string;
}

export interface SamlSp {
  url: string;
  entityId: string;
  acsUrl: string;
  sloUrl: string;
  /** The SP's signing certificate (PEM), to register with the gateway. */
  certPem: string;
  close(): Promise<void>;
}

interface Session { profile: Profile; attributes: Record<string, unknown>; classRef: string; csrf: string }

const SID = 'demo_saml_sid';
/** Friendly names of the attribute OIDs the demo releases (node-saml keys attributes by Name). */
const FRIENDLY: Record<string, string> = { 'urn:oid:0.9.2342.19200300.100.1.3': 'mail', 'urn:oid:2.16.840.1.113730.3.1.241': 'displayName' };
const CLASS_WORDS: Record<string, string> = {
  'https://refeds.org/profile/mfa': 'multi-factor (REFEDS MFA profile)',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport': 'password only',
};
export const NAME_ID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** Starts the SP; its signing key pair is made fresh at each start. */
export async function startSamlSp(o: SamlSpOptions): Promise<SamlSp> {
  const name = o.name ?? 'Sample SAML service provider';
  const host = o.host ?? '127.0.0.1';
  const kp = await generateIdpCertificate('gatehouse-demo-sp');
  const certPem = certToPem(kp.certB64);
  const sessions = new Map<string, Session>();
  const policy = csp([new URL(o.issuer).origin]);
  let base = '';
  let saml: Promise<SAML> | undefined;

  // The IdP certificate comes from Gatehouse's metadata; retried at the next request if it was not up yet.
  const sp = () => {
    saml ??= (async () => {
      const xml = await (await fetch(`${o.issuer}/saml/metadata`)).text();
      const certs = [...xml.matchAll(/<(?:ds:)?X509Certificate>([^<]+)</g)].map((m) => m[1]!.replace(/\s+/g, ''));
      if (!certs.length) throw new Error('no signing certificate in the IdP metadata');
      return new SAML({
        entryPoint: `${o.issuer}/saml/sso`, logoutUrl: `${o.issuer}/saml/slo`, idpIssuer: `${o.issuer}/saml/metadata`,
        idpCert: certs, issuer: `${base}/saml/metadata`, callbackUrl: `${base}/saml/acs`, logoutCallbackUrl: `${base}/saml/slo`,
        audience: `${base}/saml/metadata`, privateKey: kp.keyPem, signatureAlgorithm: 'sha256', digestAlgorithm: 'sha256',
        identifierFormat: NAME_ID_EMAIL, wantAssertionsSigned: true, wantAuthnResponseSigned: true,
        validateInResponseTo: ValidateInResponseTo.always, acceptedClockSkewMs: 5000,
        // The gateway applies this SP's MFA policy; the SP does not ask for a class itself.
        disableRequestedAuthnContext: true,
      });
    })().catch((err: unknown) => { saml = undefined; throw err; });
    return saml;
  };

  const html = (res: ServerResponse, status: number, title: string, body: string, error?: string, extra: Record<string, string | string[]> = {}) =>
    send(res, status, 'text/html; charset=utf-8', demoPage({ app: name, title, body, accent: 'saml', error }), policy, extra);

  function home(res: ServerResponse, s: Session | undefined, notice?: string) {
    if (!s) {
      return html(res, 200, 'Welcome', `${notice ? `<p role="status" id="notice">${esc(notice)}</p>` : ''}
<p>You are not signed in. This service provider lets <strong>Gatehouse</strong> sign you in with SAML 2.0.</p>
<p><a class="button" id="sign-in" href="/login">Sign in with Gatehouse (SAML)</a></p>`);
    }
    const rows = Object.entries(s.attributes).map(([k, v]) =>
      `<tr><th scope="row">${FRIENDLY[k] ? `${esc(FRIENDLY[k])} ` : ''}<code>${esc(k)}</code></th><td><code>${esc(Array.isArray(v) ? v.join(', ') : String(v))}</code></td></tr>`).join('\n');
    return html(res, 200, `Signed in as ${s.profile.nameID}`, `<p>How you signed in: <strong id="authn-words">${esc(CLASS_WORDS[s.classRef] ?? 'see below')}</strong>. The assertion's <code>AuthnContextClassRef</code>:</p>
<p class="hl"><code id="authn-context">${esc(s.classRef)}</code></p>
<h2>The assertion</h2>
<table id="assertion"><caption class="note">Signature checked by node-saml against the certificate in Gatehouse's metadata.</caption>
<tr><th scope="row">NameID</th><td><code id="name-id">${esc(s.profile.nameID)}</code></td></tr>
<tr><th scope="row">Issuer</th><td><code>${esc(s.profile.issuer)}</code></td></tr>
<tr><th scope="row">SessionIndex</th><td><code>${esc(s.profile.sessionIndex ?? '')}</code></td></tr>
</table>
<h2>Attributes</h2>
<table id="attributes">
${rows || '<tr><td>none released</td></tr>'}
</table>
<h2>Try next</h2>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${esc(s.csrf)}"><button type="submit" id="sign-out">Sign out (single logout)</button></form>`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const jar = cookies(req);
    const session = jar[SID] ? sessions.get(jar[SID]) : undefined;

    // No icon: answered empty so browsers do not log a 404 on every page.
    if (url.pathname === '/favicon.ico') { res.writeHead(204, { 'cache-control': 'max-age=86400' }); return res.end(); }
    if (req.method === 'GET' && url.pathname === '/style.css') return send(res, 200, 'text/css; charset=utf-8', stylesheet, policy);
    if (req.method === 'GET' && url.pathname === '/saml/metadata') {
      const xml = (await sp()).generateServiceProviderMetadata(null, certPem);
      return send(res, 200, 'application/samlmetadata+xml', xml, policy);
    }
    if (req.method === 'GET' && url.pathname === '/') {
      return home(res, session, url.searchParams.get('signed_out') === '1' ? 'You are signed out of this service provider and of Gatehouse.' : undefined);
    }
    if (req.method === 'GET' && url.pathname === '/login') {
      return redirect(res, await (await sp()).getAuthorizeUrlAsync('/', undefined, {}));
    }
    if (req.method === 'POST' && url.pathname === '/saml/acs') {
      const form = await readForm(req);
      try {
        const { profile } = await (await sp()).validatePostResponseAsync({ SAMLResponse: form.get('SAMLResponse') ?? '' });
        if (!profile) throw new Error('no profile in the response');
        const classRef = /<(?:\w+:)?AuthnContextClassRef>([^<]+)</.exec(profile.getAssertionXml?.() ?? '')?.[1] ?? '(none)';
        const sid = newId();
        sessions.set(sid, { profile, attributes: (profile.attributes as Record<string, unknown> | undefined) ?? {}, classRef, csrf: newId() });
        return redirect(res, '/', { 'set-cookie': setCookie(SID, sid) });
      } catch (err) {
        return html(res, 400, 'Not signed in', '<p><a class="button" id="sign-in" href="/login">Try again</a></p>', `The SAML response was not accepted: ${(err as Error).message}`);
      }
    }
    if (req.method === 'POST' && url.pathname === '/logout') {
      const form = await readForm(req);
      if (!session || !sameToken(form.get('csrf'), session.csrf)) return redirect(res, '/');
      sessions.delete(jar[SID]!);
      return redirect(res, await (await sp()).getLogoutUrlAsync(session.profile, '/?signed_out=1', {}), { 'set-cookie': setCookie(SID, '', 0) });
    }
    if (url.pathname === '/saml/slo') {
      const s = await sp();
      try {
        if (req.method === 'GET' && url.searchParams.has('SAMLResponse')) {
          const r = await s.validateRedirectAsync(Object.fromEntries(url.searchParams), url.search.slice(1));
          if (!r.loggedOut) throw new Error('the logout was not confirmed');
          return redirect(res, '/?signed_out=1');
        }
        // The gateway asks us to end a session (the user signed out in another application).
        const form = req.method === 'POST' ? await readForm(req) : url.searchParams;
        const r = req.method === 'POST'
          ? await s.validatePostRequestAsync({ SAMLRequest: form.get('SAMLRequest') ?? '' })
          : await s.validateRedirectAsync(Object.fromEntries(url.searchParams), url.search.slice(1));
        if (!r.profile) throw new Error('no LogoutRequest');
        for (const [id, v] of sessions) if (v.profile.nameID === r.profile.nameID) sessions.delete(id);
        return redirect(res, await s.getLogoutResponseUrlAsync(r.profile, form.get('RelayState') ?? '', {}, true), { 'set-cookie': setCookie(SID, '', 0) });
      } catch (err) {
        return html(res, 400, 'Sign-out not confirmed', '<p><a href="/">Home</a></p>', `The logout message was not accepted: ${(err as Error).message}`);
      }
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
    url: base, entityId: `${base}/saml/metadata`, acsUrl: `${base}/saml/acs`, sloUrl: `${base}/saml/slo`, certPem,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
