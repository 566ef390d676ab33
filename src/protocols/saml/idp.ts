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
import { sharedXsdValidator, VALIDATOR_EVENT } from './xsd.ts';
import { PATHS } from './constants.ts';
import samlRoutes from './routes.ts';

export function createSamlIdp(s: Services, issuer: string) {
  const sps = createSpRegistry(s.config);
  const keys = createIdpKeys({ db: s.db, box: s.box, config: s.config.saml, issuer });
  const store = createSamlStore(s.db);
  const idpEntityId = s.config.saml.entityId || `${issuer}${PATHS.metadata}`;
  const xsd = sharedXsdValidator();
  const guard = createRequestGuard({
    config: s.config.saml, sps, store, crossCheck: createSamlifyCheck({ entityId: idpEntityId, issuer }),
    schema: (xml) => xsd.validate(xml, s.config.saml.schemaTimeoutMs),
  });

  return {
    sps, keys, store, idpEntityId,
    /** For createProvider's extraInternalClients. */
    internalClients: internalClients(sps.list, issuer, s.box),

    /** Call for every provider instance: a full OIDC logout (end_session, "logout=yes") ends the SAML sessions on it. */
    watch(provider: Provider) {
      provider.on('end_session.success', (ctx) => {
        const session = ctx.oidc.session as unknown as { uid?: string; accountId?: string; destroyed?: boolean } | undefined;
        if (!session?.destroyed || !session.uid) return;
        const uid = session.uid;
        void store.endSessions(uid)
          .then((n) => n > 0 ? s.audit.record({ type: 'saml.slo', outcome: 'info', userId: session.accountId ?? null, reason: 'oidc_end_session', detail: { sessions: n } }) : undefined)
          .catch((err: Error) => s.log.warn({ err: { message: err.message } }, 'GW_ERR_SAML_SESSION_END: SAML sessions not ended after OIDC logout'));
      });
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
        try { await xsd.warm(); } catch (err) {
          throw new Error(`${VALIDATOR_EVENT}: the SAML XML Schema validator could not start (${(err as Error).message})`);
        }
      }
      await app.register(samlRoutes, { app, s, issuer, idpEntityId, holder, sps, keys, store, guard });
      const timer = setInterval(() => {
        store.sweep().catch((err: Error) => s.log.warn({ err: { message: err.message } }, 'GW_ERR_SWEEP: SAML housekeeping failed; will retry'));
      }, s.config.database.sweepIntervalSeconds * 1000);
      timer.unref();
      app.addHook('onClose', async () => clearInterval(timer));
    },
  };
}
export type SamlIdp = ReturnType<typeof createSamlIdp>;
