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
// Relies on Koa handing the request object given to callback() through as ctx.req, and reading the pinned
// X-Forwarded-* headers under `proxy = true` (provider.ts):
// https://github.com/koajs/koa/blob/master/docs/api/context.md#ctxreq
// https://github.com/koajs/koa/blob/master/docs/api/request.md#requestprotocol
import inject from 'light-my-request';
import { currentUnit } from '../../storage/unit-of-work.ts';
import type { ProviderHolder } from '../oidc/mount.ts';
import { pinnedHeaders } from '../oidc/mount.ts';
import { cookieNames } from '../oidc/provider.ts';

/** What /saml/sso knows of the browser's request. */
export interface FromBrowser { cookie: string | undefined; ip: string; userAgent: string | undefined; acceptLanguage: string | undefined }

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
  const unit = currentUnit();
  if (!unit) throw new Error('GW_ERR_SAML_INLINE: an in-process authorization needs the request\'s unit of work');
  const provider = holder.current();
  const u = new URL(url);
  const headers: Record<string, string> = { ...pinnedHeaders(provider.issuer, from.ip), accept: 'text/html' };
  if (from.cookie) headers.cookie = from.cookie;
  if (from.userAgent) headers['user-agent'] = from.userAgent;
  if (from.acceptLanguage) headers['accept-language'] = from.acceptLanguage;
  // The redemption looks up the Grant and the account the authorization request read with the session.
  unit.sharePrefetched = true;
  let res;
  try {
    res = await inject((req, raw) => {
      // The provider's unit-of-work middleware lets exactly this request object join the open unit; nothing
      // that arrives over the network can be it.
      unit.guest = req;
      void holder.callback()(req, raw);
    }, { method: 'GET', url: u.pathname + u.search, headers, remoteAddress: from.ip });
  } finally {
    unit.guest = undefined;
  }
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
  if (res.statusCode < 300 || res.statusCode >= 400 || !location) {
    throw Object.assign(new Error(`GW_ERR_SAML_INLINE: the authorization endpoint answered ${res.statusCode}`), { statusCode: res.statusCode >= 500 ? res.statusCode : 500 });
  }
  const target = new URL(location, provider.issuer);
  if (`${target.origin}${target.pathname}` === continueAt) {
    return { kind: 'continue', query: Object.fromEntries(target.searchParams), cookies };
  }
  return { kind: 'redirect', url: location, cookies };
}
