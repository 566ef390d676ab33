// An HTTP-POST AuthnRequest from another site arrives without the gateway's cookies: browsers keep
// SameSite=Lax cookies off cross-site POSTs, so a signed-in browser looks signed out. Instead of parking the
// request and sending the browser round /oidc/auth and /saml/continue (where its cookies go along: three
// exchanges and three commits), /saml/sso checks the request and answers with a page that posts the same
// fields to itself from the gateway's own origin. That post carries the cookies, and a signed-in browser is
// answered in-process (inline-authorize.ts): two exchanges and one commit. A browser without a session takes
// the usual way from the second post, one cheap exchange later.
//
// When the first post is not resent:
//  - it carries the session cookie (nothing is hidden);
//  - Sec-Fetch-Site says same-origin, same-site or none: the browser sent every cookie it had for us, so a
//    missing session cookie means no session (https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header);
//  - it carries RESENT_FIELD: it is the resend (the marker keeps browsers without Sec-Fetch-Site from looping;
//    anyone may set it, which only takes the usual way).
import type { IncomingHttpHeaders } from 'node:http';
import { hasSessionCookie } from './inline-authorize.ts';

/** The hidden field the resend page adds. Not a SAML parameter: the body parser keeps it apart. */
export const RESENT_FIELD = 'gh_resent';

/** True when a POST to /saml/sso should be sent again from the gateway's own page first. */
export function shouldResend(issuer: string, headers: IncomingHttpHeaders, resent: boolean): boolean {
  if (resent || hasSessionCookie(issuer, headers.cookie)) return false;
  const site = headers['sec-fetch-site'];
  return site === undefined || site === 'cross-site';
}
