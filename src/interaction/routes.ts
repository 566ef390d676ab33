// /interaction/:uid — Gatehouse's own screens inside oidc-provider's interaction. Each prompt oidc-provider
// asks for (login, mfa, consent) has a renderer; POSTs finish the prompt and send the browser back to
// the provider. These pages are never cached and never framed (see platform/security-headers.ts).
import type { FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import type Provider from 'oidc-provider';
import { createInteractionKit, finish, sendPage, type Body, type InteractionContext, type PromptRenderer } from './context.ts';
import type { Config } from '../config/schema.ts';
import type { Csrf } from './csrf.ts';
import type { PasswordCheck } from './login.ts';
import type { LoginScreen } from './login-screen.ts';
import type { ResumeInProcess } from './resume-in-process.ts';
import { BUSY_TEXT } from './views/message.ts';
import { consentPage } from './views/consent.ts';
import { amrFor, acrFor } from '../mfa/amr.ts';
import { clientPolicy } from '../protocols/oidc/clients.ts';
import { unitPerRequest } from '../platform/request-unit.ts';
import { screenOf, type MfaAfterPassword } from './pending-mfa.ts';
import { restartTarget } from './restart.ts';

export interface InteractionDeps {
  config: Config; provider: () => Provider; csrf: Csrf; checkPassword: PasswordCheck; loginScreen: LoginScreen;
  /** Finishing a step resumes the authorization in-process (resume-in-process.ts). */
  resume?: ResumeInProcess;
  /** Whether the password step is followed by MFA in this same interaction (pending-mfa.ts). */
  mfaAfterPassword?: MfaAfterPassword;
  /** Registers more screens in this scope (shares its form parser) and returns their prompt renderers. */
  extend?: (scope: FastifyInstance) => Record<string, PromptRenderer>;
}

export default async function interactionRoutes(app: FastifyInstance, d: InteractionDeps) {
  const theme = d.config.ui;
  // Shared prefetched rows: a step's in-process resume (resume-in-process.ts) looks up the user, its account
  // and its TOTP seed that the step itself looked up already (the password POST's user read brings them).
  unitPerRequest(app, { sharePrefetched: true });
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  const { load, csrfOk, clientName } = createInteractionKit({ theme, provider: d.provider, csrf: d.csrf, resume: d.resume });

  const renderLogin = async (c: InteractionContext, status = 200, error?: string, username?: string) =>
    sendPage(c.reply, status, d.loginScreen({ uid: c.uid, params: c.details.params, clientName: await clientName(c.details), error, username }));

  const prompts: Record<string, PromptRenderer> = {
    login: (c) => renderLogin(c),
    consent: async (c) => {
      // First-party clients are trusted by configuration: even prompt=consent does not ask the user.
      const client = await d.provider().Client.find(c.details.params.client_id as string);
      if (client && clientPolicy(client).firstParty) return grantConsent(c);
      // What is asked and not yet granted: OIDC scopes, and scopes at the API resource (resource=, README
      // "Access tokens for your APIs"), which the page words as "api".
      const pd = c.details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const missing = [...new Set([...(pd.missingOIDCScope ?? []), ...Object.values(pd.missingResourceScopes ?? {}).flat()])];
      return sendPage(c.reply, 200, consentPage(theme, {
        uid: c.uid, csrf: d.csrf.token(c.uid, 'consent'), clientName: (await clientName(c.details)) ?? 'An application',
        scopes: missing.length ? missing : String(c.details.params.scope ?? 'openid').split(' '), restart: restartTarget(c.details.params),
      }));
    },
    ...d.extend?.(app),
  };

  app.get<{ Params: { uid: string } }>('/interaction/:uid', async (req, reply) => {
    const c = await load(req, reply);
    if (!c) return reply;
    const screen = screenOf(c.details);
    const render = prompts[screen];
    if (!render) throw new Error(`GW_ERR_INTERACTION_PROMPT: no screen for prompt ${screen}`);
    return render(c);
  });

  app.post<{ Params: { uid: string } }>('/interaction/:uid/login', async (req, reply) => {
    const body = req.body as Body;
    const username = typeof body?.username === 'string' ? body.username.trim() : body?.username;
    // The check's throttle and user reads come with the interaction's read in load() (one round trip, not three).
    d.checkPassword.announceReads(username, req.ip);
    const c = await load(req, reply);
    if (!c || !csrfOk(c, 'login')) return reply;
    if (c.details.prompt.name !== 'login') return reply.redirect(`/interaction/${c.uid}`, 303);
    const r = await d.checkPassword(username, body?.password, req.ip, c.details.params.client_id as string);
    if (!r.ok) {
      const shown = typeof username === 'string' ? username.slice(0, 128) : '';
      if (r.reason === 'malformed') return renderLogin(c, 400, 'Enter your username and password.', shown);
      if (r.reason === 'invalid') return renderLogin(c, 401, 'The username or password is incorrect.', shown);
      if (r.reason === 'busy') {
        req.log.warn({ event: 'GW_LOGIN_BUSY', retryAfter: r.retryAfterSeconds }, 'password check refused: hashing queue full');
        reply.header('retry-after', String(r.retryAfterSeconds));
        return renderLogin(c, 503, BUSY_TEXT, shown);
      }
      reply.header('retry-after', String(r.retryAfterSeconds ?? 60));
      return renderLogin(c, 429, r.reason === 'ip_limited'
        ? 'Too many sign-in attempts from your network. Wait a minute and try again.'
        : 'Too many failed attempts for this account. Wait a few minutes and try again, or contact your administrator.', shown);
    }
    // Password only so far; the MFA step (if the policy asks for it) adds to amr and re-finishes login.
    const amr = amrFor();
    const login = { accountId: r.user.id, amr, acr: acrFor(amr), remember: true };
    if (d.mfaAfterPassword && await d.mfaAfterPassword(c.details, r.user.id, amr)) {
      // Stored, not yet handed back: the factor screens run in this interaction (pending-mfa.ts), and the
      // first of them is this POST's answer (no redirect to /interaction/:uid: one HTTP exchange and two
      // reads fewer per MFA login; its challenge is written in this request's commit).
      const result = { login, mfa: { pending: true } };
      await d.provider().interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
      const reposted = screenOf(c.details) === 'mfa'; // a reload of this answer posts the password again
      c.details.result = result;
      const screen = prompts.mfa;
      if (!screen) return reply.code(303).header('cache-control', 'no-store').redirect(`/interaction/${c.uid}`, 303);
      return screen(reposted ? c : { ...c, mfaJustOpened: true });
    }
    return finish(c, d.provider(), { login }, false);
  });

  /** Records consent for what the prompt says is missing and continues. */
  async function grantConsent(c: InteractionContext) {
    const provider = d.provider();
    const { details } = c;
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
    const pd = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (pd.missingOIDCScope) grant.addOIDCScope(pd.missingOIDCScope.join(' '));
    if (pd.missingOIDCClaims) grant.addOIDCClaims(pd.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(pd.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return finish(c, provider, { consent: { grantId } });
  }

  app.post<{ Params: { uid: string } }>('/interaction/:uid/confirm', async (req, reply) => {
    const c = await load(req, reply);
    if (!c || !csrfOk(c, 'consent')) return reply;
    if (c.details.prompt.name !== 'consent') return reply.redirect(`/interaction/${c.uid}`, 303);
    return grantConsent(c);
  });

  app.post<{ Params: { uid: string } }>('/interaction/:uid/abort', async (req, reply) => {
    const c = await load(req, reply);
    if (!c || !csrfOk(c, screenOf(c.details))) return reply;
    return finish(c, d.provider(), { error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  });
}
