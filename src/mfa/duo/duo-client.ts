// The DuoClient port and its implementation over the official SDK (@duosecurity/duo_universal 3.0.0).
// What the SDK does not do, this adds: a deadline on every call (the SDK sets none), keep-alive, an optional
// extra CA (TLS-inspecting proxies, the emulator), and no exception text that could carry secrets.
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Client } from '@duosecurity/duo_universal';

/**
 * The SDK (with axios and jsonwebtoken, tens of MiB of RSS) is loaded only when a Duo client is made,
 * so a gateway without Duo never pays for it. Synchronously, through require: the package ships CommonJS.
 */
const loadSdk = () => createRequire(import.meta.url)('@duosecurity/duo_universal') as typeof import('@duosecurity/duo_universal');

export type DuoIdToken = Awaited<ReturnType<Client['exchangeAuthorizationCodeFor2FAResult']>>;

export interface DuoClient {
  healthCheck(): Promise<{ ok: true; duoTime?: number } | { ok: false; problem: string }>;
  generateState(): string;
  createAuthUrl(username: string, state: string, redirectUrl: string): Promise<string>;
  exchange(code: string, username: string, redirectUrl: string): Promise<DuoIdToken>;
}

export interface DuoSettings { clientId: string; clientSecret: string; apiHost: string; timeoutMs: number; caPem?: string }

/** Rejects after `ms` with a stable message; the SDK's own calls have no timeout at all. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

/** A short, secret-free description of what went wrong talking to Duo (for logs and `duo check`). */
export function describeDuoError(err: unknown): string {
  const e = err as { message?: string; inner?: { code?: string; message?: string } };
  const code = e.inner?.code ?? '';
  const msg = e.message ?? String(err);
  if (/timed out|timeout/i.test(msg) || code === 'ECONNABORTED') return 'timeout: Duo did not answer in time (network, firewall or proxy)';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH'].includes(code) || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(msg)) return `network: cannot reach the Duo API host (${code || 'connection failed'})`;
  if (/certificate|self.signed|unable to verify/i.test(msg)) return 'tls: the Duo API certificate is not trusted (set mfa.duo.caFile for a TLS-inspecting proxy)';
  if (/invalid_client|client_assertion/i.test(msg)) return 'credentials: Duo refused the client assertion (check DUO_CLIENT_ID / DUO_CLIENT_SECRET, and the clock)';
  if (/missing expected data/i.test(msg)) return 'response: Duo answered with something unexpected (wrong API host, or an outage)';
  if (/decoding JWT/i.test(msg)) return 'token: the Duo id_token did not verify (wrong secret, or clock skew)';
  if (/username is invalid/i.test(msg)) return 'username: Duo returned a different username';
  if (/invalid_grant/i.test(msg)) return 'grant: the Duo code was invalid, expired or already used';
  return 'error: Duo call failed';
}

export function createSdkDuoClient(s: DuoSettings): DuoClient {
  const { Client, constants } = loadSdk();
  // One keep-alive agent for every call; the SDK's private `axios` instance is pointed at it.
  // Upstream: https://github.com/duosecurity/duo_universal_nodejs/blob/v3.0.0/src/client.ts (field `axios`).
  // The SDK pins Duo's public roots; an extra CA is added to them, never instead of them.
  const agent = new https.Agent({ keepAlive: true, timeout: s.timeoutMs, ca: [constants.DUO_PINNED_CERT, ...(s.caPem ? [s.caPem] : [])] });
  const clients = new Map<string, Client>();
  const clientFor = (redirectUrl: string): Client => {
    let c = clients.get(redirectUrl);
    if (!c) {
      c = new Client({ clientId: s.clientId, clientSecret: s.clientSecret, apiHost: s.apiHost, redirectUrl });
      const ax = (c as unknown as { axios: { defaults: { httpsAgent?: unknown; timeout?: number; proxy?: unknown } } }).axios;
      ax.defaults.httpsAgent = agent;
      ax.defaults.timeout = s.timeoutMs;
      // The redirect URL embeds the interaction uid, so entries are per login: keep the map bounded.
      if (clients.size > 1000) clients.clear();
      clients.set(redirectUrl, c);
    }
    return c;
  };
  const base = clientFor('https://gatehouse.invalid/duo/health');
  return {
    async healthCheck() {
      try {
        const r = await withDeadline(base.healthCheck(), s.timeoutMs, 'Duo health check') as { stat?: string; response?: { timestamp?: number } };
        return { ok: true, duoTime: r.response?.timestamp };
      } catch (err) {
        return { ok: false, problem: describeDuoError(err) };
      }
    },
    generateState: () => base.generateState(),
    createAuthUrl: (username, state, redirectUrl) => clientFor(redirectUrl).createAuthUrl(username, state),
    exchange: (code, username, redirectUrl) =>
      withDeadline(clientFor(redirectUrl).exchangeAuthorizationCodeFor2FAResult(code, username), s.timeoutMs, 'Duo code exchange'),
  };
}
