// The last line: no stack trace or internal detail ever reaches a response. Database outages and a full
// password-hashing queue answer 503 with Retry-After; client mistakes keep their 4xx; everything else is a
// generic 500 with the request id.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../storage/db.ts';
import { isConnectionError } from '../storage/db.ts';
import { busyPage, messagePage, unavailablePage } from '../interaction/views/message.ts';
import { HashingBusyError } from '../users/passwords.ts';
import type { Theme } from '../views/layout.ts';

/**
 * PostgreSQL refusing a value's bytes (a NUL in text or jsonb, an invalid UTF-8 sequence): the input came
 * from the request, so it is the client's mistake (400), wherever a route forgot to screen it.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html (class 22: data exception)
 */
const BAD_INPUT_SQLSTATES = new Set(['22021', '22P05']);

export default fp(async function errorHandler(app: FastifyInstance, opts: { db: Db; theme: Theme }) {
  const wantsHtml = (accept: string | undefined) => !!accept && accept.includes('text/html');
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const html = wantsHtml(req.headers.accept);
    // An answer built before the failure (its commit failed in onSend: platform/request-unit.ts) may have
    // set a redirect, cookies and a page's CSP; the error answer carries none of them.
    for (const h of ['location', 'set-cookie', 'content-security-policy']) reply.removeHeader(h);
    if (isConnectionError(err) || opts.db.isUnavailable()) {
      req.log.warn({ err: { message: err.message, code: err.code }, event: 'GW_ERR_DB_UNAVAILABLE' }, 'database unavailable');
      reply.code(503).header('retry-after', '5').header('cache-control', 'no-store');
      return html
        ? reply.type('text/html; charset=utf-8').send(unavailablePage(opts.theme))
        : reply.send({ error: 'temporarily_unavailable', code: 'GW_UNAVAILABLE' });
    }
    if (err instanceof HashingBusyError) {
      req.log.warn({ event: 'GW_BUSY', retryAfter: err.retryAfterSeconds }, 'password check refused: hashing queue full');
      reply.code(503).header('retry-after', String(err.retryAfterSeconds)).header('cache-control', 'no-store');
      return html
        ? reply.type('text/html; charset=utf-8').send(busyPage(opts.theme))
        : reply.send({ error: 'temporarily_unavailable', code: 'GW_BUSY' });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode
      : BAD_INPUT_SQLSTATES.has(err.code ?? '') ? 400 : 500;
    if (status >= 500) req.log.error({ err, event: 'GW_ERR_INTERNAL' }, 'request failed');
    else req.log.info({ err: { message: err.message, code: err.code }, event: 'GW_ERR_BAD_REQUEST' }, 'bad request');
    reply.code(status).header('cache-control', 'no-store');
    const message = status >= 500 ? 'Something went wrong on our side.' : 'The request could not be understood.';
    const code = status >= 500 ? 'GW_INTERNAL' : 'GW_BAD_REQUEST';
    return html
      ? reply.type('text/html; charset=utf-8').send(messagePage(opts.theme, { title: status >= 500 ? 'Something went wrong' : 'Bad request', code: `${code} (${req.id})`, message }))
      : reply.send({ error: status >= 500 ? 'server_error' : 'invalid_request', code, request_id: req.id });
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', code: 'GW_NOT_FOUND' }));
}, { name: 'error-handler' });
