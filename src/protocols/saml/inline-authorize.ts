// The authorization request of a SAML login made in-process, for a browser that already holds a gateway
// session: instead of sending the browser to /oidc/auth and back to /saml/continue (two more HTTP exchanges
// and two more commits), /saml/sso hands oidc-provider the very request the browser would have made — its
// URL, the browser's cookies, the pinned origin — and reads the answer. Every session, MFA, max_age and
// consent rule is still oidc-provider's (bridge.ts): only the browser's trip is saved.
//  - a redirect to /saml/continue (a code, or a prompt=none error) is finished in the same request;
//  - any other redirect (a login or MFA screen is due) goes to the browser, with the cookies oidc-provider set;
//  - the inner request joins the outer request's unit of work (provider.ts unitOfWork): its writes (the
//    Session, the Grant, the code) are queued in the SAML request's one commit, and a code issued and
//    redeemed inside one unit is never written at all (storage/oidc-adapter.ts consume).
// Without the session cookie the browser takes the usual trip, where its cookies go along. (An HTTP-POST
// AuthnRequest from another site carries no SameSite=Lax cookie: it is posted again from the gateway's own
// page first, first-party-resend.ts, and comes back with them.)
// The in-process request itself (unit guest, pinned origin) is protocols/oidc/in-process.ts.
import type { ProviderHolder } from '../oidc/mount.ts';
import { getInProcess, type FromBrowser } from '../oidc/in-process.ts';
import { cookieNames } from '../oidc/provider.ts';

export type InlineAnswer =
  | { kind: 'continue'; query: Record<string, string | undefined>; cookies: string[] }
  | { kind: 'redirect'; url: string; cookies: string[] };

/** True when the request carries the gateway's session cookie (the only case worth an in-process try). */
export function hasSessionCookie(issuer: string, cookie: string | undefined): boolean {
  if (!cookie) return false;
  const name = cookieNames(issuer.startsWith('https:')).session;
  return cookie.startsWith(`${name}=`) || cookie.includes(` ${name}=`) || cookie.includes(`;${name}=`);
}

/**
 * Runs the authorization request `url` (absolute, on the issuer) through oidc-provider inside the current
 * unit of work. Throws when the provider answers anything but a redirect (a 5xx: the caller's error handler
 * answers 503/500; a 4xx would be a bug in the request this gateway built).
 */
export async function authorizeInline(holder: ProviderHolder, url: string, continueAt: string, from: FromBrowser): Promise<InlineAnswer> {
  const provider = holder.current();
  const u = new URL(url);
  // The redemption then looks up the Grant and the account the authorization request read with the
  // session: getInProcess leaves the unit sharing its prefetched rows.
  const res = await getInProcess(holder, u.pathname + u.search, from);
  const { cookies, location } = res;
  if (res.status < 300 || res.status >= 400 || !location) {
    throw Object.assign(new Error(`GW_ERR_SAML_INLINE: the authorization endpoint answered ${res.status}`), { statusCode: 500 });
  }
  const target = new URL(location, provider.issuer);
  if (`${target.origin}${target.pathname}` === continueAt) {
    return { kind: 'continue', query: Object.fromEntries(target.searchParams), cookies };
  }
  return { kind: 'redirect', url: location, cookies };
}
