// TOTP enrollment inside a login, for a user who must use MFA and has no factor yet (never when Duo is
// enabled: a password alone must not be enough to add a factor that would replace Duo).
// Show QR → confirm with a first valid code → show ten recovery codes once → finish the MFA step.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../users/users.ts';
import type { Outcome } from '../../mfa/factor.ts';
import { generateSecret, matchStep, otpauthUri } from '../../mfa/totp/totp-code.ts';
import { qrSvg } from '../../mfa/totp/qr.ts';
import { sendPage, type Body, type InteractionContext } from '../context.ts';
import type { InteractionKit } from '../context.ts';
import type { MfaRouteDeps } from './routes.ts';
import { enrollPage, recoveryCodesPage } from './views.ts';
import { restartTarget } from '../restart.ts';

interface EnrollDeps extends MfaRouteDeps {
  kit: InteractionKit;
  handleOutcome(c: InteractionContext, user: User, factor: string, o: Outcome): Promise<unknown>;
  canEnroll(user: User): Promise<boolean>;
  userOf(c: InteractionContext): Promise<User | undefined>;
}

type UidReq = FastifyRequest<{ Params: { uid: string } }>;

export function registerEnrollment(app: FastifyInstance, d: EnrollDeps) {
  const theme = d.config.ui;

  /** Loads interaction + user and checks enrollment is allowed here. */
  async function enter(req: UidReq, reply: FastifyReply, post: boolean) {
    const c = await d.kit.load(req, reply);
    if (!c || (post && !d.kit.csrfOk(c, 'mfa'))) return undefined;
    const user = await d.userOf(c);
    if (!user) return undefined;
    if (!(await d.canEnroll(user))) { await reply.code(303).redirect(`/interaction/${c.uid}?choose=1`, 303); return undefined; }
    return { c, user };
  }

  const render = async (c: InteractionContext, user: User, secret: string, status = 200, error?: string) =>
    sendPage(c.reply, status, enrollPage(theme, {
      uid: c.uid, csrf: d.csrf.token(c.uid, 'mfa'), secret, error,
      qrSvg: await qrSvg(otpauthUri(secret, d.config.mfa.totp.issuer, user.username)),
    }));

  app.get('/interaction/:uid/mfa/enroll', async (req: UidReq, reply) => {
    const e = await enter(req, reply, false);
    if (!e) return reply;
    const pending = await d.mfa.totp.find(e.user.id);
    let secret = pending && !pending.confirmed ? pending.secret : undefined;
    if (!secret) { secret = generateSecret(); await d.mfa.totp.savePending(e.user.id, secret); }
    return render(e.c, e.user, secret);
  });

  app.post('/interaction/:uid/mfa/enroll', async (req: UidReq, reply) => {
    const e = await enter(req, reply, true);
    if (!e) return reply;
    const { c, user } = e;
    const pending = await d.mfa.totp.find(user.id);
    if (!pending || pending.confirmed) return reply.code(303).redirect(`/interaction/${c.uid}/mfa/enroll`, 303);
    const verdict = await d.throttle.check(user.username, req.ip);
    if (!verdict.ok) return d.handleOutcome(c, user, 'totp', { ok: false, reason: 'locked' });
    const step = matchStep(pending.secret, String((req.body as Body)?.code ?? '').replace(/\s/g, '').slice(0, 6));
    if (step === undefined || !(await d.mfa.totp.acceptStep(user.id, step, true))) {
      await d.throttle.fail(user.username, req.ip);
      return render(c, user, pending.secret, 401, 'That code is not right. Wait for the next code in your app and try again.');
    }
    const codes = await d.mfa.recovery.regenerate(user.id);
    // Proof for the next step that enrollment completed in *this* interaction.
    await d.mfa.challenges.create({ interactionUid: c.uid, factor: 'totp-enroll', userId: user.id, state: {}, ttlSeconds: 900 });
    await d.audit.record({ type: 'mfa.totp.enroll', outcome: 'success', userId: user.id, username: user.username, clientId: c.details.params.client_id as string, ip: req.ip, factor: 'totp' });
    d.metrics.account.inc({ action: 'totp_enroll', result: 'success' });
    return sendPage(reply, 200, recoveryCodesPage(theme, { uid: c.uid, csrf: d.csrf.token(c.uid, 'mfa'), codes, restart: restartTarget(c.details.params) }));
  });

  app.post('/interaction/:uid/mfa/enroll/done', async (req: UidReq, reply) => {
    const c = await d.kit.load(req, reply);
    if (!c || !d.kit.csrfOk(c, 'mfa')) return reply;
    const user = await d.userOf(c);
    if (!user) return reply;
    const proof = await d.mfa.challenges.current(c.uid, 'totp-enroll');
    if (!proof || !(await d.mfa.challenges.consume(proof.id, c.uid, 'totp-enroll'))) return reply.code(303).redirect(`/interaction/${c.uid}?choose=1`, 303);
    return d.handleOutcome(c, user, 'totp', { ok: true, second: { kind: 'totp' }, detail: { enrolled: true } });
  });
}
