// Shared plumbing of every interaction screen: loading the interaction bound to this browser, CSRF,
// sending pages, and finishing a prompt back into oidc-provider.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Csrf } from './csrf.ts';
import type { Theme } from '../views/layout.ts';
import { expiredPage, messagePage } from './views/message.ts';
import { flushNow } from '../storage/unit-of-work.ts';
import { sendInProcessAnswer, type ResumeInProcess } from './resume-in-process.ts';
import { RESTART_FIELD, restartFrom } from './restart.ts';

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
export interface InteractionContext {
  req: FastifyRequest; reply: FastifyReply; details: Details; uid: string;
  /**
   * Set by the password POST that has just opened this interaction's MFA step and shows its first screen
   * in its own answer (pending-mfa.ts): no factor challenge exists yet, and the login throttle was checked
   * (and passed) a moment ago in this request, so the screen need not read either.
   */
  mfaJustOpened?: true;
  /** Finishing a step resumes the authorization in-process (resume-in-process.ts) instead of redirecting to it. */
  resume?: ResumeInProcess;
}
/** Renders the screen for a prompt (login, mfa, consent). */
export type PromptRenderer = (c: InteractionContext) => Promise<unknown>;

const UID_RE = /^[A-Za-z0-9_-]{10,64}$/;
/** The forms that carry a restart target (restart.ts), by their CSRF purpose: login, the code forms, consent's "Allow". */
const RESTARTABLE = ['login', 'mfa', 'consent'];
export type Body = Record<string, unknown> | undefined;

export function sendPage(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** What a route does instead of finishing when a one-time write deferred to its commit lost (flushNow). */
export type OnLost = (lost: { model: string; id: string }) => Promise<unknown>;

/**
 * Finishes the current prompt and hands the result back to oidc-provider: by making the resume request
 * in-process and answering with its answer (c.resume), else by redirecting the browser to it. With
 * `onLost`, the request's writes (the result, and the resume's sign-in, among them) are committed before
 * the answer is sent, and a lost one-time write answers through onLost instead: nothing of the sign-in
 * was written.
 */
export async function finish(c: Pick<InteractionContext, 'req' | 'reply' | 'uid' | 'resume'>, provider: Provider, result: InteractionResults, merge = true, onLost?: OnLost) {
  const url = await provider.interactionResult(c.req.raw, c.reply.raw, result, { mergeWithLastSubmission: merge });
  const resumed = c.resume ? await c.resume(c.req, c.uid, url) : undefined;
  if (onLost) {
    const r = await flushNow();
    if (!r.ok) return onLost(r.lost);
  }
  if (resumed) return sendInProcessAnswer(c.reply, resumed);
  return c.reply.code(303).header('cache-control', 'no-store').redirect(url, 303);
}

export function createInteractionKit(d: { theme: Theme; provider: () => Provider; csrf: Csrf; resume?: ResumeInProcess }) {
  const { theme } = d;
  return {
    /** Loads the interaction bound to this browser, or answers with a clear page and returns undefined. */
    async load(req: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<InteractionContext | undefined> {
      const { uid } = req.params;
      const expired = () => {
        // A form of this gateway that carries its authorization request, posted after its interaction ended,
        // starts the sign-in again (restart.ts).
        const body = req.method === 'POST' ? req.body as Body : undefined;
        const restart = body && restartFrom(body[RESTART_FIELD]);
        if (restart && RESTARTABLE.some((form) => d.csrf.verify(uid, form, body.csrf))) {
          return reply.code(303).header('cache-control', 'no-store').redirect(restart, 303);
        }
        return sendPage(reply, 400, expiredPage(theme));
      };
      if (!UID_RE.test(uid)) { await sendPage(reply, 400, expiredPage(theme)); return undefined; }
      try {
        const details = await d.provider().interactionDetails(req.raw, reply.raw);
        if (details.uid !== uid) { await expired(); return undefined; }
        return { req, reply, details, uid, ...(d.resume ? { resume: d.resume } : {}) };
      } catch (err) {
        if ((err as { name?: string }).name === 'SessionNotFound') { await expired(); return undefined; }
        throw err;
      }
    },

    /** True when the form carries this interaction's CSRF token; otherwise answers 403. */
    csrfOk(c: InteractionContext, form: string): boolean {
      if (d.csrf.verify(c.uid, form, (c.req.body as Body)?.csrf)) return true;
      void sendPage(c.reply, 403, messagePage(theme, {
        title: 'Please try again', code: 'GW_CSRF', message: 'This form could not be verified.',
        next: 'Reload the page and submit it again.',
      }));
      return false;
    },

    async clientName(details: Details): Promise<string | undefined> {
      const client = await d.provider().Client.find(details.params.client_id as string);
      return client?.clientName ?? client?.clientId;
    },
  };
}
export type InteractionKit = ReturnType<typeof createInteractionKit>;
