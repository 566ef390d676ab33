// OpenID Foundation Config OP checks: the discovery document describes exactly what Gatehouse does, and no
// request header (Host, X-Forwarded-*) can change the issuer or any published link.
import t from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/browser.ts';
import { authorizeUrl, discover } from '../helpers/oidc.ts';

const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint',
  'introspection_endpoint', 'revocation_endpoint'] as const;

t.test('discovery', async (t) => {
  const gw = await startGateway(t);

  t.test('discovery document', async (t) => {
    const res = await fetch(`${gw.url}/.well-known/openid-configuration`);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^application\/json/);
    const doc = await res.json() as Record<string, unknown>;
    t.equal(doc.issuer, gw.url, 'issuer is the configured ISSUER');
    for (const e of ENDPOINTS) t.match(doc[e], new RegExp(`^${gw.url}/oidc/`), `${e} below the issuer`);
    t.same(doc.code_challenge_methods_supported, ['S256'], 'S256 only');
    t.same(doc.response_types_supported, ['code'], 'no implicit or hybrid');
    t.same([...(doc.grant_types_supported as string[])].sort(), ['authorization_code', 'client_credentials', 'refresh_token']);
    t.same(doc.subject_types_supported, ['public']);
    t.ok((doc.id_token_signing_alg_values_supported as string[]).includes('ES256'));
    t.notOk((doc.id_token_signing_alg_values_supported as string[]).includes('none'), 'unsigned ID tokens are not offered');
    t.same([...(doc.scopes_supported as string[])].sort(), ['email', 'groups', 'offline_access', 'openid', 'profile']);
    for (const c of ['sub', 'acr', 'amr', 'auth_time', 'email', 'preferred_username']) t.ok((doc.claims_supported as string[]).includes(c), `claim ${c}`);
    t.ok((doc.acr_values_supported as string[]).includes('urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'));
    t.equal(doc.backchannel_logout_supported, true);

    const jwks = await (await fetch(doc.jwks_uri as string)).json() as { keys: Array<Record<string, unknown>> };
    t.ok(jwks.keys.some((k) => k.alg === 'ES256' && k.kty === 'EC'), 'an ES256 key is published');
    for (const k of jwks.keys) {
      t.notOk('d' in k || 'p' in k || 'q' in k, `key ${String(k.kid)} is public only`);
    }

    // openid-client's own discovery validation (issuer equality) accepts it.
    const rp = await discover(gw);
    t.equal(rp.serverMetadata().issuer, gw.url);
  });

  t.test('a spoofed Host or X-Forwarded-Host changes neither the issuer nor any link', async (t) => {
    t.equal(gw.config.server.trustProxy, false);
    const spoof = { host: 'evil.example', 'x-forwarded-host': 'evil2.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil3.example;proto=https' };
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const res = await rawRequest(`${gw.url}${path}`, { headers: spoof });
      t.equal(res.status, 200, path);
      const doc = JSON.parse(res.body) as Record<string, unknown>;
      t.equal(doc.issuer, gw.url, `${path}: issuer`);
      t.notMatch(res.body, /evil/, `${path}: no link to the spoofed host`);
      for (const [k, v] of Object.entries(doc)) {
        if (typeof v === 'string' && /^https?:/.test(v)) t.ok(v.startsWith(`${gw.url}/`) || v === gw.url, `${path}: ${k} follows the issuer`);
      }
    }

    // The authorization answer, its redirects and the logout confirmation form are built from the request too.
    const auth = await rawRequest(authorizeUrl(gw), { headers: spoof });
    t.equal(auth.status, 200, 'the login form');
    t.notMatch(auth.body, /evil/, 'the login form links nothing to the spoofed host');
    t.notMatch(auth.headers['set-cookie']?.join() ?? '', /evil/, 'nor do its cookies');
    const none = await rawRequest(authorizeUrl(gw, { prompt: 'none' }), { headers: spoof });
    t.equal(none.status, 303);
    t.equal(new URL(none.headers.location!).searchParams.get('iss'), gw.url, 'a redirect to the client names the real issuer');
    const logout = await rawRequest(`${gw.url}/oidc/session/end`, { headers: spoof });
    t.equal(logout.status, 200);
    t.notMatch(logout.body, /evil/, 'logout form posts to the issuer');
    t.match(logout.body, `action="${gw.url}/oidc/session/end/confirm"`);
  });
});
