// The portal's browser state: @fastify/session over the PostgreSQL store, registered only inside the
// portal's plugin scope. Cookie `__Host-gh_account` on an https issuer (Secure, Path=/, no Domain: the
// browser pins it to this host), `gh_account` otherwise; HttpOnly, SameSite=Lax; signed with a key
// derived from the master secret.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import session from '@fastify/session';
import type { Db } from '../storage/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { createSessionStore } from './session-store.ts';

/** A sign-in the portal started and awaits at /account/callback, keyed by its `state`. */
export interface PendingSignIn { nonce: string; verifier: string; returnTo: string; stepUp: boolean; startedAt: number }

/** What the portal keeps per browser (the session row's `data`). Times are epoch seconds. */
export interface PortalState {
  userId?: string;
  /** Secret behind this session's CSRF tokens. */
  csrf?: string;
  /** The gateway (oidc-provider) Session.uid this browser signed in through: kept by a password change. */
  sessionUid?: string;
  amr?: string[];
  /** When the last second factor was completed (ID token auth_time, when amr holds mfa). */
  mfaAt?: number;
  signedInAt?: number;
  /** For RP-initiated logout (id_token_hint). */
  idToken?: string;
  pending?: Record<string, PendingSignIn>;
}

export const cookieName = (https: boolean) => (https ? '__Host-gh_account' : 'gh_account');

/** The portal state of this request (a view of req.session; changes are saved by @fastify/session). */
export const stateOf = (req: FastifyRequest) => req.session as unknown as PortalState;

export async function registerSession(app: FastifyInstance, o: { db: Db; box: SecretBox; https: boolean; idleSeconds: number }) {
  const name = cookieName(o.https);
  await app.register(cookie);
  await app.register(session, {
    secret: o.box.derive('account-session').toString('base64url'),
    cookieName: name,
    store: createSessionStore(o.db, o.idleSeconds),
    saveUninitialized: false,
    // Every request re-saves, which slides the server-side expiry (the idle timeout).
    rolling: true,
    // `secure: true` would make @fastify/session skip the cookie whenever Fastify sees plain HTTP, which it
    // does behind a TLS-terminating proxy without server.trustProxy; the issuer decides instead (below).
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: false },
  });
  if (!o.https) return;
  app.addHook('onSend', async (_req, reply) => {
    const set = reply.getHeader('set-cookie');
    if (set === undefined) return;
    const lines = (Array.isArray(set) ? set : [String(set)]).map((l) =>
      l.startsWith(`${name}=`) && !/;\s*secure/i.test(l) ? `${l}; Secure` : l);
    // Fastify appends to set-cookie, so the old value goes first.
    reply.removeHeader('set-cookie');
    reply.header('set-cookie', lines);
  });
}
