// A request this process makes to its own oidc-provider for a browser, inside the browser's request's unit
// of work: the request the browser would have made next (same URL, the browser's cookies, the origin
// pinned as mount.ts pins it), made here instead of sending the browser on a trip that only leads back.
// Used for a signed-in SAML login's authorization request (saml/inline-authorize.ts) and for the resume
// after the last interaction step (interaction/resume-in-process.ts).
//  - Its writes join the outer request's unit: the provider's unit-of-work middleware lets exactly this
//    request object join the open unit (Unit.guest, matched by identity), so nothing from the network can.
//  - The rows the outer request read along are shared with it (Unit.sharePrefetched).
//  - Relies on Koa handing the request object given to callback() through as ctx.req, and reading the
//    pinned X-Forwarded-* headers under `proxy = true` (provider.ts):
//    https://github.com/koajs/koa/blob/master/docs/api/context.md#ctxreq
//    https://github.com/koajs/koa/blob/master/docs/api/request.md#requestprotocol
import inject from 'light-my-request';
import { currentUnit } from '../../storage/unit-of-work.ts';
import type { ProviderHolder } from './mount.ts';
import { pinnedHeaders } from './mount.ts';

/** What the outer request knows of the browser. */
export interface FromBrowser { cookie: string | undefined; ip: string; userAgent: string | undefined; acceptLanguage: string | undefined; accept?: string }

export interface InProcessAnswer {
  status: number; location: string | undefined; cookies: string[];
  contentType: string | undefined; csp: string | undefined; body: string;
}

/**
 * GETs `path` (with its query) from the live provider inside the current unit of work. `csp`: the
 * Content-Security-Policy the outer answer carries, set on the inner response first so that oidc-provider
 * adds the hash of a script it renders (form_post) to it. Throws on a 5xx (the caller's error handler
 * answers 503/500, and the outer unit is discarded with it).
 */
export async function getInProcess(holder: ProviderHolder, path: string, from: FromBrowser, o: { csp?: string } = {}): Promise<InProcessAnswer> {
  const unit = currentUnit();
  if (!unit) throw new Error('GW_ERR_IN_PROCESS: a request to the provider in-process needs the request\'s unit of work');
  const headers: Record<string, string> = { ...pinnedHeaders(holder.current().issuer, from.ip), accept: from.accept ?? 'text/html' };
  if (from.cookie) headers.cookie = from.cookie;
  if (from.userAgent) headers['user-agent'] = from.userAgent;
  if (from.acceptLanguage) headers['accept-language'] = from.acceptLanguage;
  // The inner request looks up rows the outer one read with its own (a session's Grants and account, a
  // user and its TOTP seed): they stay for every lookup in this unit, a copy each (Unit.sharePrefetched).
  unit.sharePrefetched = true;
  let res;
  try {
    res = await inject((req, raw) => {
      unit.guest = req;
      if (o.csp) raw.setHeader('content-security-policy', o.csp);
      void holder.callback()(req, raw);
    }, { method: 'GET', url: path, headers, remoteAddress: from.ip });
  } finally {
    unit.guest = undefined;
  }
  if (res.statusCode >= 500) {
    throw Object.assign(new Error(`GW_ERR_IN_PROCESS: ${path.split('?')[0]} answered ${res.statusCode}`), { statusCode: res.statusCode });
  }
  const h = res.headers;
  return {
    status: res.statusCode,
    location: typeof h.location === 'string' ? h.location : undefined,
    cookies: ([] as string[]).concat(h['set-cookie'] ?? []),
    contentType: typeof h['content-type'] === 'string' ? h['content-type'] : undefined,
    csp: typeof h['content-security-policy'] === 'string' ? h['content-security-policy'] : undefined,
    body: res.body,
  };
}
