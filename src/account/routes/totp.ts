// The authenticator app: enroll (QR, confirm with a first code, recovery codes shown once) and remove
// (fresh second factor; never the last factor while MFA is required). Enrolling needs a fresh second
// factor when the user already has one (Duo): a password alone must never add a factor.
import type { FastifyInstance } from 'fastify';
import { generateSecret, matchStep, otpauthUri } from '../../mfa/totp/totp-code.ts';
import { qrSvg } from '../../mfa/totp/qr.ts';
import { factorOverview, mayRemoveTotp } from '../factors.ts';
import { codesPage, confirmPage, enrollPage } from '../views/forms.ts';
import type { Kit, Op, PortalDeps, SignedInContext } from '../kit.ts';

const ENROLL = '/account/totp/enroll';
const REMOVE = '/account/totp/remove';
const ENROLL_OP: Op = { action: 'totp_enroll', audit: 'account.totp.enroll' };
const REMOVE_OP: Op = { action: 'totp_remove', audit: 'account.totp.remove' };
const home = (c: SignedInContext) => c.reply.code(303).header('cache-control', 'no-store').redirect('/account', 303);

export function registerTotp(app: FastifyInstance, d: PortalDeps, kit: Kit) {
  const { services: s } = d;
  const theme = s.config.ui;

  /** Signed in, TOTP enabled and not yet set up, and fresh when another factor exists. */
  async function enterEnroll(req: Parameters<Kit['signedIn']>[0], reply: Parameters<Kit['signedIn']>[1], post: boolean) {
    const c = await kit.signedIn(req, reply, ENROLL);
    if (!c || (post && !(await kit.csrfOk(c, 'totp-enroll', ENROLL_OP)))) return undefined;
    const f = await factorOverview(s.config, s.mfa, c.user);
    if (!f.totp.enabled || f.totp.enrolled) { await home(c); return undefined; }
    if (f.duo && !(await kit.requireFresh(c, ENROLL_OP, ENROLL))) return undefined;
    return c;
  }

  const renderEnroll = async (c: SignedInContext, secret: string, status = 200, error?: string) =>
    kit.page(c.reply, status, enrollPage(theme, {
      csrf: kit.csrf(c, 'totp-enroll'), secret, error,
      qrSvg: await qrSvg(otpauthUri(secret, s.config.mfa.totp.issuer, c.user.username)),
    }));

  app.get(ENROLL, async (req, reply) => {
    const c = await enterEnroll(req, reply, false);
    if (!c) return reply;
    const pending = await s.mfa.totp.find(c.user.id);
    let secret = pending && !pending.confirmed ? pending.secret : undefined;
    if (!secret) { secret = generateSecret(); await s.mfa.totp.savePending(c.user.id, secret); }
    return renderEnroll(c, secret);
  });

  app.post(ENROLL, async (req, reply) => {
    const c = await enterEnroll(req, reply, true);
    if (!c) return reply;
    const { user } = c;
    const pending = await s.mfa.totp.find(user.id);
    if (!pending || pending.confirmed) return reply.code(303).redirect(ENROLL, 303);
    const verdict = await s.throttle.check(user.username, req.ip);
    const code = String((req.body as Record<string, unknown> | undefined)?.code ?? '').replace(/\s/g, '').slice(0, 6);
    const step = verdict.ok ? matchStep(pending.secret, code) : undefined;
    if (step === undefined || !(await s.mfa.totp.acceptStep(user.id, step, true))) {
      if (verdict.ok) await s.throttle.fail(user.username, req.ip);
      kit.count(ENROLL_OP.action, 'failure');
      await kit.audit(c, ENROLL_OP.audit, 'failure', { factor: 'totp', reason: verdict.ok ? 'invalid' : verdict.reason });
      return renderEnroll(c, pending.secret, verdict.ok ? 401 : 429, verdict.ok
        ? 'That code is not right. Wait for the next code in your app and try again.'
        : 'Too many failed attempts. Wait a few minutes and try again.');
    }
    const codes = await s.mfa.recovery.regenerate(user.id);
    kit.count(ENROLL_OP.action, 'success');
    await kit.audit(c, ENROLL_OP.audit, 'success', { factor: 'totp' });
    return kit.page(reply, 200, codesPage(theme, { codes, notice: 'Your authenticator app is set up.' }));
  });

  const removeText = 'Remove the authenticator app from your account? Its recovery codes stop working too. You can set up an app again afterwards.';
  const lastFactorText = 'You cannot remove your authenticator app: it is your only second factor, and your organization requires one. Set up another method first, or ask your administrator.';

  /** Signed in with TOTP set up; the last-factor rule answered before anything else. */
  async function enterRemove(req: Parameters<Kit['signedIn']>[0], reply: Parameters<Kit['signedIn']>[1], post: boolean) {
    const c = await kit.signedIn(req, reply, REMOVE);
    if (!c || (post && !(await kit.csrfOk(c, 'totp-remove', REMOVE_OP)))) return undefined;
    const f = await factorOverview(s.config, s.mfa, c.user);
    if (!f.totp.enrolled) { await home(c); return undefined; }
    if (!mayRemoveTotp(s.config, f)) {
      if (post) {
        kit.count(REMOVE_OP.action, 'denied');
        await kit.audit(c, REMOVE_OP.audit, 'denied', { factor: 'totp', reason: 'last_factor' });
      }
      await kit.page(reply, 409, confirmPage(theme, { csrf: '', title: 'Remove authenticator app', text: removeText, action: REMOVE, button: 'Remove', id: 'remove', error: lastFactorText }));
      return undefined;
    }
    if (!(await kit.requireFresh(c, REMOVE_OP, REMOVE))) return undefined;
    return c;
  }

  app.get(REMOVE, async (req, reply) => {
    const c = await enterRemove(req, reply, false);
    if (!c) return reply;
    return kit.page(reply, 200, confirmPage(theme, { csrf: kit.csrf(c, 'totp-remove'), title: 'Remove authenticator app', text: removeText, action: REMOVE, button: 'Remove', id: 'remove' }));
  });

  app.post(REMOVE, async (req, reply) => {
    const c = await enterRemove(req, reply, true);
    if (!c) return reply;
    await s.mfa.totp.remove(c.user.id);
    await s.mfa.recovery.removeAll(c.user.id);
    await s.db.query(`UPDATE users SET preferred_factor = NULL WHERE id = $1 AND preferred_factor IN ('totp', 'recovery')`, [c.user.id]);
    kit.count(REMOVE_OP.action, 'success');
    await kit.audit(c, REMOVE_OP.audit, 'success', { factor: 'totp' });
    return reply.code(303).header('cache-control', 'no-store').redirect('/account?done=totp_removed', 303);
  });
}
