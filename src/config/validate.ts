// Cross-field rules the schema cannot express. Each rule names the settings it reads and is skipped when
// one of them already has a problem, so every independent problem is reported in the same run without
// follow-on noise (an unreadable DUO_CLIENT_SECRET_FILE is not also reported as "not set").
import { ConfigSchema, type Config } from './schema.ts';
import type { Problem } from './problems.ts';
import { secretValues } from './redact.ts';
import type { Node } from './settings.ts';
import { LogoError, readLogo } from '../views/logo.ts';

/** Values with this prefix are published (config/dev.yaml): fine on a laptop, refused in production. */
export const DEV_ONLY_PREFIX = 'dev-only';

type Invalid = (pointer: string) => boolean;
interface Rule { reads: string[]; run(c: Config): Problem[] }

const issuerRules: Rule[] = [{
  reads: ['/server/issuer'],
  run(c) {
    if (!c.server.issuer) return []; // development falls back to http://localhost:<port>
    const p = (text: string): Problem => ({ pointer: '/server/issuer', text });
    let url: URL;
    try { url = new URL(c.server.issuer); } catch { return [p('must be an absolute URL such as https://sso.example.com')]; }
    const out: Problem[] = [];
    if (url.protocol !== 'https:' && url.protocol !== 'http:') out.push(p('must be an https:// (or http://) URL'));
    if (url.search || url.hash) out.push(p('must not have a query (?…) or a fragment (#…)'));
    if (url.username || url.password) out.push(p('must not contain a user name or password'));
    return out;
  },
}];

const productionRules: Rule[] = [{
  reads: ['/mode', '/secret'],
  run: (c) => c.mode !== 'production' || c.secret ? [] : [{
    pointer: '/secret',
    text: 'production needs a master secret of at least 32 random characters, given in GATEHOUSE_SECRET or GATEHOUSE_SECRET_FILE '
      + '(the development fallback, a secret generated into the data directory, is refused); generate one with `openssl rand -base64 48`',
  }],
}, {
  reads: ['/mode', '/server/issuer', '/server/allowHttpIssuer'],
  run(c) {
    if (c.mode !== 'production') return [];
    if (!c.server.issuer) return [{ pointer: '/server/issuer', text: 'production needs the public https:// URL of the gateway (the issuer of every token)' }];
    if (c.server.issuer.startsWith('http:') && !c.server.allowHttpIssuer) {
      return [{ pointer: '/server/issuer', text: 'an http:// issuer is refused in production; use https://, or set server.allowHttpIssuer (GATEHOUSE_SERVER__ALLOW_HTTP_ISSUER=true) when TLS ends at a proxy on a private network' }];
    }
    return [];
  },
}, {
  reads: ['/mode'],
  run: (c) => c.mode !== 'production' ? [] : secretValues(ConfigSchema as Node, c)
    .filter((s) => s.value.startsWith(DEV_ONLY_PREFIX))
    .map((s) => ({ pointer: s.pointer, text: `holds a published development value (it starts with "${DEV_ONLY_PREFIX}"); production needs a real secret` })),
}];

function clientRules(c: Config, invalid: Invalid): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  c.oidc.clients.forEach((cl, i) => {
    const at = `/oidc/clients/${i}`;
    if (typeof cl !== 'object' || cl === null || Array.isArray(cl)) return; // reported by the schema
    // A rule runs only when every key it reads is sound, so one client's typo hides none of its other problems.
    const rule = (reads: string[], key: string, failed: boolean, text: string) => {
      if (failed && !reads.some((r) => invalid(`${at}/${r}`))) out.push({ pointer: `${at}/${key}`, text });
    };
    const pub = cl.tokenEndpointAuthMethod === 'none';
    // A list of the wrong type is the schema's problem; the rules below must not trip over it.
    const list = <T>(v: T[]): T[] => (Array.isArray(v) ? v : []);
    rule(['clientId'], 'clientId', seen.has(cl.clientId), `duplicate client id ${JSON.stringify(cl.clientId)}`);
    seen.add(cl.clientId);
    const secretKeys = ['tokenEndpointAuthMethod', 'clientSecret', 'clientSecretFile'];
    rule(secretKeys, 'clientSecret', !pub && !cl.clientSecret, 'a confidential client needs clientSecret or clientSecretFile (or tokenEndpointAuthMethod: none for a public client)');
    rule(secretKeys, 'clientSecret', pub && !!cl.clientSecret, 'a public client (tokenEndpointAuthMethod: none) must not have a secret');
    rule(['tokenEndpointAuthMethod', 'grantTypes'], 'grantTypes', pub && list(cl.grantTypes).includes('client_credentials'), 'client_credentials needs a confidential client');
    rule(['grantTypes', 'redirectUris'], 'redirectUris', list(cl.grantTypes).includes('authorization_code') && list(cl.redirectUris).length === 0, 'authorization_code needs at least one redirect URI');
    const uris: [string, string | undefined][] = [
      ...list(cl.redirectUris).map((u, j): [string, string] => [`redirectUris/${j}`, u]),
      ...list(cl.postLogoutRedirectUris).map((u, j): [string, string] => [`postLogoutRedirectUris/${j}`, u]),
      ['backchannelLogoutUri', cl.backchannelLogoutUri],
    ];
    for (const [key, u] of uris) {
      if (u === undefined) continue;
      let url: URL | undefined;
      try { url = new URL(u); } catch { /* reported below */ }
      rule([key], key, !url, 'must be an absolute URL');
      rule([key], key, !!url?.hash, 'must not contain a fragment (#…)');
    }
  });
  return out;
}

const duoRequired = (key: 'clientId' | 'clientSecret' | 'apiHost', text: string): Rule => ({
  reads: ['/mfa/factors', `/mfa/duo/${key}`],
  run: (c) => c.mfa.factors.includes('duo') && !c.mfa.duo[key] ? [{ pointer: `/mfa/duo/${key}`, text }] : [],
});

const mfaRules: Rule[] = [
  duoRequired('clientId', 'Duo is enabled (mfa.factors lists duo) but the Client ID is not set: 20 characters, from the Web SDK application in the Duo Admin Panel'),
  duoRequired('clientSecret', 'Duo is enabled (mfa.factors lists duo) but the Client Secret is not set: 40 characters (DUO_CLIENT_SECRET_FILE is the safer way to give it)'),
  duoRequired('apiHost', 'Duo is enabled (mfa.factors lists duo) but the API hostname is not set: a bare host name such as api-xxxxxxxx.duosecurity.com'),
];

const metricsRules: Rule[] = [{
  reads: ['/metrics/port', '/server/port'],
  run: (c) => c.metrics?.port !== undefined && c.metrics.port === c.server?.port
    ? [{ pointer: '/metrics/port', text: `must differ from server.port (${c.server.port}); leave it unset to serve /metrics on the public port` }] : [],
}];

const uiRules: Rule[] = [{
  reads: ['/ui/logoFile'],
  run(c) {
    if (c.ui.logoFile === undefined) return [];
    try { readLogo(c.ui.logoFile); return []; } catch (err) {
      if (err instanceof LogoError) return [{ pointer: '/ui/logoFile', text: err.message }];
      throw err;
    }
  },
}];

/** Problems the schema cannot see. `invalid` tells which pointers already have a problem. */
export function crossChecks(c: Config, invalid: Invalid = () => false): Problem[] {
  const rules = [...issuerRules, ...productionRules, ...mfaRules, ...metricsRules, ...uiRules];
  const out = rules.filter((r) => !r.reads.some(invalid)).flatMap((r) => r.run(c));
  // Clients are checked one by one: a mistake in one must not hide the others'.
  if (Array.isArray(c.oidc?.clients)) out.push(...clientRules(c, invalid));
  return out;
}
