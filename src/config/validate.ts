// Cross-field rules the schema cannot express. Each returns problems as "path: message".
import type { Config } from './schema.ts';

function checkIssuer(c: Config): string[] {
  const out: string[] = [];
  if (!c.server.issuer) return out; // filled in from host/port in development (see resolveIssuer)
  let url: URL;
  try { url = new URL(c.server.issuer); } catch { return ['/server/issuer: must be an absolute URL (ISSUER)']; }
  if (url.search || url.hash) out.push('/server/issuer: must not have a query or fragment');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') out.push('/server/issuer: must be http(s)');
  return out;
}

function checkProduction(c: Config): string[] {
  if (c.mode !== 'production') return [];
  const out: string[] = [];
  if (!c.secret) out.push('/secret: production needs GATEHOUSE_SECRET (or GATEHOUSE_SECRET_FILE), at least 32 random characters; generate one with `openssl rand -base64 48`');
  if (!c.server.issuer) out.push('/server/issuer: production needs ISSUER, the public https URL of the gateway');
  else if (c.server.issuer.startsWith('http:') && !c.server.allowHttpIssuer) {
    out.push('/server/issuer: an http:// issuer is refused in production; use https, or set server.allowHttpIssuer (GATEHOUSE_SERVER__ALLOW_HTTP_ISSUER=true) when TLS ends at a proxy on a private network');
  }
  return out;
}

function checkClients(c: Config): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  c.oidc.clients.forEach((cl, i) => {
    const at = `/oidc/clients/${i}`;
    if (seen.has(cl.clientId)) out.push(`${at}/clientId: duplicate client id ${JSON.stringify(cl.clientId)}`);
    seen.add(cl.clientId);
    const pub = cl.tokenEndpointAuthMethod === 'none';
    if (!pub && !cl.clientSecret) out.push(`${at}/clientSecret: a confidential client needs clientSecret or clientSecretFile (or tokenEndpointAuthMethod: none)`);
    if (pub && cl.clientSecret) out.push(`${at}/clientSecret: a public client (tokenEndpointAuthMethod: none) must not have a secret`);
    if (pub && cl.grantTypes.includes('client_credentials')) out.push(`${at}/grantTypes: client_credentials needs a confidential client`);
    if (cl.grantTypes.includes('authorization_code') && cl.redirectUris.length === 0) out.push(`${at}/redirectUris: authorization_code needs at least one redirect URI`);
    [...cl.redirectUris, ...cl.postLogoutRedirectUris, ...(cl.backchannelLogoutUri ? [cl.backchannelLogoutUri] : [])].forEach((u) => {
      try {
        const url = new URL(u);
        if (url.hash) out.push(`${at}: ${u} must not contain a fragment`);
      } catch { out.push(`${at}: ${JSON.stringify(u)} is not an absolute URL`); }
    });
  });
  return out;
}

function checkMfa(c: Config): string[] {
  const out: string[] = [];
  if (c.mfa.factors.includes('duo')) {
    const d = c.mfa.duo;
    if (!d.clientId) out.push('/mfa/duo/clientId: Duo is enabled (mfa.factors) but DUO_CLIENT_ID is not set (20 characters, the Client ID of the Duo Web SDK application)');
    if (!d.clientSecret) out.push('/mfa/duo/clientSecret: Duo is enabled but DUO_CLIENT_SECRET (or DUO_CLIENT_SECRET_FILE) is not set (40 characters)');
    if (!d.apiHost) out.push('/mfa/duo/apiHost: Duo is enabled but DUO_API_HOST is not set (e.g. api-XXXXXXXX.duosecurity.com, no https://)');
  }
  return out;
}

export const crossChecks = (c: Config): string[] =>
  [checkIssuer, checkProduction, checkClients, checkMfa].flatMap((check) => check(c));
