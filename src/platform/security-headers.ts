// Security headers on every response. They are set on the raw response in the request log's onRequest hook
// (platform/request-log.ts), so that responses written by oidc-provider (which bypass Fastify's onSend)
// carry them too; the list is computed once. oidc-provider appends the hash of its own auto-submit script
// to script-src when it renders a form_post response.
// `form-action` is deliberately absent: browsers apply it to the redirect chain after a form post, and
// that chain legitimately ends at the relying party's registered redirect URI.

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The headers every response carries ([name, value], lower-case names). */
export function securityHeaders(opts: { https: boolean }): ReadonlyArray<readonly [string, string]> {
  return Object.freeze([
    ['content-security-policy', CSP],
    ['x-frame-options', 'DENY'],
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['cross-origin-opener-policy', 'same-origin'],
    ...(opts.https ? [['strict-transport-security', 'max-age=31536000'] as const] : []),
  ] as const);
}
