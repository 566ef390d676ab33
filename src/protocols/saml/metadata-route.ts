// GET /saml/metadata. With SPs it is one of the SAML routes (routes.ts); without any, the rest of the SAML
// stack is not loaded (app.ts, for memory), but an SP administrator usually needs the IdP metadata before
// handing over the SP's own, so this route alone is served and loads what it needs on first use.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Services } from '../../services.ts';
import { PATHS } from './constants.ts';
import type { IdpKeys } from './idp-keys.ts';

export async function sendMetadata(reply: FastifyReply, o: { entityId: string; issuer: string; keys: IdpKeys; validSeconds: number; sign: boolean }) {
  const { idpMetadataXml } = await import('./metadata.ts');
  const xml = idpMetadataXml({ entityId: o.entityId, issuer: o.issuer, keys: await o.keys.load({ fresh: true }), validSeconds: o.validSeconds, sign: o.sign });
  return reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=300')
    .header('content-disposition', 'inline; filename="gatehouse-idp-metadata.xml"').send(xml);
}

/** The metadata route on a gateway with no SPs configured (saml.enabled, saml.sps empty). */
export async function metadataOnly(app: FastifyInstance, o: { s: Services; issuer: string }) {
  const cfg = o.s.config.saml;
  let keys: IdpKeys | undefined;
  app.get(PATHS.metadata, async (_req, reply) => {
    keys ??= (await import('./idp-keys.ts')).createIdpKeys({ db: o.s.db, box: o.s.box, config: cfg, issuer: o.issuer });
    return sendMetadata(reply, { entityId: cfg.entityId || `${o.issuer}${PATHS.metadata}`, issuer: o.issuer, keys, validSeconds: cfg.metadataValidSeconds, sign: cfg.signMetadata });
  });
}
