// Hands the protocol endpoints to oidc-provider (a Koa app) from inside Fastify. Fastify must not read
// the body: oidc-provider parses it itself, so this scope has a pass-through content-type parser.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { OIDC_PREFIX } from './provider.ts';
import { unavailablePage } from '../../interaction/views/message.ts';
import type { Theme } from '../../views/layout.ts';

/** The live provider; replaced when another instance rotates the signing keys. */
export interface ProviderHolder { current(): Provider; callback(): ReturnType<Provider['callback']> }

type OutageCtx = { status: number; body: unknown; set(k: string, v: string): void; type: string; accepts(...t: string[]): string | false };

/**
 * A 5xx caused by a database outage becomes 503 + Retry-After: Gatehouse's page for a browser (the
 * authorization and logout endpoints), the OAuth error JSON for everything else. Applied by the provider's
 * unit-of-work middleware (provider.ts) to every oidc-provider answer.
 */
export function applyOutage(ctx: OutageCtx, isUnavailable: () => boolean, theme: Theme) {
  if (ctx.status >= 500 && isUnavailable()) {
    ctx.status = 503;
    ctx.set('retry-after', '5');
    ctx.set('cache-control', 'no-store');
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = unavailablePage(theme);
      return;
    }
    ctx.type = 'application/json';
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again shortly' };
  }
}

/**
 * Pins what Koa builds links from (host, scheme, client address) to the issuer. oidc-provider derives
 * discovery endpoints, the logout form action and the resume URL from the request (ctx.href), so an
 * unpinned Host or X-Forwarded-Host header would let anyone publish links to another host. The provider
 * runs with `proxy = true` so that it reads these pinned values; the client address is the one Fastify
 * computed under server.trustProxy.
 */
export function pinOrigin(req: FastifyRequest, issuer: string) {
  const h = req.raw.headers;
  Object.assign(h, pinnedHeaders(issuer, req.ip));
  delete h.forwarded;
}

/** The headers pinOrigin sets, for a request this process hands oidc-provider itself (saml/inline-authorize.ts). */
export function pinnedHeaders(issuer: string, ip: string) {
  const { host, proto } = originOf(issuer);
  return { host, 'x-forwarded-host': host, 'x-forwarded-proto': proto, 'x-forwarded-for': ip };
}

// The issuer is fixed for a provider's life: parse it once, not on every request.
let parsed: { issuer: string; host: string; proto: string } | undefined;
function originOf(issuer: string) {
  if (parsed?.issuer !== issuer) {
    const u = new URL(issuer);
    parsed = { issuer, host: u.host, proto: u.protocol.slice(0, -1) };
  }
  return parsed;
}

export async function mountProvider(app: FastifyInstance, holder: ProviderHolder) {
  await app.register(async (scope) => {
    // The provider takes over in this scope's onRequest hook: the reply is hijacked there, so Fastify skips
    // everything after it (pre-parsing, the content-type parser with its AsyncResource, validation, the
    // handler's promise) — work a client-credentials grant paid for nothing, since oidc-provider reads the
    // body itself. The request id and the security headers are already on the raw response
    // (platform/request-log.ts sets them there, in the root onRequest hook that runs before this one), and
    // the request line still comes from the root onResponse hook, which Fastify runs for hijacked replies.
    scope.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      pinOrigin(req, holder.current().issuer);
      reply.hijack();
      // Koa's handler answers its own errors (ctx.onerror) and never rejects.
      void holder.callback()(req.raw, reply.raw);
      done();
    });
    // Never reached (the hook above hijacks every request of the scope); the routes only claim the paths,
    // and the pass-through parser keeps Fastify from ever reading a body here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handler = async (_req: FastifyRequest, _reply: FastifyReply) => {};
    scope.all(`${OIDC_PREFIX}/*`, handler);
    scope.all('/.well-known/openid-configuration', handler);
    scope.all('/.well-known/oauth-authorization-server', handler);
  });
}
