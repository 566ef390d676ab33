// Password change: fresh second factor, current password (throttled like a login), the new password's
// rules, then every other session of the user ends and everything issued to them before is revoked.
// A full hashing queue (users/passwords.ts) answers the form again with 503 and changes nothing.
import type { FastifyInstance } from 'fastify';
import { HashingBusyError } from '../../users/passwords.ts';
import { BUSY_TEXT } from '../../interaction/views/message.ts';
import { endPortalSessions } from '../session-store.ts';
import { checkNewPassword, PROBLEM_TEXT } from '../password-policy.ts';
import { revokeUserAccess } from '../revoke.ts';
import { passwordPage } from '../views/forms.ts';
import type { Kit, Op, PortalDeps, SignedInContext } from '../kit.ts';

const PATH = '/account/password';
const OP: Op = { action: 'password_change', audit: 'account.password' };
const field = (body: unknown, k: string) => {
  const v = (body as Record<string, unknown> | undefined)?.[k];
  return typeof v === 'string' ? v : '';
};

export function registerPassword(app: FastifyInstance, d: PortalDeps, kit: Kit) {
  const { services: s } = d;
  const render = (c: SignedInContext, status = 200, error?: string) => kit.page(c.reply, status, passwordPage(s.config.ui, {
    csrf: kit.csrf(c, 'password'), username: c.user.username, minLength: s.config.passwords.minLength, error,
  }));

  app.get(PATH, async (req, reply) => {
    const c = await kit.signedIn(req, reply, PATH);
    if (!c || !(await kit.requireFresh(c, OP, PATH))) return reply;
    return render(c);
  });

  app.post(PATH, async (req, reply) => {
    const c = await kit.signedIn(req, reply, PATH);
    if (!c || !(await kit.csrfOk(c, 'password', OP)) || !(await kit.requireFresh(c, OP, PATH))) return reply;
    try {
      return await change(c);
    } catch (err) {
      if (!(err instanceof HashingBusyError)) throw err;
      req.log.warn({ event: 'GW_BUSY', retryAfter: err.retryAfterSeconds }, 'password check refused: hashing queue full');
      reply.header('retry-after', String(err.retryAfterSeconds));
      return render(c, 503, BUSY_TEXT);
    }
  });

  async function change(c: SignedInContext) {
    const { req, reply } = c;
    const { user } = c;
    const [current, next, confirm] = ['current', 'password', 'confirm'].map((k) => field(req.body, k)) as [string, string, string];
    const fail = async (status: number, reason: string, text: string) => {
      kit.count(OP.action, 'failure');
      await kit.audit(c, OP.audit, 'failure', { reason });
      return render(c, status, text);
    };
    const verdict = await s.throttle.check(user.username, req.ip);
    if (!verdict.ok) {
      reply.header('retry-after', String(verdict.retryAfterSeconds));
      return fail(429, verdict.reason, 'Too many failed attempts. Wait a few minutes and try again.');
    }
    if (!current || current.length > 1024 || !(await s.passwords.verify(user.passwordHash, current))) {
      await s.throttle.fail(user.username, req.ip);
      return fail(401, 'wrong_password', 'Your current password is not right.');
    }
    const problem = checkNewPassword(next, confirm, { minLength: s.config.passwords.minLength, username: user.username, email: user.email, current });
    if (problem) return fail(400, problem, problem === 'too_short' ? `The new password is too short: use at least ${s.config.passwords.minLength} characters.` : PROBLEM_TEXT[problem]);
    await s.users.setPassword(user.id, await s.passwords.hash(next));
    await s.throttle.succeed(user.username);
    const revoked = await revokeUserAccess({ db: s.db, provider: d.provider(), log: s.log }, user.id, c.st.sessionUid);
    const portalSessions = await endPortalSessions(s.db, user.id, req.session.sessionId);
    kit.count(OP.action, 'success');
    await kit.audit(c, OP.audit, 'success', { detail: { ...revoked, portalSessions } });
    return reply.code(303).header('cache-control', 'no-store').redirect('/account?done=password', 303);
  }
}
