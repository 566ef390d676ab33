// Signing in to and out of the portal: /account/callback finishes a sign-in or a step-up and returns to
// where the user was; /account/sign-out ends the portal session and the gateway session (RP-initiated
// logout, which asks the user to confirm).
import type { FastifyInstance } from 'fastify';
import { html } from '../../views/html.ts';
import { page } from '../../views/layout.ts';
import { hasMfa } from '../../mfa/amr.ts';
import { OIDC_PREFIX } from '../../protocols/oidc/provider.ts';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PREFIX, signedOutUrl } from '../client.ts';
import { newCsrfSecret } from '../csrf.ts';
import { completeSignIn, SignInError } from '../sign-in.ts';
import { stateOf } from '../session.ts';
import { safeReturn, type Kit, type PortalDeps } from '../kit.ts';

export function registerSignIn(app: FastifyInstance, d: PortalDeps, kit: Kit) {
  const { services: s } = d;
  const theme = s.config.ui;
  const expired = (reply: Parameters<Kit['message']>[0]) => kit.message(reply, 400, {
    title: 'This sign-in has expired', code: 'GW_ACCOUNT_STATE',
    message: 'This sign-in was already used, has expired, or was started in a different browser.',
    next: 'Open your account page again.',
  });

  app.get('/account/callback', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const st = stateOf(req);
    const state = typeof q.state === 'string' ? q.state : '';
    const pending = state && st.pending ? st.pending[state] : undefined;
    if (!pending) return expired(reply);
    delete st.pending![state];
    if (typeof q.error === 'string') {
      return kit.message(reply, q.error === 'access_denied' ? 200 : 400, q.error === 'access_denied'
        ? { title: 'Sign-in cancelled', code: 'GW_ACCOUNT_CANCELLED', message: 'You cancelled signing in to your account.', next: 'Open your account page again to sign in.' }
        : { title: 'Sign-in did not complete', code: 'GW_ACCOUNT_SIGNIN_FAILED', message: 'Signing in to your account did not complete.', next: 'Open your account page again to retry.' });
    }
    if (typeof q.code !== 'string' || q.code.length > 1024) return expired(reply);
    let signed;
    try {
      signed = await completeSignIn({ ...d, box: s.box }, q.code, pending);
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      req.log.warn({ event: 'GW_ERR_ACCOUNT_SIGNIN', reason: err.reason }, 'account portal sign-in failed');
      return kit.message(reply, 400, { title: 'Sign-in did not complete', code: 'GW_ACCOUNT_SIGNIN_FAILED', message: 'Signing in to your account did not complete.', next: 'Open your account page again to retry.' });
    }
    const sameUser = st.userId === signed.sub;
    // A step-up must prove a second factor completed after it was asked for; never loop back into it.
    if (pending.stepUp && sameUser && !(hasMfa(signed.amr) && signed.authTime >= pending.startedAt - 1)) {
      const user = await s.users.findById(signed.sub);
      if (user) await kit.audit({ req, user }, 'account.step_up', 'failure', { reason: hasMfa(signed.amr) ? 'stale' : 'no_second_factor' });
      return kit.message(reply, 403, {
        title: 'Second factor needed', code: 'GW_ACCOUNT_STEP_UP',
        message: 'This change needs a second factor, and none was completed.',
        next: 'Go back to your account page and try again. If it keeps failing, contact your administrator.',
      });
    }
    // A new session id for every sign-in (no fixation), and for another account no state of the old one.
    const keep = sameUser ? { signedInAt: st.signedInAt } : {};
    await req.session.regenerate();
    Object.assign(stateOf(req), {
      userId: signed.sub, csrf: newCsrfSecret(), sessionUid: signed.sessionUid, amr: signed.amr, idToken: signed.idToken,
      signedInAt: keep.signedInAt ?? Math.floor(Date.now() / 1000),
      ...(hasMfa(signed.amr) ? { mfaAt: signed.authTime } : {}),
    });
    return reply.code(303).header('cache-control', 'no-store').redirect(sameUser || !st.userId ? safeReturn(pending.returnTo) : ACCOUNT_PREFIX, 303);
  });

  app.post('/account/sign-out', async (req, reply) => {
    const c = await kit.signedIn(req, reply, ACCOUNT_PREFIX);
    if (!c || !(await kit.csrfOk(c, 'sign-out', { action: 'sign_out', audit: 'account.sign_out' }))) return reply;
    const hint = c.st.idToken;
    await req.session.destroy();
    const u = new URL(`${d.issuer}${OIDC_PREFIX}/session/end`);
    u.search = new URLSearchParams({ client_id: ACCOUNT_CLIENT_ID, post_logout_redirect_uri: signedOutUrl(d.issuer), ...(hint ? { id_token_hint: hint } : {}) }).toString();
    return reply.code(303).header('cache-control', 'no-store').redirect(u.href, 303);
  });

  app.get('/account/signed-out', async (_req, reply) => kit.page(reply, 200, page({
    theme, title: 'You are signed out', notice: 'You signed out of your account.',
    body: html`<p><a href="${ACCOUNT_PREFIX}" id="sign-in">Sign in again</a></p>`,
  })));
}
