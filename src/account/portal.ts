// The self-service account portal at /account: a first-party client of Gatehouse's own OIDC provider
// (client.ts), with its browser state in @fastify/session over PostgreSQL (session.ts). Registered as its
// own encapsulated scope, so the session and form parsing apply to /account only.
import type { FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { registerSession } from './session.ts';
import { sweepPortalSessions } from './session-store.ts';
import { createKit, type PortalDeps } from './kit.ts';
import { registerSignIn } from './routes/sign-in.ts';
import { registerHome } from './routes/home.ts';
import { registerPassword } from './routes/password.ts';
import { registerTotp } from './routes/totp.ts';
import { registerRecovery } from './routes/recovery.ts';
import { registerSessions } from './routes/sessions.ts';

export type { PortalDeps };

export default async function accountPortal(app: FastifyInstance, d: PortalDeps) {
  const s = d.services;
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await registerSession(app, { db: s.db, box: s.box, https: d.https, idleSeconds: s.config.account.idleTimeoutSeconds });
  const kit = createKit(d);
  registerSignIn(app, d, kit);
  registerHome(app, d, kit);
  registerPassword(app, d, kit);
  registerTotp(app, d, kit);
  registerRecovery(app, d, kit);
  registerSessions(app, d, kit);

  // Expired portal sessions are deleted on the gateway's housekeeping interval.
  const timer = setInterval(() => {
    sweepPortalSessions(s.db).catch((err: unknown) => s.log.warn({ err, event: 'GW_ERR_SWEEP' }, 'account session sweep failed; will retry'));
  }, s.config.database.sweepIntervalSeconds * 1000);
  timer.unref();
  app.addHook('onClose', async () => { clearInterval(timer); });
}
