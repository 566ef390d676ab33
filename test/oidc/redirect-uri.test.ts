// Where errors go: a request whose redirect URI or client cannot be trusted gets Gatehouse's own error page
// and is never redirected anywhere; an error in an otherwise trustworthy request goes back to the RP.
import t, { type Test } from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { hasStackTrace } from '../helpers/browser.ts';
import { authorizeUrl } from '../helpers/oidc.ts';

const narrowClient = {
  clientId: 'narrow', clientSecret: 'narrow-secret-0123456789abcdefgh', redirectUris: ['http://127.0.0.1:9996/cb'],
  grantTypes: ['authorization_code'], firstParty: true, mfa: 'off', scopes: ['openid', 'profile'],
};

t.test('redirect URI and client checks', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, narrowClient] } } });

  /** The request must end on Gatehouse's error page: 400, HTML, a stable code, no Location header. */
  const errorPage = async (t: Test, url: URL, code: string) => {
    const res = await fetch(url, { redirect: 'manual' });
    const body = await res.text();
    t.equal(res.status, 400, 'status 400');
    t.equal(res.headers.get('location'), null, 'no redirect');
    t.match(res.headers.get('content-type'), /^text\/html/);
    t.equal(/id="error-code">([^<]*)</.exec(body)?.[1], code, `stable code ${code}`);
    t.match(body, '/assets/gatehouse.css', 'Gatehouse-styled page');
    t.notMatch(body, /http-equiv="refresh"|location\.(href|replace)|<script/i, 'no redirect in the page either');
    t.notOk(hasStackTrace(body), 'no stack trace');
    t.equal(res.headers.get('cache-control'), 'no-store');
    return body;
  };

  t.test('unregistered redirect_uri', async (t) => {
    const body = await errorPage(t, authorizeUrl(gw, { redirect_uri: 'https://evil.example/cb' }), 'GW_OIDC_REDIRECT_URI');
    t.notMatch(body, 'evil.example', 'the attacker URL is not echoed as a link');
  });
  t.test('redirect_uri differing only in its path, query or scheme', async (t) => {
    for (const uri of ['http://127.0.0.1:9999/cb/', 'http://127.0.0.1:9999/cb?x=1', 'https://127.0.0.1:9999/cb', 'http://127.0.0.1:9999/CB', 'http://localhost:9999/cb']) {
      await errorPage(t, authorizeUrl(gw, { redirect_uri: uri }), 'GW_OIDC_REDIRECT_URI');
    }
  });
  t.test('another client\'s redirect_uri', async (t) => {
    await errorPage(t, authorizeUrl(gw, { redirect_uri: narrowClient.redirectUris[0] }), 'GW_OIDC_REDIRECT_URI');
  });
  t.test('unknown client_id', async (t) => {
    await errorPage(t, authorizeUrl(gw, {}, 'no-such-client'), 'GW_OIDC_INVALID_CLIENT');
  });
  t.test('missing client_id', async (t) => {
    await errorPage(t, authorizeUrl(gw, { client_id: undefined }), 'GW_OIDC_INVALID_REQUEST');
  });
  t.test('a scope the client may not use: invalid_scope at the registered redirect URI', async (t) => {
    const res = await fetch(authorizeUrl(gw, { scope: 'openid email', redirect_uri: narrowClient.redirectUris[0] }, narrowClient.clientId), { redirect: 'manual' });
    t.equal(res.status, 303);
    const location = new URL(res.headers.get('location')!);
    t.equal(`${location.origin}${location.pathname}`, narrowClient.redirectUris[0]);
    t.equal(location.searchParams.get('error'), 'invalid_scope');
    t.equal(location.searchParams.get('state'), 'st-123');
    t.equal(location.searchParams.get('iss'), gw.url, 'RFC 9207 iss parameter');
  });
  t.test('invalid request parameters go back to the RP', async (t) => {
    for (const [params, error] of [
      [{ prompt: 'bogus' }, 'invalid_request'],
      [{ max_age: 'soon' }, 'invalid_request'],
      [{ request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
      [{ request_uri: 'https://evil.example/r' }, 'request_uri_not_supported'],
      [{ scope: 'profile' }, 'invalid_request'],
    ] as const) {
      const res = await fetch(authorizeUrl(gw, params), { redirect: 'manual' });
      t.equal(res.status, 303, JSON.stringify(params));
      const location = new URL(res.headers.get('location')!);
      t.equal(`${location.origin}${location.pathname}`, confidentialClient.redirectUris[0]);
      t.equal(location.searchParams.get('error'), error, `${JSON.stringify(params)} → ${error}`);
      t.notOk(location.searchParams.get('code'));
    }
  });
});
