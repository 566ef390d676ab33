// Reads what the IdP needs from SP metadata (saml-metadata-2.0-os §2.4.4): entity ID, HTTP-POST ACS
// endpoints with their indexes, SLO endpoints, signing and encryption certificates, and the
// AuthnRequestsSigned / WantAssertionsSigned flags. Other bindings (Artifact, PAOS) are ignored.
import { BINDING, NS } from './constants.ts';
import { attrOf, parseConfigXml } from './xml-guard.ts';

export interface SpMetadata {
  entityId: string;
  acs: { url: string; index?: number; isDefault: boolean }[];
  slo: { binding: 'redirect' | 'post'; url: string; responseUrl?: string }[];
  signingCerts: string[];
  encryptionCerts: string[];
  authnRequestsSigned: boolean;
  wantAssertionsSigned: boolean;
}

const children = (el: Element, ns: string, name: string): Element[] => {
  const out: Element[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const n = el.childNodes[i] as Element;
    if (n.nodeType === 1 && n.namespaceURI === ns && n.localName === name) out.push(n);
  }
  return out;
};

export function parseSpMetadata(xml: string, wantEntityId?: string): SpMetadata {
  const doc = parseConfigXml(xml);
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== NS.metadata) throw new Error('not SAML metadata');
  // An aggregate (EntitiesDescriptor) is accepted when it names the entity to use.
  const entities = root.localName === 'EntitiesDescriptor' ? children(root, NS.metadata, 'EntityDescriptor') : [root];
  const entity = entities.find((e) => e.localName === 'EntityDescriptor' && (!wantEntityId || e.getAttribute('entityID') === wantEntityId));
  if (!entity) throw new Error(wantEntityId ? `no EntityDescriptor for ${wantEntityId}` : 'no EntityDescriptor');
  const sp = children(entity, NS.metadata, 'SPSSODescriptor')[0];
  if (!sp) throw new Error('no SPSSODescriptor');
  const certs = (use: string) => children(sp, NS.metadata, 'KeyDescriptor')
    .filter((k) => !k.getAttribute('use') || k.getAttribute('use') === use)
    .flatMap((k) => Array.from(k.getElementsByTagNameNS(NS.dsig, 'X509Certificate')).map((c) => (c.textContent ?? '').replace(/\s+/g, '')));
  const bindingName = (b: string | null) => (b === BINDING.redirect ? 'redirect' : b === BINDING.post ? 'post' : undefined);
  return {
    entityId: entity.getAttribute('entityID') ?? '',
    acs: children(sp, NS.metadata, 'AssertionConsumerService')
      .filter((a) => a.getAttribute('Binding') === BINDING.post)
      .map((a) => ({
        url: a.getAttribute('Location') ?? '',
        ...(a.hasAttribute('index') ? { index: Number(a.getAttribute('index')) } : {}),
        isDefault: a.getAttribute('isDefault') === 'true',
      })),
    slo: children(sp, NS.metadata, 'SingleLogoutService').flatMap((s) => {
      const binding = bindingName(s.getAttribute('Binding'));
      const url = s.getAttribute('Location');
      if (!binding || !url) return [];
      const responseUrl = attrOf(s, 'ResponseLocation') || undefined;
      return [{ binding, url, ...(responseUrl ? { responseUrl } : {}) }];
    }),
    signingCerts: certs('signing'),
    encryptionCerts: certs('encryption'),
    authnRequestsSigned: sp.getAttribute('AuthnRequestsSigned') === 'true',
    wantAssertionsSigned: sp.getAttribute('WantAssertionsSigned') === 'true',
  };
}
