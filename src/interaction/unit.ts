// Each interaction request (login POST, MFA steps, consent) is one unit of work (storage/unit-of-work.ts):
// the interaction save, the audit row, a throttle reset, a challenge row are written in one commit when the
// answer is sent (onSend runs before a byte leaves), instead of one autocommit each.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { flushUnit, newUnit, runInUnit, type Unit } from '../storage/unit-of-work.ts';

const units = new WeakMap<FastifyRequest, Unit>();

/** Wraps every route registered in this scope from now on. Call before registering the routes. */
export function unitPerRequest(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      const unit = newUnit();
      units.set(req, unit);
      return runInUnit(unit, () => handler.call(this, req, reply));
    } as RouteHandlerMethod;
  });
  app.addHook('onSend', async (req, _reply, payload) => {
    const unit = units.get(req);
    // A failed flush throws: the error handler answers instead (503 when the database is down), and this
    // hook, running again for that answer, finds the unit closed.
    if (unit && !unit.closed) await flushUnit(unit);
    return payload;
  });
}
