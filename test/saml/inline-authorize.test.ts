// Which requests /saml/sso tries to answer in-process (src/protocols/saml/inline-authorize.ts): only those
// carrying the gateway's session cookie, under its name for the issuer's scheme (cookieNames in provider.ts).
import t from 'tap';
import { hasSessionCookie } from '../../src/protocols/saml/inline-authorize.ts';

t.test('the session cookie is recognised by its exact name, anywhere in the header', async (t) => {
  const http = 'http://127.0.0.1:3000';
  const https = 'https://sso.example.test';
  t.ok(hasSessionCookie(http, '_session=abc; _session.sig=x'));
  t.ok(hasSessionCookie(http, 'gh_saml=k; _session=abc'));
  t.ok(hasSessionCookie(http, 'gh_saml=k;_session=abc'));
  t.notOk(hasSessionCookie(http, undefined), 'no cookie header');
  t.notOk(hasSessionCookie(http, 'gh_saml=k'), 'only the SAML browser cookie');
  t.notOk(hasSessionCookie(http, 'x_session=abc; my_session=1'), 'a name that merely ends the same');
  t.notOk(hasSessionCookie(http, '_session.sig=x'), 'the signature alone');
  t.ok(hasSessionCookie(https, '__Host-gh_session=abc'), 'https: the __Host- name');
  t.notOk(hasSessionCookie(https, '_session=abc'), 'https: the plain name is not ours');
});
