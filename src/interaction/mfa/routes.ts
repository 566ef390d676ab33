// The MFA step's HTTP side: factor choice, begin, code entry, the Duo callback, TOTP enrollment.
// Factors (src/mfa) never see HTTP; challenges are stored per interaction and consumed once.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/schema.ts';
import type { Csrf } from '../csrf.ts';
import type { Users, User } from '../../users/users.ts';
import type { LoginThrottle, ThrottleVerdict } from '../../security/login-throttle.ts';
import type { Audit } from '../../platform/audit.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { MfaServices } from '../../mfa/registry.ts';
import type { FactorContext, MfaFactor, Outcome } from '../../mfa/factor.ts';
import { createInteractionKit, sendPage, type Body, type InteractionContext, type PromptRenderer } from '../context.ts';
import { messagePage } from '../views/message.ts';
import { choicePage, codePage, type ChoiceItem, type CodeFactor } from './views.ts';
import { failureMessage, isReason } from './reasons.ts';
import { createOutcomeHandler } from './outcome.ts';
import { registerEnrollment } from './enroll.ts';
import { clientPolicy } from '../../protocols/oidc/clients.ts';
import { mfaStepAccount } from '../pending-mfa.ts';
import type { ResumeInProcess } from '../resume-in-process.ts';
import { restartTarget } from '../restart.ts';

export interface MfaRouteDeps {
  config: Config; issuer: string; provider: () => Provider; csrf: Csrf; mfa: MfaServices;
  users: Users; throttle: LoginThrottle; audit: Audit; metrics: Metrics;
  /** Finishing the step resumes the authorization in-process (interaction/resume-in-process.ts). */
  resume?: ResumeInProcess;
}

const FORM_FACTORS = new Set(['totp', 'recovery', 'bypass']);
const FORM_TTL = 300;
const REDIRECT_TTL = 600;

/** Registers the routes; returns the renderer for the `mfa` prompt. */
export function registerMfaRoutes(app: FastifyInstance, d: MfaRouteDeps): PromptRenderer {
  const theme = d.config.ui;
  const kit = createInteractionKit({ theme, provider: d.provider, csrf: d.csrf, resume: d.resume });
  const handleOutcome = createOutcomeHandler(d);
  const maxAttempts = d.config.mfa.totp.maxAttempts;

  /**
   * The password-verified user of this interaction (the `mfa` prompt's session, or the login step waiting
   * for its factor: interaction/pending-mfa.ts), or a redirect to the interaction's own page.
   */
  async function userOf(c: InteractionContext): Promise<User | undefined> {
    const accountId = mfaStepAccount(c.details);
    if (!accountId) {
      await c.reply.code(303).redirect(`/interaction/${c.uid}`, 303);
      return undefined;
    }
    // Read with the interaction in this request (storage/oidc-prefetch.ts): no statement of its own.
    const user = await d.users.findSignedIn(accountId);
    // Disabled or deleted since the password step: an answer, not a redirect back to this same screen.
    if (!user || user.disabled) {
      await sendPage(c.reply, 403, messagePage(theme, {
        title: 'This account cannot sign in', code: 'GW_ACCOUNT_DISABLED',
        message: 'This account was disabled or removed during the sign-in.', next: 'Contact your administrator.',
      }));
      return undefined;
    }
    return user;
  }

  const factorContext = async (c: InteractionContext, user: User): Promise<FactorContext> => {
    const client = await d.provider().Client.find(c.details.params.client_id as string);
    const failMode = client ? clientPolicy(client).duoFailMode : undefined;
    return {
      user, interactionUid: c.uid, clientId: c.details.params.client_id as string, ip: c.req.ip, failMode,
      callbackUrl: `${d.issuer}/interaction/${c.uid}/mfa/duo/callback`,
    };
  };

  /** TOTP enrollment during login only when it cannot weaken another factor: no Duo, no TOTP yet. */
  const canEnroll = async (user: User, totpEnrolled?: boolean) =>
    d.config.mfa.factors.includes('totp') && !d.config.mfa.factors.includes('duo') && !(totpEnrolled ?? await d.mfa.totp.isEnrolled(user.id));

  /** The code form of a form factor, for its live challenge of this interaction (tries left carry over). */
  const sendCodeForm = (c: InteractionContext, factor: string, attempts: number) =>
    sendPage(c.reply, 200, codePage(theme, { uid: c.uid, csrf: d.csrf.token(c.uid, 'mfa'), factor: factor as CodeFactor, remaining: maxAttempts - attempts, restart: restartTarget(c.details.params) }));

  /**
   * Starts a factor. A redirect factor (Duo) leaves for the vendor; a form factor gets a challenge and its
   * code form — served right here when `inPlace` (the page the browser asked for becomes the form), else
   * behind a redirect to /mfa/<factor>. `checked`: the factor choice found it usable a moment ago in this
   * request (no second availability check).
   */
  async function begin(c: InteractionContext, user: User, factor: MfaFactor, o: { inPlace?: boolean; checked?: boolean; verdict?: ThrottleVerdict } = {}) {
    const ctx = await factorContext(c, user);
    const avail = o.checked ? { usable: true as const } : await factor.isAvailable(ctx);
    if (!avail.usable) return handleOutcome(c, user, factor.id, { ok: false, reason: avail.reason, detail: avail.detail });
    // A locked account starts no factor at all: no Duo push for someone who just failed at guessing codes.
    // (The password POST that opened this step checked it a moment ago.)
    const verdict = o.verdict ?? (c.mfaJustOpened ? { ok: true as const } : await d.throttle.check(user.username, c.req.ip));
    if (!verdict.ok) return handleOutcome(c, user, factor.id, { ok: false, reason: 'locked', detail: { throttle: verdict.reason } });
    const ch = await factor.begin(ctx);
    if (ch.kind === 'skip') return handleOutcome(c, user, factor.id, ch.outcome);
    if (ch.kind === 'redirect') {
      await d.mfa.challenges.create({ id: ch.id, interactionUid: c.uid, factor: factor.id, userId: user.id, state: ch.state, ttlSeconds: REDIRECT_TTL, replace: true });
      // A top-level redirect: Duo's Universal Prompt must not run in a frame.
      return c.reply.code(303).header('cache-control', 'no-store').redirect(ch.url, 303);
    }
    await d.mfa.challenges.create({ interactionUid: c.uid, factor: factor.id, userId: user.id, state: ch.state, ttlSeconds: FORM_TTL });
    if (o.inPlace) return sendCodeForm(c, factor.id, 0);
    return c.reply.code(303).redirect(`/interaction/${c.uid}/mfa/${factor.id}`, 303);
  }

  /** A form factor's live challenge and its form, or a new one (a reload must not reset the tries). */
  async function codeForm(c: InteractionContext, user: User, factor: MfaFactor, checked = false) {
    if (c.mfaJustOpened) return begin(c, user, factor, { inPlace: true, checked }); // no challenge can exist yet
    // The throttle's check that begin() makes rides along (one round trip); a reload reads it for nothing.
    const { challenge: ch, along: verdict } = await d.mfa.challenges.currentAlong(c.uid, factor.id, d.throttle.checkAlong(user.username, c.req.ip));
    return ch ? sendCodeForm(c, factor.id, ch.attempts) : begin(c, user, factor, { inPlace: true, checked, verdict });
  }

  /**
   * The factor choice, or straight to a factor when nothing failed yet: the only usable one, or the last
   * used one when it takes a code (its form is the pre-selection, and its "Use another method" link leads
   * to this choice with ?choose=1). A last used Duo stays a pre-selected button: leaving for Duo is the
   * user's click.
   */
  const renderChoice: PromptRenderer = async (c) => {
    const user = await userOf(c);
    if (!user) return c.reply;
    const q = c.req.query as Record<string, unknown>;
    const failed = isReason(q.failed) ? q.failed : undefined;
    const failedFactor = typeof q.factor === 'string' ? d.mfa.byId(q.factor) : undefined;
    const ctx = await factorContext(c, user);
    // A returning user whose last factor takes a code goes straight to its form: only that factor is checked.
    const last = !failed && !q.choose && user.preferredFactor && FORM_FACTORS.has(user.preferredFactor) ? d.mfa.byId(user.preferredFactor) : undefined;
    if (last && (await last.isAvailable(ctx)).usable) return codeForm(c, user, last, true);
    const items: ChoiceItem[] = [];
    const unavailable: Record<string, unknown> = {}; // why each factor is out, for the audit row below
    let totpEnrolled: boolean | undefined;
    for (const f of d.mfa.factors) {
      const a = await f.isAvailable(ctx);
      // TOTP's availability is its enrollment: no second read of mfa_totp for canEnroll below.
      if (f.id === 'totp') totpEnrolled = a.usable || a.reason !== 'not_enrolled';
      if (!a.usable) unavailable[f.id] = a.detail?.problem ?? a.reason;
      if (!a.usable && a.reason === 'not_enrolled') continue; // nothing to offer, not worth a disabled button
      items.push({ id: f.id, label: f.label, description: f.description, usable: a.usable, preferred: user.preferredFactor === f.id });
    }
    const enroll = await canEnroll(user, totpEnrolled);
    const usable = items.filter((i) => i.usable);
    if (!failed && !q.choose) {
      if (usable.length === 0 && enroll) return c.reply.code(303).redirect(`/interaction/${c.uid}/mfa/enroll`, 303);
      if (usable.length === 1 && !enroll) {
        const only = d.mfa.byId(usable[0]!.id)!;
        return FORM_FACTORS.has(only.id) ? codeForm(c, user, only, true) : begin(c, user, only, { checked: true });
      }
    }
    if (usable.length === 0 && !enroll) {
      await d.audit.record({ type: 'mfa.choice', outcome: 'failure', userId: user.id, username: user.username, clientId: ctx.clientId, ip: ctx.ip, reason: 'no_usable_factor', detail: unavailable });
    }
    return sendPage(c.reply, 200, choicePage(theme, {
      uid: c.uid, csrf: d.csrf.token(c.uid, 'mfa'), items, canEnroll: enroll,
      error: failed ? failureMessage(failed, failedFactor?.label) : undefined,
    }));
  };

  type UidReq = FastifyRequest<{ Params: { uid: string; factor?: string } }>;

  app.post('/interaction/:uid/mfa/begin', async (req: UidReq, reply) => {
    const c = await kit.load(req, reply);
    if (!c || !kit.csrfOk(c, 'mfa')) return reply;
    const user = await userOf(c);
    if (!user) return reply;
    const factor = d.mfa.byId(String((req.body as Body)?.factor ?? ''));
    if (!factor) return reply.code(303).redirect(`/interaction/${c.uid}?choose=1`, 303);
    return begin(c, user, factor);
  });

  app.get('/interaction/:uid/mfa/:factor', async (req: UidReq, reply) => {
    const id = req.params.factor!;
    if (!FORM_FACTORS.has(id) || !d.mfa.byId(id)) return reply.code(404).send({ error: 'not_found', code: 'GW_NOT_FOUND' });
    const c = await kit.load(req, reply);
    if (!c) return reply;
    const user = await userOf(c);
    if (!user) return reply;
    return codeForm(c, user, d.mfa.byId(id)!);
  });

  app.post('/interaction/:uid/mfa/:factor', async (req: UidReq, reply) => {
    const id = req.params.factor!;
    if (!FORM_FACTORS.has(id) || !d.mfa.byId(id)) return reply.code(404).send({ error: 'not_found', code: 'GW_NOT_FOUND' });
    const c = await kit.load(req, reply);
    if (!c || !kit.csrfOk(c, 'mfa')) return reply;
    const user = await userOf(c);
    if (!user) return reply;
    const factor = d.mfa.byId(id)!;
    // The throttle's check rides along in the attempt count's statement (one round trip).
    const counted = await d.mfa.challenges.countAttempt(c.uid, id, maxAttempts, d.throttle.checkAlong(user.username, req.ip));
    if (!counted) return handleOutcome(c, user, id, { ok: false, reason: 'expired' });
    const ch = counted.challenge;
    if (!ch) {
      await d.mfa.challenges.consume(counted.id, c.uid, id);
      return handleOutcome(c, user, id, { ok: false, reason: 'too_many_attempts' });
    }
    const attempt = ch.attempts;
    const verdict = counted.along!;
    if (!verdict.ok) return handleOutcome(c, user, id, { ok: false, reason: 'locked', detail: { throttle: verdict.reason } });
    const code = String((req.body as Body)?.code ?? '').slice(0, 64);
    const outcome = await factor.complete(await factorContext(c, user), ch.state, { code });
    /** A wrong (or spent) code: counted against the account, audited, and the form again while tries are left. */
    const refuse = async (o: Extract<Outcome, { ok: false }>) => {
      await d.throttle.fail(user.username, req.ip);
      await d.audit.record({ type: `mfa.${id}`, outcome: 'failure', userId: user.id, username: user.username, clientId: c.details.params.client_id as string, ip: req.ip, factor: id, reason: o.reason, detail: o.detail });
      d.metrics.mfa.inc({ factor: id, result: 'failure', reason: o.reason });
      if (attempt >= maxAttempts) {
        await d.mfa.challenges.consume(ch.id, c.uid, id);
        return reply.code(303).redirect(`/interaction/${c.uid}?failed=too_many_attempts&factor=${id}`, 303);
      }
      return sendPage(reply, 401, codePage(theme, {
        uid: c.uid, csrf: d.csrf.token(c.uid, 'mfa'), factor: id as CodeFactor,
        error: id === 'totp' ? 'That code is not right. Check the current code in your app and try again.'
          : `That ${id === 'bypass' ? 'bypass' : 'recovery'} code is not valid or was already used.`,
        remaining: maxAttempts - attempt, restart: restartTarget(c.details.params),
      }));
    };
    if (!outcome.ok) return refuse(outcome);
    // The challenge is spent by exactly one successful submission, and (TOTP) the code's time step once per
    // user: both are written with the sign-in, in one commit made before answering (context.ts finish). A
    // parallel request that spent either first rolls this commit back, and this one answers as it would have
    // had it found them spent: the step as a replayed code, the challenge as expired.
    if (!(await d.mfa.challenges.consumeAtCommit(ch.id, c.uid, id))) return handleOutcome(c, user, id, { ok: false, reason: 'expired' });
    await d.throttle.succeed(user.username, verdict);
    return handleOutcome(c, user, id, outcome, (lost) => lost.model === 'mfa_totp'
      ? refuse({ ok: false, reason: 'invalid', detail: { replay: true } })
      : handleOutcome(c, user, id, { ok: false, reason: 'expired' }));
  });

  app.get('/interaction/:uid/mfa/duo/callback', async (req: UidReq, reply) => {
    const c = await kit.load(req, reply);
    if (!c) return reply;
    const user = await userOf(c);
    if (!user) return reply;
    const q = req.query as Record<string, unknown>;
    // No state we issue holds a control character, and PostgreSQL text cannot hold NUL (the lookup failed
    // with a 500): such a state is simply not ours.
    const state = typeof q.state === 'string' && q.state.length <= 1024 && !/[\u0000-\u001f\u007f]/.test(q.state) ? q.state : '';
    // Consumed before anything else: a forged, replayed, expired or other-session state ends here.
    const stored = state ? await d.mfa.challenges.consume(state, c.uid, 'duo') : undefined;
    if (!stored || stored.userId !== user.id) return handleOutcome(c, user, 'duo', { ok: false, reason: 'expired', detail: { problem: 'unknown or spent state' } });
    const input: Record<string, string> = {};
    for (const k of ['duo_code', 'code', 'error', 'error_description']) if (typeof q[k] === 'string') input[k] = (q[k] as string).slice(0, 2048);
    const outcome = await d.mfa.byId('duo')!.complete(await factorContext(c, user), stored.state, input);
    return handleOutcome(c, user, 'duo', outcome);
  });

  registerEnrollment(app, { ...d, kit, handleOutcome, canEnroll, userOf });
  return renderChoice;
}
