// Shared plumbing of the portal's routes: who is signed in (or start signing in), the fresh-second-factor
// guard with its step-up, CSRF, pages, audit and metrics. Routes stay one concept each.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Services } from '../services.ts';
import type { User } from '../users/users.ts';
import { hasMfa } from '../mfa/amr.ts';
import { sendPage } from '../interaction/context.ts';
import { messagePage } from '../interaction/views/message.ts';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PREFIX } from './client.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import { authorizationUrl, newPending, type Inject } from './sign-in.ts';
import { stateOf, type PortalState } from './session.ts';

export interface PortalDeps { services: Services; issuer: string; provider: () => Provider; inject: Inject; https: boolean }

export interface SignedInContext { req: FastifyRequest; reply: FastifyReply; st: PortalState; user: User }
/** One portal action as metrics (`action` label) and the audit log (`type`) name it. */
export interface Op { action: string; audit: string }

/** At most this many sign-ins may be in flight per browser (tabs); the oldest is dropped. */
const MAX_PENDING = 5;
const now = () => Math.floor(Date.now() / 1000);

/** Only paths of the portal itself may be returned to (no open redirect through `returnTo`). */
export const safeReturn = (p: string) => (p === ACCOUNT_PREFIX || (p.startsWith(`${ACCOUNT_PREFIX}/`) && !p.includes('//') && !p.includes('\\')) ? p : ACCOUNT_PREFIX);

export function createKit(d: PortalDeps) {
  const s = d.services;
  const theme = s.config.ui;

  const kit = {
    page: (reply: FastifyReply, status: number, body: string) => sendPage(reply, status, body),

    message(reply: FastifyReply, status: number, v: { title: string; message: string; code: string; next?: string }) {
      return sendPage(reply, status, messagePage(theme, v));
    },

    count(action: string, result: string) { s.metrics.account.inc({ action, result }); },

    audit(c: Pick<SignedInContext, 'req' | 'user'>, type: string, outcome: 'success' | 'failure' | 'denied', extra: { reason?: string; factor?: string; detail?: Record<string, unknown> } = {}) {
      return s.audit.record({ type, outcome, userId: c.user.id, username: c.user.username, clientId: ACCOUNT_CLIENT_ID, ip: c.req.ip, ...extra });
    },

    /** Sends the browser to the provider: a first sign-in, or a step-up that comes back to `returnTo`. */
    startSignIn(req: FastifyRequest, reply: FastifyReply, returnTo: string, stepUp: boolean, loginHint?: string) {
      const st = stateOf(req);
      const { state, pending } = newPending(safeReturn(returnTo), stepUp);
      const all = Object.entries(st.pending ?? {}).sort((a, b) => a[1].startedAt - b[1].startedAt).slice(-(MAX_PENDING - 1));
      st.pending = Object.fromEntries([...all, [state, pending]]);
      return reply.code(303).header('cache-control', 'no-store').redirect(authorizationUrl(d.issuer, state, pending, loginHint), 303);
    },

    /**
     * The signed-in user of this browser, or undefined after starting a sign-in that returns to `returnTo`.
     * A portal session lives no longer than the gateway session it came from, the SSO session lifetime,
     * and the user's enabled state.
     */
    async signedIn(req: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<SignedInContext | undefined> {
      const st = stateOf(req);
      const user = st.userId ? await s.users.findById(st.userId) : undefined;
      const expired = !st.signedInAt || now() - st.signedInAt > s.config.oidc.sessionTtlSeconds;
      // Also catches a portal session that an in-flight request re-saved just after a password change or
      // "sign out everywhere" deleted it: its gateway session is gone for good.
      const gatewayGone = st.sessionUid !== undefined && (await s.db.query(
        `SELECT 1 FROM oidc_models WHERE model = 'Session' AND uid = $1 AND (expires_at IS NULL OR expires_at > now())`, [st.sessionUid])).rowCount === 0;
      if (!user || user.disabled || expired || gatewayGone) {
        if (st.userId) await req.session.regenerate();
        await kit.startSignIn(req, reply, returnTo, false);
        return undefined;
      }
      return { req, reply, st, user };
    },

    /** True when a second factor was completed within mfa.freshSeconds. */
    isFresh: (st: PortalState) => hasMfa(st.amr) && typeof st.mfaAt === 'number' && now() - st.mfaAt <= s.config.mfa.freshSeconds,

    /** The fresh-second-factor guard: true to go on; otherwise the step-up has been started. */
    async requireFresh(c: SignedInContext, op: Op, returnTo: string): Promise<boolean> {
      if (kit.isFresh(c.st)) return true;
      kit.count(op.action, 'step_up');
      await kit.startSignIn(c.req, c.reply, returnTo, true, c.user.username);
      return false;
    },

    csrf: (c: SignedInContext, form: string) => csrfToken(c.st, form),

    /** True when the form carries this session's token for `form`; otherwise answers 403 (audited). */
    async csrfOk(c: SignedInContext, form: string, op: Op): Promise<boolean> {
      if (csrfValid(c.st, form, (c.req.body as Record<string, unknown> | undefined)?.csrf)) return true;
      kit.count(op.action, 'denied');
      await kit.audit(c, op.audit, 'denied', { reason: 'csrf' });
      await kit.message(c.reply, 403, {
        title: 'Please try again', code: 'GW_CSRF', message: 'This form could not be verified.',
        next: 'Go back to your account page, reload it and try again.',
      });
      return false;
    },
  };
  return kit;
}
export type Kit = ReturnType<typeof createKit>;
