// The load generator: a separate process pinned to the other CPU, driven by bench/run.ts over IPC.
// autocannon (as a library) for keep-alive floods; purpose-written loops for TLS-per-request, logins,
// refresh chains and the latency probe.
import { createRequire } from 'node:module';
import { serveRpc, emit } from '../lib/proc.ts';
import { CookieJar, HttpClient, type Transport } from './http.ts';
import { runLoop, SAMPLED, type LoopResult } from './runner.ts';
import { clientCredentials, login, refresh, samlSso, UserPicker, type LoginTarget, type SamlTarget } from './flows.ts';
import { basic, manyClientId, manyClientSecret } from '../lib/fixtures.ts';

// autocannon ships no types (and @types/autocannon is not a dependency): the few fields used here.
interface CannonResult {
  '2xx': number; non2xx: number; errors: number; timeouts: number; duration: number;
  latency: Record<string, number>; requests: { total: number };
  statusCodeStats?: Record<string, { count: number }>;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<CannonResult>;

interface CannonParams {
  url: string; method?: string; body?: string; headers?: Record<string, string>;
  connections: number; durationMs: number; overallRate?: number;
  /** Authorization picked at random among bench-many-0 … n-1 for every request. */
  randomClients?: number;
}

async function cannon(p: CannonParams): Promise<LoopResult & { statusCodes: Record<string, number> }> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...p.headers };
  const auths = p.randomClients ? Array.from({ length: p.randomClients }, (_, i) => basic(manyClientId(i), manyClientSecret(i))) : [];
  const r = await autocannon({
    url: p.url, method: p.method ?? 'POST', body: p.body, headers,
    connections: p.connections, duration: p.durationMs / 1000, overallRate: p.overallRate,
    ...(auths.length ? {
      requests: [{
        setupRequest: (req: Record<string, unknown>) => ({ ...req, headers: { ...(req.headers as object), authorization: auths[Math.floor(Math.random() * auths.length)] } }),
      }],
    } : {}),
  });
  const lat = r.latency;
  const statusCodes = r.statusCodeStats ?? {};
  return {
    completed: r['2xx'], errors: r.errors + r.timeouts + r.non2xx, wallSeconds: r.duration,
    firstError: r.non2xx ? `${r.non2xx} non-2xx answers` : r.errors ? `${r.errors} errors` : undefined,
    latency: { p50: lat.p50!, p90: lat.p90!, p99: lat.p99!, 'p99.9': lat.p99_9!, max: lat.max!, mean: lat.average!, count: r.requests.total },
    extra: {},
    statusCodes: Object.fromEntries(Object.entries(statusCodes).map(([k, v]) => [k, v.count])),
  };
}

const clients = new Map<string, HttpClient>();
function http(base: string, transport: Transport = 'keepalive'): HttpClient {
  const key = `${transport} ${base}`;
  let c = clients.get(key);
  if (!c) { c = new HttpClient({ base, transport }); clients.set(key, c); }
  return c;
}

/** State kept between calls: users handed out, refresh-token chains, signed-in SAML browsers. */
const pickers = new Map<string, UserPicker>();
/** Refresh-token chains by client id. */
const chainsOf = new Map<string, string[]>();
const samlJars: CookieJar[] = [];

serveRpc({
  cannon,

  /** Client-credentials grants, each over its own new TLS connection (full handshake, no resumption). */
  tlsGrants(p: { base: string; path: string; concurrency: number; durationMs: number; rate?: number; client: { clientId: string; clientSecret: string } }) {
    const h = http(p.base, 'tls-per-request');
    const auth = basic(p.client.clientId, p.client.clientSecret);
    return runLoop(p, () => clientCredentials(h, p.path, auth));
  },

  /**
   * Client-credentials grants over keep-alive connections at a fixed arrival rate: the open model, latency
   * from each request's scheduled start. (autocannon's own rate limit is not one: each connection sends its
   * quota for the second back to back and then waits for the next second, and its coordinated-omission
   * correction assumes one request per millisecond per connection; both inflate the tail it reports.)
   */
  grants(p: { base: string; path: string; durationMs: number; rate: number; concurrency: number; authorization?: string; randomClients?: number }) {
    const h = http(p.base);
    const auths = p.randomClients ? Array.from({ length: p.randomClients }, (_, i) => basic(manyClientId(i), manyClientSecret(i))) : [];
    return runLoop(p, () => clientCredentials(h, p.path, auths.length ? auths[Math.floor(Math.random() * auths.length)]! : p.authorization!));
  },

  /** `n` of the `of` many clients, each once, in random order: the cost of a client's first use. */
  coldClients(p: { base: string; path: string; n: number; of: number; concurrency: number }) {
    const h = http(p.base);
    const order = Array.from({ length: p.of }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
    let k = 0;
    return runLoop({ concurrency: p.concurrency, durationMs: 600_000, total: p.n }, () => {
      const i = order[k++]!;
      return clientCredentials(h, p.path, basic(manyClientId(i), manyClientSecret(i)));
    });
  },

  logins(p: { base: string; target: LoginTarget; concurrency: number; durationMs: number; rate?: number }) {
    const h = http(p.base);
    const picker = pickers.get(p.target.prefix) ?? new UserPicker(p.target);
    pickers.set(p.target.prefix, picker);
    return runLoop(p, async () => {
      const r = await login(h, p.target, picker);
      return { requests: r.requests, tokenMs: r.tokenMs, [`${SAMPLED}request`]: r.slowestMs, [`${SAMPLED}password`]: r.passwordMs };
    });
  },

  /** Logs `chains` users in (offline_access) and keeps their refresh tokens for `refresh`. */
  async refreshPrepare(p: { base: string; target: LoginTarget; chains: number; scope?: string }) {
    const h = http(p.base);
    const picker = new UserPicker(p.target);
    const chains: string[] = [];
    chainsOf.set(p.target.client.clientId, chains);
    let started = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (started < p.chains) {
        started++;
        const r = await login(h, { ...p.target, scope: p.scope ?? 'openid offline_access' }, picker, { prompt: 'consent' });
        if (typeof r.tokens.refresh_token !== 'string') throw new Error('no refresh_token: is offline_access granted?');
        chains.push(r.tokens.refresh_token);
      }
    }));
    return { chains: chains.length };
  },

  /** Refresh grants with rotation: each worker owns chains and rotates them back to back. */
  refresh(p: { base: string; transport?: Transport; client: { clientId: string; clientSecret: string }; concurrency: number; durationMs: number; rate?: number; maxInFlight?: number }) {
    const h = http(p.base, p.transport);
    const chains = chainsOf.get(p.client.clientId);
    if (!chains?.length) throw new Error(`no refresh chains for ${p.client.clientId}: call refreshPrepare first`);
    // Open model: never more in flight than there are chains.
    p = { ...p, maxInFlight: chains.length };
    let next = 0;
    const busy = new Set<number>();
    return runLoop(p, async () => {
      // Never two grants on one chain at a time: the second would be a reuse and revoke the grant.
      let i = next++ % chains.length;
      for (let k = 0; busy.has(i) && k < chains.length; k++) i = next++ % chains.length;
      if (busy.has(i)) throw new Error('more in flight than chains');
      busy.add(i);
      try { chains[i] = await refresh(h, p.client, chains[i]!); } finally { busy.delete(i); }
    });
  },

  /** SAML SSO: `login` = a fresh browser each time (password + argon2id); `sso` = browsers already signed in. */
  async saml(p: { base: string; target: SamlTarget; mode: 'login' | 'sso'; concurrency: number; durationMs: number; rate?: number; browsers?: number }) {
    const h = http(p.base);
    const picker = pickers.get(`saml:${p.target.prefix}`) ?? new UserPicker({ client: { clientId: '', clientSecret: '' }, prefix: p.target.prefix, users: p.target.users });
    pickers.set(`saml:${p.target.prefix}`, picker);
    if (p.mode === 'sso') {
      while (samlJars.length < Math.max(p.concurrency, p.browsers ?? 64)) {
        const jar = new CookieJar();
        await samlSso(h, p.target, picker, jar);
        samlJars.push(jar);
      }
    }
    let next = 0;
    return runLoop(p, async () => {
      const jar = p.mode === 'sso' ? samlJars[next++ % samlJars.length]! : new CookieJar();
      const r = await samlSso(h, p.target, picker, jar);
      if (p.mode === 'sso' && r.loggedIn) throw new Error('single sign-on asked for the password again');
      return { requests: r.requests };
    });
  },

  /** Open-model latency probes (a few per second) of cheap endpoints, to see whether something starves them. */
  async probe(p: { base: string; targets: Array<{ name: string; method: string; path: string; body?: string; headers?: Record<string, string> }>; ratePerTarget: number; durationMs: number }) {
    const h = new HttpClient({ base: p.base, maxSockets: 64 });
    const out: Record<string, Record<string, number> & { errors: number }> = {};
    await Promise.all(p.targets.map(async (t) => {
      const r = await runLoop({ concurrency: 1, durationMs: p.durationMs, rate: p.ratePerTarget, maxInFlight: 256 }, async () => {
        const res = await h.request(t.method, t.path, { body: t.body, headers: t.headers });
        if (res.status !== 200) throw new Error(`${t.name}: ${res.status}`);
      });
      out[t.name] = { ...r.latency, errors: r.errors };
    }));
    h.close();
    return out;
  },
});

emit({ event: 'ready' });
