// Security headers on every response, set in onRequest so that responses written by oidc-provider
// (which bypass Fastify's onSend) carry them too. oidc-provider appends the hash of its own auto-submit
// script to script-src when it renders a form_post response.
// `form-action` is deliberately absent: browsers apply it to the redirect chain after a form post, and
// that chain legitimately ends at the relying party's registered redirect URI.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

export default fp(async function securityHeaders(app: FastifyInstance, opts: { https: boolean }) {
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (opts.https) reply.header('strict-transport-security', 'max-age=31536000');
  });
}, { name: 'security-headers' });
