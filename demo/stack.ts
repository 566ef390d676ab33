// The whole demo as one call: the Duo emulator, the sample OIDC app, the sample SAML SP and the gateway
// (buildApp in-process, the same code `npm start` runs), wired to each other on loopback. `npm run demo`
// (demo/main.ts) and the browser tests (test/e2e) both start it, so the tests exercise the demo itself.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { withSecret } from '../src/config/dev-secret.ts';
import type { Config } from '../src/config/schema.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createServices, type Services } from '../src/services.ts';
import { buildApp, type App } from '../src/app.ts';
import type { Db } from '../src/storage/db.ts';
import { startDuoEmulator, type DuoEmulator, type Outcome } from '../tools/duo-emulator/emulator.ts';
import { startOidcApp, type OidcApp } from './oidc-app.ts';
import { startSamlSp, type SamlSp } from './saml-sp.ts';

export interface StackOptions {
  /** Loopback address everything listens on. */
  host?: string;
  /** 0 (default) = ephemeral. */
  ports?: { gateway?: number; oidcApp?: number; samlSp?: number; duo?: number; partnerApp?: number };
  /** Embedded database and generated secret go here (':memory:' with `db` for tests). */
  dataDir: string;
  /** An open, migrated database to use instead of PGlite under dataDir (tests). */
  db?: Db;
  /** Master secret; unset = generated once into dataDir (development). */
  secret?: string;
  /** Start the Duo emulator and enable Duo before TOTP (default true). */
  duo?: boolean;
  /** The emulator's answer for users without a scripted one (default 'interactive': a page to click). */
  duoOutcome?: Outcome;
  /** Start the sample SAML SP and register it (default true). */
  saml?: boolean;
  /** Start a second sample OIDC app registered as third party, so the consent page shows (default true). */
  partnerApp?: boolean;
  /** Extra gateway configuration, merged last (tests: cheap hashing, fail mode…). */
  gatewayOverrides?: Record<string, unknown>;
  log?: Logger;
}

export interface Stack {
  gateway: { url: string; app: App; services: Services; config: Config };
  duo?: { emulator: DuoEmulator; caFile: string; url: string };
  oidcApp: OidcApp;
  partnerApp?: OidcApp;
  samlSp?: SamlSp;
  close(): Promise<void>;
}

export const OIDC_CLIENT_ID = 'demo-app';
export const PARTNER_CLIENT_ID = 'partner-app';

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, host, () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

type Obj = Record<string, unknown>;
function merge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? merge(cur as Obj, v as Obj) : v;
  }
  return out;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const host = o.host ?? '127.0.0.1';
  const ports = o.ports ?? {};
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    // Reverse order: the gateway stops before the emulator and apps it talks to.
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    let duo: Stack['duo'];
    if (o.duo !== false) {
      const emulator = await startDuoEmulator({ port: ports.duo ?? 0, host, defaultOutcome: o.duoOutcome ?? 'interactive' });
      closers.push(() => emulator.close());
      // Trusted through the gateway's real config path (mfa.duo.caFile), as an operator would add a proxy CA.
      let dir = o.dataDir;
      if (dir === ':memory:') {
        const tmp = dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
        closers.push(async () => rmSync(tmp, { recursive: true, force: true }));
      } else mkdirSync(dir, { recursive: true });
      const caFile = join(dir, 'duo-emulator-ca.pem');
      writeFileSync(caFile, emulator.caPem);
      duo = { emulator, caFile, url: `https://${emulator.apiHost}` };
    }
    const gwPort = ports.gateway || await freePort(host);
    const issuer = `http://${host}:${gwPort}`;
    const clientSecret = randomBytes(24).toString('base64url');
    const oidcApp = await startOidcApp({ issuer, clientId: OIDC_CLIENT_ID, clientSecret, host, port: ports.oidcApp ?? 0 });
    closers.push(() => oidcApp.close());
    let partnerApp: OidcApp | undefined;
    const partnerSecret = randomBytes(24).toString('base64url');
    if (o.partnerApp !== false) {
      partnerApp = await startOidcApp({ issuer, clientId: PARTNER_CLIENT_ID, clientSecret: partnerSecret, host, port: ports.partnerApp ?? 0, name: 'Partner app (third party)', accent: 'partner' });
      closers.push(() => partnerApp!.close());
    }
    let samlSp: SamlSp | undefined;
    if (o.saml !== false) {
      samlSp = await startSamlSp({ issuer, host, port: ports.samlSp ?? 0 });
      closers.push(() => samlSp!.close());
    }

    const overrides = merge({
      dataDir: o.dataDir,
      ...(o.secret ? { secret: o.secret } : {}),
      server: { host, port: gwPort, issuer },
      oidc: {
        clients: [{
          clientId: OIDC_CLIENT_ID, clientSecret, name: 'Sample OIDC app', firstParty: true, mfa: 'required',
          redirectUris: [oidcApp.redirectUri], postLogoutRedirectUris: [oidcApp.postLogoutRedirectUri],
          grantTypes: ['authorization_code'],
        }, ...(partnerApp ? [{
          // Not first party: the user is asked to allow access (the consent page).
          clientId: PARTNER_CLIENT_ID, clientSecret: partnerSecret, name: 'Partner app', firstParty: false, mfa: 'required',
          redirectUris: [partnerApp.redirectUri], postLogoutRedirectUris: [partnerApp.postLogoutRedirectUri],
          grantTypes: ['authorization_code'],
        }] : [])],
      },
      saml: {
        enabled: !!samlSp,
        sps: samlSp ? [{
          entityId: samlSp.entityId, name: 'Sample SAML service provider', mfa: 'required',
          acs: [{ url: samlSp.acsUrl, isDefault: true }], sloUrl: samlSp.sloUrl, sloBinding: 'redirect',
          signingCerts: [samlSp.certPem], nameIdFormat: 'emailAddress', nameIdSource: 'email',
          attributes: [
            { name: 'urn:oid:0.9.2342.19200300.100.1.3', friendlyName: 'mail', source: 'email' },
            { name: 'urn:oid:2.16.840.1.113730.3.1.241', friendlyName: 'displayName', source: 'name' },
            { name: 'uid', nameFormat: 'basic', source: 'username' },
            { name: 'groups', nameFormat: 'basic', source: 'groups' },
          ],
        }] : [],
      },
      mfa: {
        factors: duo ? ['duo', 'totp'] : ['totp'],
        ...(duo ? { duo: { clientId: duo.emulator.clientId, clientSecret: duo.emulator.clientSecret, apiHost: duo.emulator.apiHost, caFile: duo.caFile } } : {}),
      },
    }, o.gatewayOverrides ?? {});
    if (o.db) overrides.database = { url: undefined };
    const { config } = withSecret(loadConfig({ env: {}, overrides }));
    const log = o.log ?? createLogger(config.log.level);
    const services = await createServices(config, log, { db: o.db });
    // A database handed in belongs to the caller.
    if (!o.db) closers.splice(0, 0, () => services.db.close());
    const app = await buildApp(services, { issuer });
    closers.push(() => app.close());
    await app.listen({ host, port: gwPort });
    return { gateway: { url: issuer, app, services, config }, duo, oidcApp, partnerApp, samlSp, close };
  } catch (err) {
    await close();
    throw err;
  }
}
