// The resume after the last interaction step, made in-process. Finishing a step used to answer 303 to the
// resume URL (/oidc/auth/:uid), where oidc-provider reads the step's result, signs the browser in and
// redirects on (to the client with a code, or to the next prompt's screen). The step's POST now makes that
// request itself (protocols/oidc/in-process.ts) and answers with what it answered: one HTTP exchange and
// one commit fewer per login, and the sign-in is written in the same commit as the step's own writes (for
// a code submission: the spent TOTP step, so one is written if and only if the other is).
// oidc-provider binds the resume to the browser that started the authorization with a cookie scoped to
// the resume URL, which the browser never sends to /interaction/…; the POST has already proved the same
// binding (oidc-provider's interaction cookie, checked by interactionDetails, and the CSRF token), so the
// resume cookie is made here, signed as Koa signs it (app.keys, keygrip's HMAC-SHA1 of "name=value"):
// https://github.com/pillarjs/cookies#cookiesget-name--options--
// https://github.com/crypto-utils/keygrip/blob/master/index.js
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderHolder } from '../protocols/oidc/mount.ts';
import { getInProcess, type InProcessAnswer } from '../protocols/oidc/in-process.ts';
import { CSP } from '../platform/security-headers.ts';

export type ResumeInProcess = (req: FastifyRequest, uid: string, returnTo: string) => Promise<InProcessAnswer>;

export function createResumeInProcess(holder: ProviderHolder): ResumeInProcess {
  return async (req, uid, returnTo) => {
    const provider = holder.current();
    const name = provider.cookieName('resume');
    const key = (provider as unknown as { keys: string[] }).keys[0]!;
    const sig = createHmac('sha1', key).update(`${name}=${uid}`).digest('base64url');
    // First, so that it wins over any cookie of that name the browser sent (it sends none here).
    const cookie = [`${name}=${uid}`, `${name}.sig=${sig}`, req.headers.cookie].filter(Boolean).join('; ');
    const u = new URL(returnTo);
    return getInProcess(holder, u.pathname + u.search, {
      cookie, ip: req.ip, userAgent: req.headers['user-agent'], acceptLanguage: req.headers['accept-language'] as string | undefined,
      accept: req.headers.accept,
    }, { csp: CSP });
  };
}

/** Sends what the provider answered as this request's answer (a redirect, or a page it rendered). */
export function sendInProcessAnswer(reply: FastifyReply, a: InProcessAnswer) {
  reply.code(a.status).header('cache-control', 'no-store');
  if (a.cookies.length) reply.header('set-cookie', a.cookies);
  if (a.location) reply.header('location', a.location);
  if (a.csp) reply.header('content-security-policy', a.csp);
  if (a.contentType) reply.type(a.contentType);
  return reply.send(a.body);
}
