// New recovery codes (the old ones stop working), shown once; a fresh second factor first.
import type { FastifyInstance } from 'fastify';
import { codesPage, confirmPage } from '../views/forms.ts';
import type { Kit, Op, PortalDeps } from '../kit.ts';

const PATH = '/account/recovery';
const OP: Op = { action: 'recovery_regenerate', audit: 'account.recovery.regenerate' };

export function registerRecovery(app: FastifyInstance, d: PortalDeps, kit: Kit) {
  const { services: s } = d;
  const theme = s.config.ui;

  async function enter(req: Parameters<Kit['signedIn']>[0], reply: Parameters<Kit['signedIn']>[1], post: boolean) {
    const c = await kit.signedIn(req, reply, PATH);
    if (!c || (post && !(await kit.csrfOk(c, 'recovery', OP)))) return undefined;
    // Recovery codes back up the authenticator app; without it there is nothing to recover.
    if (!(await s.mfa.totp.isEnrolled(c.user.id))) { await reply.code(303).redirect('/account', 303); return undefined; }
    if (!(await kit.requireFresh(c, OP, PATH))) return undefined;
    return c;
  }

  app.get(PATH, async (req, reply) => {
    const c = await enter(req, reply, false);
    if (!c) return reply;
    return kit.page(reply, 200, confirmPage(theme, {
      csrf: kit.csrf(c, 'recovery'), title: 'Get new recovery codes', action: PATH, button: 'Get new codes', id: 'regenerate',
      text: 'You get ten new recovery codes, shown once. The codes you have now stop working.',
    }));
  });

  app.post(PATH, async (req, reply) => {
    const c = await enter(req, reply, true);
    if (!c) return reply;
    const codes = await s.mfa.recovery.regenerate(c.user.id);
    kit.count(OP.action, 'success');
    await kit.audit(c, OP.audit, 'success', { factor: 'recovery' });
    return kit.page(reply, 200, codesPage(theme, { codes, notice: 'You have new recovery codes.' }));
  });
}
