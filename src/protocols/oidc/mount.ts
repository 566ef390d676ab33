// Hands the protocol endpoints to oidc-provider (a Koa app) from inside Fastify. Fastify must not read
// the body: oidc-provider parses it itself, so this scope has a pass-through content-type parser.
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import { OIDC_PREFIX } from './provider.ts';

/** The live provider; replaced when another instance rotates the signing keys. */
export interface ProviderHolder { current(): Provider; callback(): ReturnType<Provider['callback']> }

/** Koa middleware: a 5xx caused by a database outage becomes 503 + Retry-After. */
export function outageMiddleware(isUnavailable: () => boolean) {
  return async (ctx: { status: number; body: unknown; set(k: string, v: string): void; type: string; accepts(...t: string[]): string | false }, next: () => Promise<void>) => {
    await next();
    if (ctx.status >= 500 && isUnavailable()) {
      ctx.status = 503;
      ctx.set('retry-after', '5');
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/json';
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again shortly' };
    }
  };
}

export async function mountProvider(app: FastifyInstance, holder: ProviderHolder) {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handler = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      reply.hijack();
      // Headers set by Fastify hooks so far (request id, security headers) are copied onto the raw response.
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) reply.raw.setHeader(k, v as string);
      await holder.callback()(req.raw, reply.raw);
    };
    scope.all(`${OIDC_PREFIX}/*`, handler);
    scope.all('/.well-known/openid-configuration', handler);
    scope.all('/.well-known/oauth-authorization-server', handler);
  });
}
