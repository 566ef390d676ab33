// A Fastify request as one unit of work (storage/unit-of-work.ts): its queued writes go out in one commit
// when the answer is sent (onSend runs before a byte leaves), instead of one autocommit each. Used by the
// interaction screens (every route of their scope) and the SAML SSO routes (wrapped one by one).
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { discardUnit, flushUnit, newUnit, runInUnit, type Unit } from '../storage/unit-of-work.ts';
import type { Db } from '../storage/db.ts';

type Lost = { model: string; id: string };
export interface RequestUnitOptions {
  /** The adapter's consumes join the commit as its first statements (storage/unit-of-work.ts). */
  deferConsume?: boolean;
  /** Inside the rolled-back flush's aftermath: what a lost one-time value undoes (e.g. revoke a grant). */
  onLost?: (q: Db, lost: Lost) => Promise<void>;
  /** After a lost flush: may throw to replace the answer that was built (nothing of it was committed). */
  whenLost?: (reply: FastifyReply, lost: Lost) => void;
  /** Rows read along stay for every lookup in the request, a copy each (Unit.sharePrefetched). */
  sharePrefetched?: boolean;
}

/**
 * Installs the flush on this scope's onSend and returns the wrapper that runs a handler in a fresh unit.
 * A failed flush throws: the error handler answers instead (503 when the database is down), and the hook,
 * running again for that answer, finds the unit closed.
 */
export function requestUnits(app: FastifyInstance, o: RequestUnitOptions = {}) {
  const units = new WeakMap<FastifyRequest, Unit>();
  app.addHook('onSend', async (req, reply, payload) => {
    const unit = units.get(req);
    if (!unit || unit.closed) return payload;
    // A 5xx answer is a request that failed (the database away, a bug): what it queued is half its work,
    // and is not written. Flushing it would also fail again during an outage, after the error handler had
    // answered, and Fastify would then send the raw database error instead of the 503 page.
    if (reply.statusCode >= 500) { discardUnit(unit); return payload; }
    const r = await flushUnit(unit, o.onLost);
    if (!r.ok) o.whenLost?.(reply, r.lost);
    return payload;
  });
  return (handler: RouteHandlerMethod): RouteHandlerMethod => function (this: FastifyInstance, req, reply) {
    const unit = newUnit({ deferConsume: o.deferConsume });
    if (o.sharePrefetched) unit.sharePrefetched = true;
    units.set(req, unit);
    return runInUnit(unit, () => handler.call(this, req, reply));
  } as RouteHandlerMethod;
}

/** Every route registered in this scope from now on is one unit. Call before registering the routes. */
export function unitPerRequest(app: FastifyInstance, o: Pick<RequestUnitOptions, 'sharePrefetched'> = {}) {
  const inUnit = requestUnits(app, o);
  app.addHook('onRoute', (route) => { route.handler = inUnit(route.handler as RouteHandlerMethod); });
}
