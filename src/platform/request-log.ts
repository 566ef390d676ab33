// One log line per request (status, time, redacted URL) and the X-Request-Id contract: a sane incoming
// id is kept, anything else is replaced, and the id is always returned.
//
// This is the gateway's only per-request hook pair, kept cheap because every request pays it (a
// client-credentials grant is ~0.2 ms of CPU): both hooks are synchronous (no promise per hook), the fixed
// response headers (the request id, the security headers) go straight onto the raw response — so responses
// oidc-provider writes on a hijacked reply carry them without being copied over — and the line is written
// from Fastify's onResponse hook, which runs on 'finish' for hijacked replies too, with the time Fastify
// already measures (reply.elapsedTime) instead of a listener and a closure of our own.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { redactUrl, requestLineWriter } from './logger.ts';

export const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
export const genReqId = (req: { headers: Record<string, string | string[] | undefined> }) => {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
};

export interface RequestObserver { (route: string, method: string, status: number, seconds: number): void }

export interface RequestLogOptions {
  observe?: RequestObserver;
  /** Set on every response (platform/security-headers.ts), computed once. */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Called first for every request (connection tracking for graceful shutdown, src/app.ts). */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
}

export default fp(async function requestLog(app: FastifyInstance, opts: RequestLogOptions) {
  // The request line is built here from fixed fields only (method, URL with sensitive query values already
  // replaced by redactUrl, client address, status, time): none of them is a path the logger redacts, so it
  // goes through a child without the path redaction, which was half the cost of the line (the line itself
  // about a tenth of a client-credentials grant). Every other line keeps the full redaction.
  // The line is written as text by requestLineWriter (platform/logger.ts), the same bytes pino would write.
  const access = app.log.child({}, { redact: { paths: [], censor: '[redacted]' } });
  const writeLine = requestLineWriter(access as unknown as Logger);
  const headers = opts.headers ?? [];
  const before = opts.onRequest;
  const observe = opts.observe;
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const res = reply.raw;
    before?.(req.raw, res);
    res.setHeader('x-request-id', req.id);
    for (let i = 0; i < headers.length; i++) res.setHeader(headers[i]![0], headers[i]![1]);
    done();
  });
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const ms = reply.elapsedTime;
    const status = reply.raw.statusCode;
    writeLine({ reqId: req.id, method: req.method, url: redactUrl(req.url), ip: req.ip, status, ms: Math.round(ms * 10) / 10 });
    observe?.(req.routeOptions.url ?? 'unmatched', req.method, status, ms / 1000);
    done();
  });
}, { name: 'request-log' });
