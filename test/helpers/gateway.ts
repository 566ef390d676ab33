// Starts a real gateway on an ephemeral port over a fresh database, torn down with the test.
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createServices, type Services } from '../../src/services.ts';
import { buildApp, type App } from '../../src/app.ts';
import type { DuoClient } from '../../src/mfa/duo/duo-client.ts';
import { freshDb, type DbKind } from './db.ts';
import type { Db } from '../../src/storage/db.ts';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

export const confidentialClient = {
  clientId: 'web-app', clientSecret: 'web-app-secret-0123456789abcdef', name: 'Example Web App',
  redirectUris: ['http://127.0.0.1:9999/cb'], postLogoutRedirectUris: ['http://127.0.0.1:9999/bye'],
  grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'], firstParty: true, mfa: 'off',
};

export interface Gateway { url: string; app: App; services: Services; config: Config; logs: string[]; close(): Promise<void> }

export interface GatewayOptions {
  overrides?: Record<string, unknown>;
  db?: DbKind;
  /** Share an existing database (e.g. a second instance). */
  databaseUrl?: string;
  /** Share an open in-process database (a second instance on one PGlite); the caller closes it. */
  sharedDb?: Db;
  port?: number;
  /** Public URL when it differs from this instance's own (several instances behind one name). */
  issuer?: string;
  /** A Duo client to use instead of the one built from config (tests that must bend what Duo sees). */
  duoClient?: DuoClient;
  /** Replaces the SAML validator's start-up self-test (app.ts BuildOptions). */
  samlSelfTest?: () => Promise<void>;
}

/** Collects every log line, so tests can assert on audit events and on the absence of secrets. */
export function captureStream(lines: string[]) {
  return new Writable({ write(chunk, _enc, cb) { lines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
}

export async function startGateway(t: Test, opts: GatewayOptions = {}): Promise<Gateway> {
  const port = opts.port ?? await freePort();
  const url = opts.issuer ?? `http://127.0.0.1:${port}`;
  const fresh = opts.databaseUrl || opts.sharedDb ? undefined : await freshDb(opts.db);
  const config = loadConfig({
    env: {},
    overrides: deepMerge({
      secret: TEST_SECRET,
      server: { host: '127.0.0.1', port, issuer: url },
      // Cheap hashing keeps the suite fast; bench/ measures the production parameters.
      passwords: { memoryKiB: 1024, iterations: 1, parallelism: 1, minLength: 8 },
      security: { progressiveDelayMs: 0 },
      oidc: { clients: [confidentialClient] },
      database: { url: opts.databaseUrl ?? fresh?.url },
      dataDir: ':memory:',
    }, opts.overrides ?? {}),
  });
  const logs: string[] = [];
  const log = createLogger('info', captureStream(logs));
  const services = await createServices(config, log, { db: fresh?.db ?? opts.sharedDb, duoClient: opts.duoClient });
  const app = await buildApp(services, { issuer: url, samlSelfTest: opts.samlSelfTest }).catch(async (err: unknown) => {
    if (fresh) await fresh.drop(); else if (!opts.sharedDb) await services.db.close();
    throw err;
  });
  await app.listen({ host: '127.0.0.1', port });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    if (fresh) await fresh.drop(); else if (!opts.sharedDb) await services.db.close();
  };
  t.teardown(close);
  return { url, app, services, config, logs, close };
}

type Obj = Record<string, unknown>;
export function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])
      ? deepMerge(out[k] as Obj, v as Obj) : v;
  }
  return out;
}
