// The registered service providers, built once from config (saml.sps): metadata (file or inline) merged
// with explicit fields, validated, certificates normalised. A wrong setting stops the start with a
// message naming the key (GW_ERR_SAML_CONFIG: saml.sps[2].encryptionCert …).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config, MfaPolicy, SamlSpConfig } from '../../config/schema.ts';
import { NAMEID_FORMAT, type NameIdFormatName } from './constants.ts';
import { certKeyType, normalizeCert } from './certs.ts';
import { parseSpMetadata, type SpMetadata } from './sp-metadata.ts';

export interface Acs { url: string; index?: number; isDefault: boolean }
export interface SloEndpoint { binding: 'redirect' | 'post'; url: string; responseUrl?: string }
export type AttributeSource = SamlSpConfig['attributes'][number]['source'];

/** One SP as the IdP uses it. */
export interface SamlSp {
  entityId: string;
  name: string;
  /** The internal OIDC client this SP rides on (see bridge.ts). */
  clientId: string;
  acs: Acs[];
  slo: SloEndpoint[];
  /** Base64 DER; any of them may sign (two during the SP's own rotation). */
  signingCerts: string[];
  encryptionCert?: string;
  nameIdFormat: NameIdFormatName;
  nameIdSource: SamlSpConfig['nameIdSource'];
  attributes: SamlSpConfig['attributes'];
  requireSignedRequests: boolean;
  signResponse: boolean;
  signAssertion: boolean;
  encryptAssertion: boolean;
  mfa: MfaPolicy;
  duoFailMode?: 'closed' | 'open';
  allowIdpInitiated: boolean;
  idpInitiatedRelayState?: string;
}

export interface SpRegistry {
  list: readonly SamlSp[];
  byEntityId(entityId: string): SamlSp | undefined;
  byClientId(clientId: string): SamlSp | undefined;
}

/** Stable, derived from the entity ID: reordering saml.sps never moves sessions between SPs. */
export const clientIdFor = (entityId: string) => `saml:${createHash('sha256').update(entityId).digest('base64url').slice(0, 22)}`;

const httpUrl = (u: string) => { try { const x = new URL(u); return x.protocol === 'https:' || x.protocol === 'http:'; } catch { return false; } };

function buildSp(c: SamlSpConfig, at: string, read: (f: string) => string): SamlSp {
  const fail = (key: string, text: string): never => { throw new Error(`GW_ERR_SAML_CONFIG: ${at}.${key}: ${text}`); };
  if (c.metadataFile && c.metadataXml) fail('metadataXml', 'set metadataFile or metadataXml, not both');
  let meta: SpMetadata | undefined;
  const metaKey = c.metadataFile ? 'metadataFile' : 'metadataXml';
  if (c.metadataFile || c.metadataXml) {
    let xml = c.metadataXml ?? '';
    if (c.metadataFile) { try { xml = read(c.metadataFile); } catch (err) { fail('metadataFile', `cannot read it (${(err as Error).message})`); } }
    try { meta = parseSpMetadata(xml, c.entityId); } catch (err) { fail(metaKey, `not usable SP metadata (${(err as Error).message})`); }
  }
  const entityId = c.entityId ?? meta?.entityId;
  if (!entityId) fail('entityId', 'required (or give metadataFile / metadataXml)');

  const cert = (key: string, v: string) => { try { return normalizeCert(v); } catch (err) { return fail(key, (err as Error).message); } };
  const readCert = (key: string, file: string) => { try { return cert(key, read(file)); } catch (err) { return fail(key, `cannot read it (${(err as Error).message})`); } };

  const acs: Acs[] = [...(meta?.acs ?? []), ...c.acs.map((a) => ({ url: a.url, ...(a.index !== undefined ? { index: a.index } : {}), isDefault: a.isDefault }))];
  if (acs.length === 0) fail('acs', 'at least one AssertionConsumerService (HTTP-POST) is required, in the metadata or here');
  acs.forEach((a, i) => { if (!httpUrl(a.url)) fail(`acs[${i}].url`, 'must be an absolute http(s) URL'); });
  const indexes = acs.filter((a) => a.index !== undefined).map((a) => a.index);
  if (new Set(indexes).size !== indexes.length) fail('acs', 'two ACS endpoints share an index');

  const slo: SloEndpoint[] = [...(meta?.slo ?? [])];
  if (c.sloUrl) slo.unshift({ binding: c.sloBinding, url: c.sloUrl, ...(c.sloResponseUrl ? { responseUrl: c.sloResponseUrl } : {}) });
  slo.forEach((s) => { if (!httpUrl(s.url) || (s.responseUrl && !httpUrl(s.responseUrl))) fail('sloUrl', 'must be an absolute http(s) URL'); });

  const signingCerts = [...new Set([
    ...(meta?.signingCerts ?? []).map((v) => cert(metaKey, v)),
    ...c.signingCerts.map((v, i) => cert(`signingCerts[${i}]`, v)),
    ...c.signingCertFiles.map((f, i) => readCert(`signingCertFiles[${i}]`, f)),
  ])];
  if (c.encryptionCert && c.encryptionCertFile) fail('encryptionCertFile', 'set encryptionCert or encryptionCertFile, not both');
  const encryptionCert = c.encryptionCert ? cert('encryptionCert', c.encryptionCert)
    : c.encryptionCertFile ? readCert('encryptionCertFile', c.encryptionCertFile)
      : meta?.encryptionCerts[0] ? cert(metaKey, meta.encryptionCerts[0]) : undefined;

  const requireSignedRequests = c.requireSignedRequests || !!meta?.authnRequestsSigned;
  if (requireSignedRequests && signingCerts.length === 0) fail('requireSignedRequests', 'needs a signing certificate (signingCerts, signingCertFiles or the metadata)');
  if (c.encryptAssertion && !encryptionCert) fail('encryptAssertion', 'needs encryptionCert, encryptionCertFile or an encryption key in the metadata');
  if (c.encryptAssertion && certKeyType(encryptionCert!) !== 'rsa') fail('encryptionCert', 'must hold an RSA key (key transport is RSA-OAEP)');
  if (c.nameIdFormat === 'emailAddress' && c.nameIdSource !== 'email') fail('nameIdSource', 'must be "email" for the emailAddress format');
  // An SP whose metadata says WantAssertionsSigned gets a signed assertion whatever `sign` says.
  const sign = meta?.wantAssertionsSigned && c.sign === 'response' ? 'both' : c.sign;

  return {
    entityId: entityId!, name: c.name ?? entityId!, clientId: clientIdFor(entityId!), acs, slo, signingCerts,
    ...(encryptionCert ? { encryptionCert } : {}),
    nameIdFormat: c.nameIdFormat as NameIdFormatName, nameIdSource: c.nameIdSource, attributes: c.attributes,
    requireSignedRequests, signResponse: sign !== 'assertion', signAssertion: sign !== 'response',
    encryptAssertion: c.encryptAssertion, mfa: c.mfa, duoFailMode: c.duoFailMode, allowIdpInitiated: c.allowIdpInitiated,
    ...(c.idpInitiatedRelayState ? { idpInitiatedRelayState: c.idpInitiatedRelayState } : {}),
  };
}

/** Builds the registry from config; throws GW_ERR_SAML_CONFIG naming the key on the first problem. */
export function createSpRegistry(config: Config, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): SpRegistry {
  const list = config.saml.sps.map((c, i) => buildSp(c, `saml.sps[${i}]`, read));
  const byEntity = new Map<string, SamlSp>();
  list.forEach((sp, i) => {
    if (byEntity.has(sp.entityId)) throw new Error(`GW_ERR_SAML_CONFIG: saml.sps[${i}].entityId: ${sp.entityId} is registered twice`);
    byEntity.set(sp.entityId, sp);
  });
  const byClient = new Map(list.map((sp) => [sp.clientId, sp]));
  return { list, byEntityId: (id) => byEntity.get(id), byClientId: (id) => byClient.get(id) };
}

export const nameIdFormatUrn = (sp: SamlSp) => NAMEID_FORMAT[sp.nameIdFormat];

/** The ACS used when the request names none: isDefault, else the lowest index, else the first. */
export function defaultAcs(sp: SamlSp): Acs {
  return sp.acs.find((a) => a.isDefault)
    ?? [...sp.acs].filter((a) => a.index !== undefined).sort((a, b) => a.index! - b.index!)[0]
    ?? sp.acs[0]!;
}
