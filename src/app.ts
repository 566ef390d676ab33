// buildApp: the whole gateway as a Fastify instance. Plugins are registered in this explicit order:
// request log (with the security headers) → health → assets → interaction screens → SAML IdP → OIDC provider → errors.
// main.ts adds only process concerns (config, listen, signals).
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import type Provider from 'oidc-provider';
import type { Config } from './config/schema.ts';
import type { Services } from './services.ts';
import requestLog, { genReqId } from './platform/request-log.ts';
import { securityHeaders } from './platform/security-headers.ts';
import health from './platform/health.ts';
import metricsRoute from './platform/metrics-route.ts';
import { attachMetricsServer } from './platform/metrics-server.ts';
import assets from './views/assets-route.ts';
import errorHandler from './platform/error-handler.ts';
import interactionRoutes from './interaction/routes.ts';
import { createCsrf } from './interaction/csrf.ts';
import { createLoginScreen, type LoginScreen } from './interaction/login-screen.ts';
import { createResumeInProcess } from './interaction/resume-in-process.ts';
import { createPasswordCheck } from './interaction/login.ts';
import { createProvider } from './protocols/oidc/provider.ts';
import { mountProvider, type ProviderHolder } from './protocols/oidc/mount.ts';
import { startSweeper } from './storage/sweeper.ts';
import { afterCommit } from './storage/unit-of-work.ts';
import { createMfaPrompt, mfaNeedFor, type MfaNeed } from './protocols/oidc/mfa-prompt.ts';
import { registerMfaRoutes } from './interaction/mfa/routes.ts';
import { createMfaAfterPassword } from './interaction/pending-mfa.ts';
import type { SamlIdp } from './protocols/saml/idp.ts';
import { metadataOnly } from './protocols/saml/metadata-route.ts';
import accountPortal from './account/portal.ts';
import { accountClient } from './account/client.ts';

export interface BuildOptions {
  issuer: string;
  /** Proves the SAML XML Schema validator at the start (default: protocols/saml/xsd.ts selfTestInChild); tests replace it. */
  samlSelfTest?: () => Promise<void>;
}

/**
 * Graceful stop: readiness turns 503, then (after `drainDelayMs`, for load balancers to notice) the
 * listener stops accepting. Every connection already accepted is served: responses from now on carry
 * `Connection: close`, a keep-alive connection is ended once its current response is sent, and one that
 * was accepted but has not sent its request yet gets a moment to do so. Then app.close() runs the hooks.
 */
export async function closeGracefully(app: App, drainDelayMs = 0): Promise<void> {
  app.shutdown.draining = true;
  if (drainDelayMs > 0) await new Promise((r) => setTimeout(r, drainDelayMs));
  // net.Server.close: stop accepting, keep existing connections (http.Server.close would reset the idle
  // ones, including those whose first request is still on the wire); its callback fires when all ended.
  const drained = new Promise<void>((resolve) => net.Server.prototype.close.call(app.server, () => resolve()));
  const started = Date.now();
  const sweep = setInterval(() => {
    for (const sock of app.connections) {
      if (busy(sock)) continue;
      if ((sock as Tracked)[SERVED] || Date.now() - started > 2000) sock.end();
    }
  }, 50);
  try { await drained; } finally { clearInterval(sweep); }
  await app.close(); // onClose hooks (Fastify tolerates the listener being closed already)
}

// Connection tracking for closeGracefully, paid on every connection and request, so without closures or
// listeners per request: a Set of open sockets (one shared 'close' handler), a flag on the socket once it
// has carried a request, and Node's own record of the response in flight on a socket (`_httpMessage`, set
// while a ServerResponse owns the socket: https://github.com/nodejs/node/blob/v24.x/lib/_http_server.js,
// ServerResponse.assignSocket / detachSocket). On a TLS listener the requests arrive on the TLSSocket, so
// that is the one tracked ('secureConnection'), not the TCP socket under it.
const SERVED = Symbol('gatehouse.served');
type Tracked = net.Socket & { [SERVED]?: boolean; _httpMessage?: unknown };
/** True while a response is in progress on the connection. */
export const busy = (sock: net.Socket) => (sock as Tracked)._httpMessage != null;

function trackConnections(app: App): (req: IncomingMessage, res: ServerResponse) => void {
  const open = app.connections;
  function forget(this: net.Socket) { open.delete(this); }
  const event = app.server instanceof tls.Server ? 'secureConnection' : 'connection';
  app.server.on(event, (sock: net.Socket) => { open.add(sock); sock.on('close', forget); });
  return (req, res) => {
    (req.socket as Tracked)[SERVED] = true;
    if (app.shutdown.draining && !res.headersSent) res.setHeader('connection', 'close');
  };
}

/**
 * Fastify builds a child logger (bound to the request id) for every request; almost no request logs
 * through it (the request line has its own child, platform/request-log.ts). This one builds the pino
 * child on first use only.
 */
class LazyChild {
  #parent: FastifyBaseLogger; #bindings: Record<string, unknown>; #opts: Record<string, unknown>; #real?: FastifyBaseLogger;
  constructor(parent: FastifyBaseLogger, bindings: Record<string, unknown>, opts: Record<string, unknown>) {
    this.#parent = parent; this.#bindings = bindings; this.#opts = opts;
  }
  get #log(): FastifyBaseLogger { return (this.#real ??= this.#parent.child(this.#bindings, this.#opts)); }
  get level() { return this.#real?.level ?? (this.#opts.level as string | undefined) ?? this.#parent.level; }
  set level(l: string) { this.#log.level = l; }
  fatal(...a: unknown[]) { (this.#log.fatal as (...x: unknown[]) => void)(...a); }
  error(...a: unknown[]) { (this.#log.error as (...x: unknown[]) => void)(...a); }
  warn(...a: unknown[]) { (this.#log.warn as (...x: unknown[]) => void)(...a); }
  info(...a: unknown[]) { (this.#log.info as (...x: unknown[]) => void)(...a); }
  debug(...a: unknown[]) { (this.#log.debug as (...x: unknown[]) => void)(...a); }
  trace(...a: unknown[]) { (this.#log.trace as (...x: unknown[]) => void)(...a); }
  silent(...a: unknown[]) { (this.#log.silent as (...x: unknown[]) => void)(...a); }
  child(bindings: Record<string, unknown>, opts?: Record<string, unknown>) { return this.#log.child(bindings, opts); }
  isLevelEnabled(level: string) { return (this.#log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level); }
  bindings() { return (this.#log as unknown as { bindings(): Record<string, unknown> }).bindings(); }
}

export type App = FastifyInstance & {
  services: Services; provider: ProviderHolder; shutdown: { draining: boolean };
  connections: Set<net.Socket>;
};

/** The issuer: config.server.issuer, or http://localhost:<port> in development. */
export function resolveIssuer(config: Config, port = config.server.port): string {
  return (config.server.issuer || `http://localhost:${port}`).replace(/\/$/, '');
}

async function createHolder(s: Services, issuer: string, mfaNeed: MfaNeed, loginScreen: LoginScreen, saml?: SamlIdp): Promise<ProviderHolder & { reloadIfRotated(): Promise<void> }> {
  await s.keys.ensure();
  let version = await s.keys.version();
  const make = async () => {
    const p = createProvider({
      config: s.config, issuer, db: s.db, box: s.box, users: s.users, keys: await s.keys.load(),
      extraPrompts: [createMfaPrompt(mfaNeed)], loginScreen,
      // Each SAML SP rides the same pipeline as an internal client (protocols/saml/bridge.ts), and so
      // does the account portal (account/client.ts).
      extraInternalClients: [...(saml?.internalClients ?? []), ...(s.config.account.enabled ? [accountClient(s.config, issuer, s.box)] : [])],
    });
    saml?.watch(p);
    p.on('server_error', (_ctx, err) => s.log.error({ err, event: 'GW_ERR_OIDC' }, 'oidc-provider server error'));
    // A relying party that misses a back-channel logout keeps its session: ops must see it.
    p.on('backchannel.error', (_ctx, err, client) => s.log.warn({ err: { message: (err as Error).message, cause: ((err as Error).cause as Error | undefined)?.message }, clientId: client.clientId, event: 'GW_ERR_BACKCHANNEL_LOGOUT' }, 'back-channel logout notification failed'));
    // Models emit '<kind>.saved' (stored) or '<kind>.issued' (self-contained JWT): count what was handed out,
    // once the request's commit has succeeded (a token request that loses its consume hands out nothing).
    for (const kind of ['access_token', 'client_credentials', 'refresh_token', 'authorization_code']) {
      for (const ev of ['saved', 'issued']) (p as unknown as NodeJS.EventEmitter).on(`${kind}.${ev}`, () => afterCommit(() => s.metrics.issued.inc({ kind })));
    }
    return { provider: p, callback: p.callback() };
  };
  let live = await make();
  return {
    current: () => live.provider,
    callback: () => live.callback,
    // Another instance may rotate the keys: pick up the new set so both sign and publish alike.
    async reloadIfRotated() {
      const v = await s.keys.version();
      if (v !== version) { version = v; live = await make(); s.log.info('signing keys changed; provider reloaded'); }
    },
  };
}

export async function buildApp(s: Services, opts: BuildOptions): Promise<App> {
  const { config } = s;
  const app = Fastify({
    loggerInstance: s.log,
    // One line per request comes from platform/request-log.ts (with redacted URLs) instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    childLoggerFactory: (logger, bindings, opts) => new LazyChild(logger, bindings, opts as Record<string, unknown>) as unknown as FastifyBaseLogger,
    genReqId,
    trustProxy: config.server.trustProxy,
    bodyLimit: config.server.bodyLimitBytes,
    // Shutdown is orchestrated in closeGracefully(): finish what was accepted rather than answer 503.
    return503OnClosing: false,
    forceCloseConnections: false,
  }) as unknown as App;
  // Built before the provider: its SPs become internal clients, and a bad SP setting stops the start here.
  // Loaded only with SPs to serve: the SAML stack (samlify, xml-crypto, xmldom, the XSD validator) is
  // RSS that most deployments never use (docs/saml.md).
  const saml = config.saml.enabled && config.saml.sps.length > 0 ? (await import('./protocols/saml/idp.ts')).createSamlIdp(s, opts.issuer, { selfTest: opts.samlSelfTest }) : undefined;
  // One answer to "is a second factor due?": the `mfa` prompt asks it, and the password screen before it.
  const mfaNeed = mfaNeedFor((accountId) => s.mfa.totp.isEnrolled(accountId));
  const csrf = createCsrf(s.box);
  const loginScreen = createLoginScreen(config.ui, csrf);
  const holder = await createHolder(s, opts.issuer, mfaNeed, loginScreen, saml);
  app.decorate('services', s);
  app.decorate('provider', holder);
  app.decorate('shutdown', { draining: false });
  app.decorate('connections', new Set());
  const markRequest = trackConnections(app);

  await app.register(requestLog, {
    observe: (route, method, status, seconds) => s.metrics.http.observe({ route, method, status: String(status) }, seconds),
    headers: securityHeaders({ https: opts.issuer.startsWith('https:') }),
    onRequest: markRequest,
  });
  await app.register(errorHandler, { db: s.db, theme: config.ui });
  await app.register(health, { db: s.db, isDraining: () => app.shutdown.draining });
  if (config.metrics.enabled && config.metrics.port) {
    attachMetricsServer(app, { port: config.metrics.port, host: config.metrics.host ?? config.server.host, token: config.metrics.token, metrics: s.metrics, log: s.log });
  } else if (config.metrics.enabled) await app.register(metricsRoute, { metrics: s.metrics, token: config.metrics.token });
  await app.register(assets, { theme: config.ui });
  // The last step of an interaction resumes the authorization in-process (interaction/resume-in-process.ts).
  const resume = createResumeInProcess(holder);
  await app.register(interactionRoutes, {
    config, provider: () => holder.current() as Provider, csrf, loginScreen, resume,
    checkPassword: createPasswordCheck(s),
    mfaAfterPassword: createMfaAfterPassword(() => holder.current() as Provider, mfaNeed),
    extend: (scope) => ({
      mfa: registerMfaRoutes(scope, {
        config, issuer: opts.issuer, provider: () => holder.current() as Provider, csrf, mfa: s.mfa,
        users: s.users, throttle: s.throttle, audit: s.audit, metrics: s.metrics, resume,
      }),
    }),
  });
  if (config.account.enabled) {
    await app.register(accountPortal, {
      services: s, issuer: opts.issuer, provider: () => holder.current() as Provider, https: opts.issuer.startsWith('https:'),
      // The portal redeems its codes at the real token endpoint, in-process.
      inject: (o) => app.inject(o),
    });
  }
  if (saml) await saml.register(app, holder);
  else if (config.saml.enabled) await app.register(metadataOnly, { s, issuer: opts.issuer });
  await mountProvider(app, holder);

  const stopSweeper = startSweeper(s, holder.reloadIfRotated);
  app.addHook('onClose', async () => { stopSweeper(); });
  return app;
}
