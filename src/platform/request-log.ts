// One log line per request (status, time, redacted URL) and the X-Request-Id contract: a sane incoming
// id is kept, anything else is replaced, and the id is always returned.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import { redactUrl } from './logger.ts';

export const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
export const genReqId = (req: { headers: Record<string, string | string[] | undefined> }) => {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
};

export interface RequestObserver { (route: string, method: string, status: number, seconds: number): void }

export default fp(async function requestLog(app: FastifyInstance, opts: { observe?: RequestObserver }) {
  // The request line is built here from fixed fields only (method, URL with sensitive query values already
  // replaced by redactUrl, client address, status, time): none of them is a path the logger redacts, so it
  // goes through a child without the path redaction, which was half the cost of the line (the line itself
  // about a tenth of a client-credentials grant). Every other line keeps the full redaction.
  const access = app.log.child({}, { redact: { paths: [], censor: '[redacted]' } });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const start = process.hrtime.bigint();
    // 'finish' also fires for responses written by oidc-provider on the raw socket (hijacked replies).
    reply.raw.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const status = reply.raw.statusCode;
      const line = {
        reqId: req.id, req: { method: req.method, url: redactUrl(req.url), ip: req.ip }, status, ms: Math.round(seconds * 1e4) / 10,
      };
      if (status >= 500) access.error(line, 'request'); else access.info(line, 'request');
      opts.observe?.(req.routeOptions?.url ?? 'unmatched', req.method, status, seconds);
    });
  });
}, { name: 'request-log' });
