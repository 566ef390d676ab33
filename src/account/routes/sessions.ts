// "Sign out everywhere": every gateway session of the user ends (this browser's too), everything issued
// to them is revoked, and every portal session ends. A fresh second factor first.
import type { FastifyInstance } from 'fastify';
import { html } from '../../views/html.ts';
import { page } from '../../views/layout.ts';
import { endPortalSessions } from '../session-store.ts';
import { revokeUserAccess } from '../revoke.ts';
import { confirmPage } from '../views/forms.ts';
import type { Kit, Op, PortalDeps } from '../kit.ts';

const PATH = '/account/sign-out-everywhere';
const OP: Op = { action: 'sign_out_everywhere', audit: 'account.sign_out_everywhere' };

export function registerSessions(app: FastifyInstance, d: PortalDeps, kit: Kit) {
  const { services: s } = d;
  const theme = s.config.ui;

  app.get(PATH, async (req, reply) => {
    const c = await kit.signedIn(req, reply, PATH);
    if (!c || !(await kit.requireFresh(c, OP, PATH))) return reply;
    return kit.page(reply, 200, confirmPage(theme, {
      csrf: kit.csrf(c, 'sign-out-everywhere'), title: 'Sign out everywhere', action: PATH, button: 'Sign out everywhere', id: 'confirm',
      text: 'This signs you out on every device and browser, including this one, and applications that stay signed in on your behalf lose access.',
    }));
  });

  app.post(PATH, async (req, reply) => {
    const c = await kit.signedIn(req, reply, PATH);
    if (!c || !(await kit.csrfOk(c, 'sign-out-everywhere', OP)) || !(await kit.requireFresh(c, OP, PATH))) return reply;
    const revoked = await revokeUserAccess({ db: s.db, provider: d.provider(), log: s.log }, c.user.id);
    const portalSessions = await endPortalSessions(s.db, c.user.id);
    kit.count(OP.action, 'success');
    await kit.audit(c, OP.audit, 'success', { detail: { ...revoked, portalSessions } });
    await req.session.destroy();
    return kit.page(reply, 200, page({
      theme, title: 'Signed out everywhere', notice: 'You are signed out on every device and browser.',
      body: html`<p><a href="/account" id="sign-in">Sign in again</a></p>`,
    }));
  });
}
