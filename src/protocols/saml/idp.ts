// The SAML identity provider as the app assembles it: the SP registry (config errors stop the start),
// the IdP keys, the state store, the internal OIDC clients the SPs ride on, the hook that makes OIDC
// logout end SAML sessions, and the routes. app.ts needs only this file.
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import type { Services } from '../../services.ts';
import type { ProviderHolder } from '../oidc/mount.ts';
import { internalClients } from './bridge.ts';
import { createIdpKeys } from './idp-keys.ts';
import { createRequestGuard } from './request-guard.ts';
import { createSamlifyCheck } from './samlify-check.ts';
import { createSpRegistry } from './sp-registry.ts';
import { createSamlStore } from './store.ts';
import { selfTestInChild, sharedXsdValidator, VALIDATOR_EVENT } from './xsd.ts';
import { createSlo, type Slo } from './slo.ts';
import { autoPostPage } from './views.ts';
import type { SamlContext } from './context.ts';
import { PATHS } from './constants.ts';
import samlRoutes from './routes.ts';

export function createSamlIdp(s: Services, issuer: string, o: { selfTest?: () => Promise<void> } = {}) {
  const sps = createSpRegistry(s.config);
  const keys = createIdpKeys({ db: s.db, box: s.box, config: s.config.saml, issuer });
  const store = createSamlStore(s.db);
  const idpEntityId = s.config.saml.entityId || `${issuer}${PATHS.metadata}`;
  const xsd = sharedXsdValidator();
  const guard = createRequestGuard({
    config: s.config.saml, sps, store, crossCheck: createSamlifyCheck({ entityId: idpEntityId, issuer }),
    schema: (xml) => xsd.validate(xml, s.config.saml.schemaTimeoutMs),
  });

  // The single-logout handlers for OIDC logouts; set by register() (requests come only after it).
  let slo: Slo | undefined;

  return {
    sps, keys, store, idpEntityId,
    /** For createProvider's extraInternalClients. */
    internalClients: internalClients(sps.list, issuer, s.box),

    /**
     * Call for every provider instance. A full OIDC logout (end_session confirmed with "logout=yes", which
     * the account portal's sign-out uses too) ends the SAML sessions on the destroyed session, and, when
     * SPs of that session have an SLO endpoint, its answer becomes the first step of the front-channel walk
     * to them (slo.ts afterOidcLogout); oidc-provider's own redirect is the walk's last step.
     * https://github.com/panva/node-oidc-provider/blob/main/lib/actions/end_session.js (confirm: 303 to the post-logout URI)
     */
    watch(provider: Provider) {
      // Every other request passes straight through, without an async frame of its own (this layer sits
      // on the client-credentials path too).
      const confirmPath = provider.pathFor('end_session_confirm');
      provider.use((ctx, next) => (ctx.path === confirmPath ? afterLogout(ctx, next) : next()));
      const afterLogout = async (ctx: Parameters<Parameters<Provider['use']>[0]>[0], next: () => Promise<unknown>) => {
        await next();
        if ((ctx as unknown as { _matchedRouteName?: string })._matchedRouteName !== 'end_session_confirm' || ctx.status !== 303) return;
        const session = ctx.oidc?.session as unknown as { uid?: string; accountId?: string; destroyed?: boolean } | undefined;
        const continueTo = ctx.response.get('location');
        if (!session?.destroyed || !session.uid || !continueTo) return;
        try {
          const first = slo
            ? await slo.afterOidcLogout({ sessionUid: session.uid, accountId: session.accountId, clientId: ctx.oidc.client?.clientId, continueTo })
            : (await store.endSessions(session.uid), null);
          if (first?.kind === 'redirect') { ctx.status = 303; ctx.redirect(first.url); }
          else if (first?.kind === 'post') {
            ctx.status = 200;
            ctx.type = 'html';
            ctx.body = autoPostPage(s.config.ui, { action: first.action, fields: first.fields, spName: first.spName });
          }
        } catch (err) {
          // The OIDC logout stands (its session is gone); the SAML SPs were not told.
          s.log.warn({ err: { message: (err as Error).message }, event: 'GW_ERR_SAML_SESSION_END' }, 'SAML sessions not ended or SPs not notified after OIDC logout');
        }
      };
    },

    /**
     * Registers the /saml routes and the housekeeping timer. With SPs configured, creates the IdP key and
     * starts the XML Schema validator now (a validator that cannot start stops the start).
     */
    async register(app: FastifyInstance, holder: ProviderHolder) {
      const unsubscribe = xsd.subscribe((event, detail) => s.log.warn({ event, ...detail }, 'SAML XML Schema validator: %s', detail.reason));
      app.addHook('onClose', async () => unsubscribe());
      if (sps.list.length > 0) {
        await keys.ensure();
        // Proven at the start (the gateway does not start without it), in a child process: this process
        // starts its worker on the first message, and an idle gateway holds neither the worker's ≈ 30 MiB
        // nor the ≈ 19 MiB a worker started and stopped here leaves behind (xsd.ts selfTestInChild).
        try { await (o.selfTest ?? selfTestInChild)(); } catch (err) {
          throw new Error(`${VALIDATOR_EVENT}: the SAML XML Schema validator could not start (${(err as Error).message})`);
        }
      }
      const context: SamlContext = { app, s, issuer, idpEntityId, holder, sps, keys, store, guard };
      slo = createSlo(context);
      await app.register(samlRoutes, context);
      const timer = setInterval(() => {
        store.sweep().catch((err: Error) => s.log.warn({ err: { message: err.message } }, 'GW_ERR_SWEEP: SAML housekeeping failed; will retry'));
        // Another instance may have rotated the IdP key: signing reads no key version per Response.
        if (sps.list.length > 0) keys.refresh().catch((err: Error) => s.log.warn({ err: { message: err.message } }, 'GW_ERR_SWEEP: SAML key check failed; will retry'));
      }, s.config.database.sweepIntervalSeconds * 1000);
      timer.unref();
      app.addHook('onClose', async () => clearInterval(timer));
    },
  };
}
export type SamlIdp = ReturnType<typeof createSamlIdp>;
