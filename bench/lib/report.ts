// bench/REPORT.md from one run's results: machine, versions, settings, every figure, the ratios to the
// same-run baselines and to the published peers, which targets are met, and a README section.
import type { Measurement } from './measure.ts';
import type { ProfileSummary } from './profile.ts';
import type { PgInfo } from './pg.ts';
import type { StallResult } from '../sut/stall-probe.ts';
import { fmt, median, summarize, type Summary } from './stats.ts';

/** A profile taken in the bench (run.ts profiled): its summary, file, and the operations of its load window. */
type SutProfile = ProfileSummary & { file: string; ops?: number };
/** Busy main-thread µs per operation: sampled wall time, preemption by other threads included. */
const busyUsPerOp = (pr: SutProfile | undefined) => (pr?.ops ? (pr.busyMs * 1000) / pr.ops : NaN);

type Rss = { rssMiB: number; hwmMiB: number; heapUsedMiB?: number };
export interface MemoryEntry {
  label: string; startMs: number; startCpuS?: number; idle: Rss; afterLoad?: Rss;
  sessions?: {
    count: number; createMs: number; templateFromLogin: boolean; rssPer100kMiB: number; rssPer100kAfterReadMiB: number;
    heapPer100kMiB: number; dbBytesPerSession: number; oidcModelsBytesPerSession: number; before: Rss; afterCreate: Rss; afterTouch: Rss;
  };
  clientsInstantiated?: { count: number; rssMiB: number; perClientKiB: number };
}

export interface Results {
  mode: 'quick' | 'full'; startedAt: string; finishedAt?: string; seconds?: number;
  params: Record<string, number>;
  env: {
    cpuModel: string; cpus: number; memGiB: number; kernel: string; node: string; openssl: string;
    packages: Record<string, string>; git: { commit: string; dirty: number };
    loadAvgStart: number[]; loadAvgEnd?: number[]; postgres?: PgInfo; commitLatencyMs?: { p50: number; p99: number };
    affinity?: Record<string, string>;
  };
  micro: Record<string, Summary & { inFlight: number; params?: Record<string, number> }>;
  measurements: Measurement[];
  scenarios: Record<string, Record<string, any>>;
  memory: Record<string, MemoryEntry>;
  notes: string[]; failures: string[];
  profiles: Record<string, SutProfile>;
}

/** What performance-anchors.md measured on this machine type when it was quiet (per CPU-second). */
export const QUIET = {
  'sign-ES256': 30_575, 'sign-RS256': 4_384, 'argon2id-verify': 210, 'samlify-assertion': 511, 'samlify-both': 307,
  'bare-cc-keepalive': 6_004, 'bare-cc-tls': 1_889,
  /** µs of PostgreSQL backend CPU per point read by primary key, one in flight (anchors §4.6). */
  'pg-point-read-us': 30.5,
} as const;

/** Published peers, per vCPU (performance-anchors.md §1). */
export const PEERS = {
  keycloakLogin: 15, keycloakCcTls: 120, keycloakCcTlsX86: 240, keycloakRefresh: 120, zitadelJwt: 44, cloudentityCc: 1_230,
};

/** A rounded count with its noun: "1 read", "3 reads". */
const counted = (n: number, noun: string) => `${fmt(n, 0)} ${noun}${Math.round(n) === 1 ? '' : 's'}`;
const runsOf = (r: Results, scenario: string, variant: string, sut?: string) =>
  r.measurements.filter((m) => m.scenario === scenario && m.variant === variant && (!sut || m.sut === sut) && typeof m.run === 'number');
const latencyRun = (r: Results, scenario: string, variant: string, sut: string, run: 'latency' | 'latency-core' = 'latency') =>
  r.measurements.find((m) => m.scenario === scenario && m.variant === variant && m.sut === sut && m.run === run);
/** The SUT's core busy share in a window (its process and PostgreSQL backends). */
const coreBusy = (m: Measurement) => m.cpu / m.wallSeconds;
/** The keep-alive runs the tail-latency target is judged on: label, scenario, variant, SUT. */
const TAIL_RUNS = [['client credentials', 'cc', 'keepalive', 'gw-pg'], ['20,000 clients', 'many', 'random-client', 'gw-many'], ['refresh', 'refresh', 'keepalive', 'gw-pg']] as const;
const fig = (ms: Measurement[], f: (m: Measurement) => number = (m) => m.perCpuS) => summarize(ms.map(f));
const range = (s: Summary, d = 0) => s.n ? `${fmt(s.median, d)} [${fmt(s.min, d)}–${fmt(s.max, d)}]` : '–';
/** How hard the soak drove the core (older result files: a fraction of each peak's wall rate). */
const soakLoad = (s: { fraction?: number; cpuShare?: number; coreTarget?: number; trials?: { share: number; busy: number }[]; trialSeconds?: number; gwCpuShare: number; coreBusyShare?: number }) =>
  (s.cpuShare !== undefined ? `each workload at ${fmt(s.cpuShare * 100, 1)} % of its peak per SUT CPU-second${s.trials && !s.trials.length ? ' (set with --soak-share, no trials)' : s.coreTarget ? ` (three equal shares, scaled ${s.trials ? `after ${s.trials.length} trials of ${fmt(s.trialSeconds ?? NaN)} s (core ${s.trials.map((x) => `${fmt(x.busy * 100)} % busy at ${fmt(x.share * 100, 1)} %`).join(', then ')})` : 'after a 20 s trial'} so that the core is ≈ ${fmt(s.coreTarget * 100)} % busy)` : ''}` : `each at ${fmt((s.fraction ?? NaN) * 100)} % of its peak`)
  + `; the gateway's process used ${fmt(s.gwCpuShare * 100)} % of its core${s.coreBusyShare !== undefined ? `, and the core was ${fmt(s.coreBusyShare * 100)} % busy (gateway, its PostgreSQL backends, anything else)` : ''}`;
type SoakLoop = { completed: number; errors: number; latency: Record<string, number>; sampled?: Record<string, Record<string, number>>; slow?: Array<[number, number]> };
type SoakResult = { seconds: number; soakSeconds?: number; fraction?: number; cpuShare?: number; coreTarget?: number; trials?: { share: number; busy: number }[]; trialSeconds?: number; rates: Record<string, number>; gwCpuShare: number; coreBusyShare?: number } & Record<'cc' | 'refresh' | 'login', SoakLoop>;
/**
 * When the soak's slow requests and flows (over 250 ms, bench/load/runner.ts) happened, grouped into moments
 * (within 2 s of each other): several workloads slow at one moment point at the machine or the whole process
 * (a stall, a GC, PostgreSQL's fsync), one workload alone at its own path.
 */
function slowMoments(soak: SoakResult): string | undefined {
  const KINDS = ['cc', 'refresh', 'login'] as const;
  const names = { cc: 'client credentials', refresh: 'refresh', login: 'login flows' } as const;
  const events = KINDS.flatMap((k) => (soak[k].slow ?? []).map(([at, latency]) => ({ k, at, latency }))).sort((a, b) => a.at - b.at);
  if (!events.length) return soak.cc.slow ? 'No request or login flow took over 250 ms.' : undefined;
  // A moment: its start, its worst latency, and per workload how many were slow and how slow.
  type Moment = { at: number; last: number; max: number; by: Map<typeof KINDS[number], { n: number; max: number }> };
  const moments: Moment[] = [];
  for (const e of events) {
    let m = moments[moments.length - 1];
    if (!m || e.at - m.last > 2) moments.push(m = { at: e.at, last: e.at, max: 0, by: new Map() });
    m.last = e.at;
    m.max = Math.max(m.max, e.latency);
    const w = m.by.get(e.k) ?? { n: 0, max: 0 };
    m.by.set(e.k, { n: w.n + 1, max: Math.max(w.max, e.latency) });
  }
  const shared = moments.filter((m) => m.by.size > 1).length;
  const describe = (m: Moment) => `${fmt(m.at)} s: ${KINDS.filter((k) => m.by.has(k)).map((k) => `${names[k]} ${m.by.get(k)!.n}× up to ${ms(m.by.get(k)!.max, 0)} ms`).join(', ')}`;
  const worst = [...moments].sort((a, b) => b.max - a.max).slice(0, 5).sort((a, b) => a.at - b.at).map(describe);
  return `Over 250 ms (requests, or whole login flows; at most the 200 slowest of each workload are kept): ${fmt(events.length)} in ${fmt(moments.length)} moments (within 2 s of each other), `
    + `${fmt(shared)} of them hitting two or three workloads at once. The five worst, in seconds from the start: ${worst.join('; ')}.`;
}
const ratio = (a: number, b: number, d = 2) => Number.isFinite(a / b) ? `${(a / b).toFixed(d)}×` : '–';
const pctDiff = (a: number, b: number) => Number.isFinite(a / b) ? `${a >= b ? '+' : '−'}${Math.abs((a / b - 1) * 100).toFixed(0)} %` : '–';
const ms = (x: number | undefined, d = 1) => x === undefined || !Number.isFinite(x) ? '–' : fmt(x, d);
const mib = (x: number | undefined) => ms(x, 0);

export function renderReport(r: Results): string {
  /** The latency runs' fraction, as a percentage (of the peak rate, or of the core for the second runs). */
  const pct = Math.round(r.params.latencyFraction * 100);
  const L: string[] = [];
  const p = (s = '') => L.push(s);
  const table = (head: string[], rows: (string | number)[][]) => {
    p(`| ${head.join(' | ')} |`);
    p(`|${head.map(() => '---').join('|')}|`);
    for (const row of rows) p(`| ${row.join(' | ')} |`);
    p();
  };

  // ------------------------------------------------------------------ derived figures
  const micro = (k: string) => r.micro[k]?.median ?? NaN;
  const bareCc = fig(runsOf(r, 'cc', 'keepalive', 'bare-op'));
  const bareTls = fig(runsOf(r, 'tls', 'tls-per-grant', 'bare-op'));
  // How much less work a CPU-second bought in this run than on the quiet machine of performance-anchors.md,
  // from the same-run baseline closest to each workload: bare oidc-provider over keep-alive (HTTP + JWT
  // work), over TLS per grant (handshakes), and argon2id (the hash).
  const fHttp = QUIET['bare-cc-keepalive'] / bareCc.median;
  const fTls = QUIET['bare-cc-tls'] / bareTls.median;
  const fArgon = QUIET['argon2id-verify'] / micro('argon2id-verify');
  const pst0 = r.scenarios.pgStatements as Record<string, { pgUsPerOp: number }> | undefined;
  // PostgreSQL: the adapter's find as a named statement vs the anchors' point read by primary key (30–31 µs of
  // backend CPU, one in flight, named prepared statements). Upserts are not used: oidc_models has four more
  // indexes than the anchors' table, so its upserts cost more for reasons that are not the machine's.
  const fPg = pst0?.['find named'] ? pst0['find named'].pgUsPerOp / QUIET['pg-point-read-us'] : NaN;
  const allFactors = Object.entries(QUIET).filter(([k]) => r.micro[k]).map(([k, v]) => v / micro(k)).concat([fHttp, fTls, fPg]).filter(Number.isFinite);
  /**
   * The quiet-machine rate of an operation from its measured CPU split: the gateway's share (minus the hash,
   * which runs in the same process) scaled by `fGw`, PostgreSQL's by fPg (fHttp when unknown), the hash by fArgon.
   */
  const quietRate = (ms0: Measurement[], o: { hashMs?: number; fGw?: number } = {}) => {
    if (!ms0.length) return NaN;
    const gwMs = median(ms0.map((m) => (m.cpuGateway * 1000) / m.completed));
    const pgMs = median(ms0.map((m) => (m.cpuPg * 1000) / m.completed));
    const h = o.hashMs ?? 0;
    return 1000 / (Math.max(0, gwMs - h) / (o.fGw ?? fHttp) + pgMs / (Number.isFinite(fPg) ? fPg : fHttp) + h / fArgon);
  };
  const envFactor = Number.isFinite(fHttp) ? fHttp : median(allFactors);
  const quiet = (x: number) => x * envFactor;
  const gwCc = fig(runsOf(r, 'cc', 'keepalive', 'gw-pg'));
  const gwCcGwOnly = fig(runsOf(r, 'cc', 'keepalive', 'gw-pg'), (m) => m.perGatewayCpuS);
  const liteCc = fig(runsOf(r, 'cc', 'keepalive', 'gw-pglite'));
  const nologCc = fig(runsOf(r, 'cc', 'keepalive', 'gw-pg-warnlog'));
  const bareFastifyCc = fig(runsOf(r, 'cc', 'keepalive', 'bare-op-fastify'));
  const pairedCc = pairedRatio(r, 'cc', 'keepalive', 'gw-pg', 'bare-op');
  const gwTls = fig(runsOf(r, 'tls', 'tls-per-grant', 'gw-pg'));
  const pairedTls = pairedRatio(r, 'tls', 'tls-per-grant', 'gw-pg', 'bare-op');
  const manyRnd = fig(runsOf(r, 'many', 'random-client'));
  const manyOne = fig(runsOf(r, 'many', 'one-client'));
  const pairedMany = pairedRatioVariants(r, 'many', 'random-client', 'one-client');
  // The 20,000-client gateway runs last, in its own phase without a bare baseline beside it: its estimate is
  // the main gateway's keep-alive estimate times the paired random-client ÷ one-client ratio on that gateway.
  const qMany = quiet(gwCc.median) * pairedMany.median;
  const rfKa = fig(runsOf(r, 'refresh', 'keepalive'));
  const rfTls = fig(runsOf(r, 'refresh', 'tls-per-request'));
  const rfApiRuns = runsOf(r, 'refresh', 'keepalive-api-jwt');
  const rfApi = fig(rfApiRuns);
  const pairedRfApi = pairedRatioVariants(r, 'refresh', 'keepalive-api-jwt', 'keepalive');
  const lgPwd = fig(runsOf(r, 'login', 'password', 'gw-pg'));
  const lgCheap = fig(runsOf(r, 'login', 'password-cheap-hash', 'gw-pg'));
  const lgTotp = fig(runsOf(r, 'login', 'password+totp', 'gw-pg'));
  const lgLite = fig(runsOf(r, 'login', 'password', 'gw-pglite'));
  const samlSso = fig(runsOf(r, 'saml', 'sso-signed-in', 'gw-pg'));
  const samlAssert = fig(runsOf(r, 'saml', 'sso-signed-in-assertion', 'gw-pg'));
  const samlPostFig = fig(runsOf(r, 'saml', 'sso-signed-in-post', 'gw-pg'));
  const samlLogin = fig(runsOf(r, 'saml', 'login-password', 'gw-pg'));
  const cpuMs = (s: Summary) => 1000 / s.median;
  const hashMs = 1000 / micro('argon2id-verify');
  const loginMs = cpuMs(lgPwd);
  const nonHashMs = cpuMs(lgCheap);
  // The cheap-hash logins (m=1 MiB t=1, ≈ 0.1 ms) run interleaved with the real ones on the same gateway:
  // 1 − (their CPU ÷ a real login's CPU), run by run, is the hash's share without mixing in the micro baseline.
  const cheapOverPwd = pairedRatioVariants(r, 'login', 'password', 'password-cheap-hash', 'gw-pg');
  const hashShare = 1 - cheapOverPwd.median;
  const hashShareMicro = hashMs / loginMs;
  const quietLoginRate = (_perCpuS?: number) => quietRate(runsOf(r, 'login', 'password', 'gw-pg'), { hashMs });
  const quietHashShare = (hashMs / fArgon) * quietLoginRate() / 1000;
  const quietNonHashMs = 1000 / quietRate(runsOf(r, 'login', 'password-cheap-hash', 'gw-pg'));
  const quietTotpExtra = quietRate(runsOf(r, 'login', 'password', 'gw-pg'), { hashMs }) / quietRate(runsOf(r, 'login', 'password+totp', 'gw-pg'), { hashMs }) - 1;
  const qRfKa = quietRate(runsOf(r, 'refresh', 'keepalive'));
  const qRfTls = quietRate(runsOf(r, 'refresh', 'tls-per-request'), { fGw: fTls });
  const qRfApi = quietRate(rfApiRuns);
  const qSaml = quietRate(runsOf(r, 'saml', 'sso-signed-in', 'gw-pg'));
  const qSamlAssert = quietRate(runsOf(r, 'saml', 'sso-signed-in-assertion', 'gw-pg'));
  const totpPaired = pairedRatioVariants(r, 'login', 'password', 'password+totp', 'gw-pg'); // pwd per CPU-s ÷ totp per CPU-s = totp cost ÷ pwd cost
  // TOTP's extra CPU in ms, from cheap-hash logins with and without it, run by run: the same flow without the
  // hash's noise (a full-hash pair's difference is a few ms between two figures of ≈ 14–40 ms). As a share
  // of the password login's CPU it is the figure the target is judged on; the full-hash pairs cross-check it.
  const lgCheapTotp = fig(runsOf(r, 'login', 'password-cheap-hash+totp', 'gw-pg'));
  const totpExtraMs = pairedDiffMs(r, 'login', 'password-cheap-hash+totp', 'password-cheap-hash', 'gw-pg');
  const totpExtraPrecise = totpExtraMs.median / loginMs;
  const totpExtra = lgCheapTotp.n ? totpExtraPrecise : totpPaired.median - 1;
  const quietTotpExtraPrecise = (1000 / quietRate(runsOf(r, 'login', 'password-cheap-hash+totp', 'gw-pg')) - quietNonHashMs) / (1000 / quietLoginRate());
  const perOp = (ms: Measurement[], k: 'reads' | 'writes' | 'writesEffective' | 'transactions' | 'writeTransactions') =>
    median(ms.filter((m) => m.db).map((m) => m.db![k] / m.completed));
  const durable = (ms: Measurement[]) => perOp(ms, 'writesEffective') + perOp(ms, 'writeTransactions');
  const pgShare = (ms: Measurement[]) => median(ms.map((m) => m.cpuPg / m.cpu));
  const pgMsPer = (ms: Measurement[]) => median(ms.map((m) => (m.cpuPg * 1000) / m.completed));
  // The libuv pool threads' CPU (argon2id; measured since 2026-12-07, so older runs have none: rows and
  // sentences that use it are left out for them), over the runs that have it.
  const pooled = (ms: Measurement[], f: (m: Measurement & { cpuPool: number }) => number) =>
    median(ms.filter((m): m is Measurement & { cpuPool: number } => m.cpuPool !== undefined).map(f));
  const poolMsPer = (ms: Measurement[]) => pooled(ms, (m) => (m.cpuPool * 1000) / m.completed);
  const poolShare = (ms: Measurement[]) => pooled(ms, (m) => m.cpuPool / m.cpu);
  const hasPool = (ms: Measurement[]) => ms.some((m) => m.cpuPool !== undefined);
  const cpu0Other = median(r.measurements.filter((m) => typeof m.run === 'number').map((m) => m.cpu0Other / m.wallSeconds));
  const gwMem = r.memory['gw-pg'];
  const liteMem = r.memory['gw-pglite'];
  const manyMem = r.memory['gw-many'];
  const flood = r.scenarios.flood as { idle: Record<string, Record<string, number>>; underFlood: Record<string, Record<string, Record<string, number>>>; levels: number[]; ratePerTarget: number; rounds?: number; worstP99?: Record<string, number[]> } | undefined;
  // Runs since 2026-12-06 have rounds: the worst endpoint's p99 per round, quoted as the median round.
  const floodRounds = flood?.worstP99?.[String(flood.levels[0])];
  const floodP99 = floodRounds ? median(floodRounds) : flood ? Math.max(...Object.values(flood.underFlood[String(flood.levels[0])] ?? {}).map((x) => x.p99 ?? NaN)) : NaN;
  const idleP99 = flood?.worstP99?.idle ? median(flood.worstP99.idle) : flood ? Math.max(...Object.values(flood.idle).map((x) => x.p99 ?? NaN)) : NaN;
  const roundsNote = (xs: number[] | undefined) => (xs && xs.length > 1 ? ` [${ms(Math.min(...xs))}–${ms(Math.max(...xs))}], median of ${xs.length} rounds` : '');

  /** The explanations, with this run's numbers in them. */
  function analysisLines(): string[] {
    const out: string[] = [];
    const prof = r.profiles;
    const share = (pr: ProfileSummary | undefined, names: string[]) => pr ? pr.byCategory.filter(([n]) => names.some((x) => n.includes(x))).reduce((a, [, f]) => a + f, 0) : NaN;
    const pst = r.scenarios.pgStatements as Record<string, { pgUsPerOp: number; clientUsPerOp: number }> | undefined;
    const namedGain = (op: string) => pst ? 1 - pst[`${op} named`]!.pgUsPerOp / pst[`${op} unnamed`]!.pgUsPerOp : NaN;
    const fc = r.scenarios.flushCosts as Record<'transaction' | 'one statement', { pgUsPerOp: number; clientUsPerOp: number }> | undefined;
    const oneStatement = fc
      ? ` (same run, a refresh's commit alone: PostgreSQL ${fmt(fc.transaction.pgUsPerOp)} → ${fmt(fc['one statement'].pgUsPerOp)} µs, the gateway ${fmt(fc.transaction.clientUsPerOp)} → ${fmt(fc['one statement'].clientUsPerOp)} µs of CPU)`
      : '';
    const pw = runsOf(r, 'login', 'password', 'gw-pg');
    // HTTP exchanges per password login, as the driver counted them (4 since the login form is the
    // authorization endpoint's answer, 2026-12-07; 5 before).
    const pwEx = median(pw.map((m) => (m.extra.requests ?? NaN) / m.completed));
    const pwExN = Number.isFinite(pwEx) ? Math.round(pwEx) : 4;
    const pwExTxt = fmt(pwExN, 0);
    const samlProf = Object.entries(prof).find(([k]) => k.startsWith('saml-sso'))?.[1];
    if (gwCc.n && bareCc.n) {
      const gp = prof['cc-keepalive'];
      const bp = prof['cc-keepalive-bare-fastify'];
      out.push(`**Client credentials, keep-alive: ${fmt((1 - pairedCc.median) * 100)} % below bare oidc-provider** (target: within 15 %), ≈ ${fmt(quiet(gwCc.median))} per core-s estimated (target 6,000). Both sign the same ES256 JWT with the same library (the gateway on the event loop, bare oidc-provider through WebCrypto's thread pool); `
        + 'the gap is what the gateway does around and inside oidc-provider on every request: Fastify routing and its two hooks (request id + security headers; request line + prom-client histogram), '
        + '`pinOrigin`, the unit-of-work middleware, and the gateway\'s provider configuration (client scopes, resource indicators). '
        + (bareFastifyCc.n ? `Bare oidc-provider mounted in Fastify exactly as the gateway mounts it did ${pctDiff(pairedRatio(r, 'cc', 'keepalive', 'bare-op-fastify', 'bare-op').median, 1)} vs bare (paired; −11 % and ≈ 0 % in earlier runs: this pair is noisy), and the gateway's own additions are ${pctDiff(pairedRatio(r, 'cc', 'keepalive', 'gw-pg', 'bare-op-fastify').median, 1)} on top. ` : '')
        + (nologCc.n ? `The same gateway with log level \`warn\` (no request line) did ${pctDiff(pairedRatio(r, 'cc', 'keepalive', 'gw-pg-warnlog', 'gw-pg').median, 1)} per CPU-second (paired runs). ` : '')
        + (gp ? `Profile (main thread): oidc-provider ${fmt(share(gp, ['oidc-provider']) * 100)} %, pino + sonic-boom ${fmt(share(gp, ['pino', 'redact', 'sonic-boom']) * 100)} %, Fastify ${fmt(share(gp, ['fastify', 'find-my-way', 'avvio', 'light-my-request']) * 100)} %, koa ${fmt(share(gp, ['koa']) * 100)} %, Node's HTTP and stream internals and the signature the rest. ` : '')
        + (gp?.ops && bp?.ops ? `Busy main-thread time per grant under the same load (sampled wall time: preemption by the thread pool and other processes included, so not CPU): gateway ${fmt(busyUsPerOp(gp))} µs, bare oidc-provider in Fastify ${fmt(busyUsPerOp(bp))} µs, whose ES256 signature runs on the pool (the gateway's, ≈ ${fmt(1e6 / (r.micro['sign-ES256-inline']?.median ?? NaN))} µs of CPU in this run, on the main thread). ` : '')
        + '**Done:** the provider takes over in the OIDC scope\'s onRequest hook (src/protocols/oidc/mount.ts: no pre-parsing, content-type parser, validation or handler promise); one synchronous onRequest/onResponse hook pair (src/platform/request-log.ts) puts the request id and the precomputed security headers straight onto the raw response; Fastify\'s per-request child logger is built only when something logs through it (`LazyChild`, src/app.ts); the outage mapping is folded into the unit-of-work middleware. '
        + 'Request lines go to stdout synchronously (pino\'s asynchronous stream made one thread-pool hand-off per line: −11 % CPU per grant at 70 % of peak), since 2026-12-06 once per event-loop turn (`TurnBuffered`, src/platform/logger.ts; a write per line was ≈ 3.5 % of the main thread), with the ISO time built from a per-second prefix. '
        + `Since 2026-12-06, ECDSA and Ed25519 signatures are made with node:crypto's synchronous \`sign\` (src/protocols/oidc/inline-signing-keys.ts, oidc-provider's ExternalSigningKey hook since the evening of 2026-12-06): WebCrypto, which jose uses, runs each on libuv's pool, and on one core the hand-off and the extra thread cost more than the signature (one JWT at a time in this run: ${fmt(1e6 / (r.micro['sign-ES256-inline']?.median ?? NaN))} µs of CPU inline against ${fmt(1e6 / (r.micro['sign-ES256']?.median ?? NaN))} µs through the pool, the baselines' two ES256 rows; under load it saves no CPU, 1–5 % more per grant, but it removes the pool's round trip: p99 0.83 against 4.75 ms from request to response at 1,500 grants per second in the same-process A/B of bench/sut/config-ab.ts, 2026-12-06). `
        + 'The request line stays at `info` for every request: test/ops/request-id.test.ts asserts one line per request, health checks included. '
        + (gp ? `**Still to do:** what is left is spread thin: the larger response (the security headers; Node validates each header it sets and writes more bytes), the request line's JSON, the prom-client histogram (< 1 %), oidc-provider's scope check for a client with a configured scope (bare oidc-provider's client has none), Koa's header reads that copy the larger header set.` : ''));
    }
    if (manyRnd.n) out.push(`**20,000 clients:** ${pctDiff(pairedMany.median, 1)} vs one client on the same gateway, ≈ ${fmt(qMany)} estimated (target 4,000; it inherits the keep-alive gap above). Config clients are static: oidc-provider instantiates each on first use and keeps it (its \`staticClients\` map, no LRU), so the 100-entry LRU that cost −31 % in the anchors applies only to adapter-stored clients. The price is paid once per client (first use: ${fmt(r.scenarios.many?.coldPerCpuS ?? NaN)} grants per CPU-s) and in memory: ${manyMem ? `${fmt(manyMem.idle.rssMiB)} MiB idle with 20,000 clients configured (vs ${fmt(gwMem?.idle.rssMiB ?? NaN)} MiB), ${fmt(manyMem.clientsInstantiated?.rssMiB ?? NaN)} MiB once all were used (${fmt(manyMem.clientsInstantiated?.perClientKiB ?? NaN, 1)} KiB per instantiated client)` : 'see Memory'}. No throughput change needed while clients come from config; for tens of thousands of clients, budget that memory or keep rarely used clients in the database behind a larger cache than oidc-provider's fixed 100.`);
    if (gwTls.n) out.push(`**TLS per grant:** ${pctDiff(pairedTls.median, 1)} vs bare oidc-provider on the same P-256 certificate (the handshake dominates both), ≈ ${fmt(gwTls.median * fTls)} estimated vs 1,400. `
      + 'Connection tracking for graceful shutdown (src/app.ts) was suspected: it is not on this path — the bench\'s TLS listener (bench/sut/gateway.ts) is its own https.Server handing requests to Fastify\'s router, and the tracking listened only on the Fastify server\'s \'connection\' and \'request\' events — so it cannot explain the change; the previous report also ran on another CPU under heavier load. '
      + 'It is now cheaper anyway (no closure or listener per request: a Set of sockets with one shared close handler, a served flag, Node\'s own in-flight response on the socket), and it tracks the TLSSocket on a TLS listener, where the old Map keyed by the TCP socket never matched a request. '
      + 'The per-request savings above apply here too; the rest of the gap is per connection (the gateway pays ≈ 0.3 ms more per new connection than per keep-alive request, relative to bare): client address lookups (getpeername), the larger response head, and GC over a larger heap are candidates, not yet separated. '
      + 'Keep an ECDSA P-256 certificate wherever TLS terminates; an RSA-2048 one roughly halves this (anchors §4.5).');
    if (rfKa.n) {
      const rm = runsOf(r, 'refresh', 'keepalive');
      out.push(`**Refresh with rotation:** ≈ ${fmt(qRfKa)} per core-s estimated keep-alive${rfTls.n ? `, ≈ ${fmt(qRfTls)} with a new TLS connection per request` : ''} (target 1,000); PostgreSQL is ${fmt(pgShare(rm) * 100)} % of the SUT's CPU (52 % in the previous run). `
        + `Each refresh now makes ${fmt(durable(rm), 1)} durable commit (was 3; G8 wants ≤ 2) and ${fmt(perOp(rm, 'reads'), 1)} reads: ${statementList(rm)}. `
        + '**Done:** every oidc-provider request is one unit of work (src/storage/unit-of-work.ts): the refresh token\'s consume, the new refresh token and the access token are one transaction (the consume first: a parallel request that loses it rolls back and answers invalid_grant, and the grant is revoked, as before); parameterised statements are named prepared statements (src/storage/db.ts)'
        + (pst ? ` (same run, one statement in isolation: −${fmt(namedGain('upsert') * 100)} % PostgreSQL CPU per upsert, −${fmt(namedGain('find') * 100)} % per find)` : '')
        + '. **Since:** the flush sends BEGIN, the consume, the writes and COMMIT in one write and one round trip (pg pool in pipeline mode, the socket corked; `Db.transaction(…, { oneRoundTrip: true })`; an A/B of this step alone: −10 to −17 % PostgreSQL CPU per refresh and per login); a lost consume now fails with an error that aborts the transaction (so the writes behind it roll back) instead of being checked before the writes are sent; a token is read together with its Grant in one statement (the Grant lookup oidc-provider makes next costs no round trip; 3 → 2 reads per refresh, and one fewer per code exchange and userinfo call), and since 2026-12-06 with its account too (oidc-provider\'s findAccount costs no statement either: 2 → 1 read per refresh; A/B: +1.5 % refreshes per SUT CPU-second, −4 % gateway CPU, PostgreSQL CPU unchanged, since the commit dominates it); '
        + `and since 2026-12-06 the commit is one statement of data-modifying CTEs instead of BEGIN, the statements and COMMIT, wherever no two writes can touch one row (src/storage/one-statement.ts; every commit of a password login, the refresh, all three commits of a signed-in SAML round trip)${oneStatement}. `
        + `**Since 2026-12-07:** a client that does not call userinfo can take its code-flow access tokens as JWTs for the API resource (\`accessTokenAudience: api\`, or \`resource=\` per request): no AccessToken row is written${rfApi.n ? ` (the keep-alive refresh with it: ${pctDiff(pairedRfApi.median, 1)} per SUT CPU-second, paired; ≈ ${fmt(qRfApi)} estimated)` : ''}. The default stays the opaque userinfo token, which is what a client calling userinfo needs.`);
    }
    if (lgPwd.n) out.push(`**Password login:** ${fmt(lgPwd.median, 1)} per SUT CPU-s measured, ≈ ${fmt(quietLoginRate(lgPwd.median))} estimated (target 100). The hash is ${fmt(hashShare * 100)} % of the login's CPU measured (≈ ${fmt(quietHashShare * 100)} % quiet; target ≥ 60 %): `
      + `the non-hash part is ${fmt(nonHashMs, 1)} ms here (≈ ${fmt(quietNonHashMs, 1)} ms quiet, G4 wants ≤ 3 ms), over ${pwExTxt} HTTP exchanges with ${fmt(perOp(pw, 'reads'), 0)} reads and ${fmt(durable(pw), 0)} durable commits (G8 wants ≤ 4), PostgreSQL ${fmt(pgMsPer(pw), 1)} ms of it. `
      + '**Done:** one commit per request (authorize; password POST = audit row + interaction; resume = Grant, Session, code, interaction delete; token = consume + access token), counted by test/storage/login-writes.test.ts, which fails above 4; the `login_throttle` DELETE is skipped when the throttle check saw no failures; named prepared statements. '
      + '**This round:** the per-request savings of the client-credentials work (hooks, no body parsing by Fastify on protocol requests, lazy child logger) apply to each of the ' + pwExTxt + ' exchanges; each commit is one round trip (BEGIN, statements, COMMIT in one write), and since 2026-12-06 one statement for all four commits of a password login (src/storage/one-statement.ts); the code is read with its Grant and its account; an interaction or session read once in a request is not read again (oidc-provider looks them up twice per POST); since the morning of 2026-12-06 a code also comes with the Session it expires with, a Session with its account and Grants, and an interaction with its Session and its user row (src/storage/oidc-prefetch.ts), and the throttle check rides along in the TOTP attempt count\'s statement (src/storage/along.ts): 7 → 6 reads per password login, 23 → 14 per TOTP login, 6 → 3 per signed-in SAML round trip, statements go to pg as Query objects (pg copied each config object by property descriptors, ≈ 2 µs a statement), a unit of work\'s one statement is built once per kind of request, and a request\'s snapshot copies are plain JSON copies instead of structuredClone; since 2026-12-07 (night) the password step\'s throttle check and user lookup are announced before its interaction read and come with it (src/storage/along.ts `announce`, src/interaction/login.ts `announceReads`: 4 → 2 reads per password login, 5 → 3 per TOTP login; same-run A/Bs: PostgreSQL −7 to −13 % per login, logins per SUT CPU-second within the noise, cheap-hash TOTP logins +8 and +19 %). PostgreSQL CPU per login stays far above the 0.5 ms target: three durable commits and ' + fmt(perOp(pw, 'reads'), 0) + ' reads, each a round trip whose cost on the server is mostly fixed (a perf profile of the backends during logins: ≈ 40 % in system calls — the loopback TCP messages, and the WAL fdatasync at each commit (≈ 7 %) — and the rest executor start-up, index lookups and commit work, no single hot spot). '
      + '**Still to do:** the hash share is bounded by the rest of the flow on the event loop (oidc-provider\'s ' + pwExTxt + ' exchanges; since 2026-12-07 the login form is the authorization endpoint\'s own answer, src/protocols/oidc/login-in-authorize.ts: 5 → 4 exchanges, 6 → 5 reads), and the work around the hash: the pool-thread row of the login cost breakdown separates the hash from what the login\'s other threads and PostgreSQL spend beside it. A client with `accessTokenAudience: api` (a JWT access token for the API, since 2026-12-07) writes one row fewer per login; the bench\'s login client keeps the default opaque userinfo token.');
    if (Number.isFinite(totpExtra)) {
      const to = runsOf(r, 'login', 'password+totp', 'gw-pg');
      out.push(`**TOTP adds ${fmt(totpExtra * 100)} % CPU to a login** (target ≤ 5 %)${lgCheapTotp.n ? `: ${fmt(totpExtraMs.median, 2)} ms per login, measured as the paired difference of cheap-hash logins with and without TOTP (full-hash pairs: ${pctDiff(totpPaired.median, 1)})` : ''}. The TOTP check costs microseconds; the extra is the flow around it: ${fmt(median(to.map((m) => (m.extra.requests ?? NaN) / m.completed)), 0)} HTTP requests instead of ${pwExTxt} (the code POST; the code form is the password POST's answer, as the bench's TOTP users are returning users whose last factor was TOTP), `
        + `${fmt(perOp(to, 'reads'), 0)} reads and ${fmt(durable(to), 0)} durable commits instead of ${fmt(perOp(pw, 'reads'), 0)} and ${fmt(durable(pw), 0)}. `
        + '**Done:** units of work (19 → 10 durable commits in test/storage/login-writes.test.ts); the code POST finds its challenge and counts the try in one statement, with the throttle check riding along; the TOTP step and the challenge are spent in the commit that records the sign-in; a returning user\'s MFA step opens on the code form of the last used factor (no choice page, begin POST or redirect); since 2026-12-06 (late) the factor screens run inside the login\'s own interaction (src/interaction/pending-mfa.ts): the password step no longer goes through /oidc/auth only to come back with a new interaction for the `mfa` prompt (8 → 7 requests, 14 → 11 reads, 8 → 7 commits, and no session written before the factor), and the code form\'s throttle check rides along in its challenge read; since 2026-12-07 an interaction comes with its account\'s TOTP seed (src/storage/oidc-prefetch.ts `accountRows`): the factor screen\'s enrollment check and the code POST\'s seed lookup cost no statement (11 → 9 reads); since 2026-12-07 (late) the password POST answers with the code form itself, its challenge written in the password step\'s commit, and the password step\'s user read brings the TOTP seed (src/interaction/routes.ts, src/users/users.ts `accountRows`: 7 → 6 requests, 9 → 7 reads, 7 → 6 commits). '
        + `**Why the target stays out of reach:** one HTTP exchange of a cheap-hash login costs ${fmt(nonHashMs / pwExN, 2)} ms here (its ${fmt(nonHashMs, 2)} ms over ${pwExTxt} exchanges), ${fmt(nonHashMs / pwExN / loginMs * 100)} % of a password login, and a second factor needs at least one more (the code POST) plus the one-time writes no factor can skip (the attempt count, which commits before the code is checked because it must win before the answer depends on it, and the spent step and challenge). The bench's flow is at that floor now: one more exchange (the code POST: its interaction read, the attempt count's commit, the sign-in's commit), ${fmt(nonHashMs / pwExN / loginMs * 100)} % of a login by itself, above 5 %. Merging the attempt count into the sign-in's commit would need a transaction held open across the request (the count must be durable before the answer depends on the code), for one WAL flush less.`);
    }
    const over = flood && flood.levels.length > 1 ? flood.underFlood[String(flood.levels[flood.levels.length - 1])] : undefined;
    const overP99 = over ? Math.max(...Object.values(over).map((x) => x.p99 ?? NaN)) : NaN;
    const overP50 = over ? Math.max(...Object.values(over).map((x) => x.p50 ?? NaN)) : NaN;
    if (Number.isFinite(floodP99)) out.push(`**Login flood:** p99 ${fmt(floodP99)} ms for token/JWKS/health with logins saturating the one-slot hashing pool, against ${fmt(idleP99)} ms for the same probe on the idle gateway in this run (target 20 ms)${over ? `; with ${flood!.levels[flood!.levels.length - 1]} logins in flight (an overload) p50 ${fmt(overP50)} ms and p99 ${fmt(overP99)} ms` : ''}. On one core the argon2 thread and the event loop share the CPU (since 2026-12-06 the pool threads run at nice +10, src/platform/pool-priority.ts, so the loop runs first; the event-loop lateness table under the baselines measures what that buys), and the non-hash part of each login runs on the event loop ahead of the probe. `
      + (idleP99 > 20 ? 'This machine\'s idle floor is already above the target, so the absolute figure cannot be judged here; the increase is the number to watch. ' : '')
      + '**Since 2026-12-07:** admission control in front of the hashing pool (src/users/passwords.ts): a password check whose expected wait for a slot is over `passwords.maxQueueWaitMs` (5 s) is refused at once with 503, Retry-After and the form again, and counts as no attempt, so an overload is shed instead of queueing without bound (test/security/hash-queue.test.ts); the bench\'s floods (2 and 8 logins in flight) wait far less than that and are never refused. **Next:** on multi-core hosts, a hashing pool of cores − 1 so that a core is left for the event loop.');
    const soakRaw = r.scenarios.soak as undefined | { coreBusyShare?: number; cc?: { latency: Record<string, number> } };
    const soakCc = soakRaw?.cc ? { coreBusyShare: soakRaw.coreBusyShare, p99: soakRaw.cc.latency.p99 } : undefined;
    const ccLat = latencyRun(r, 'cc', 'keepalive', 'gw-pg');
    const bareLat = latencyRun(r, 'cc', 'keepalive', 'bare-op');
    const rfLat = latencyRun(r, 'refresh', 'keepalive', 'gw-pg');
    if (ccLat) {
      out.push(`**Tail latency:** at 70 % of its own peak, open model, the gateway's client-credentials p99 is ${ms(ccLat.latency.p99!)} ms${bareLat ? ` against ${ms(bareLat.latency.p99!)} ms for bare oidc-provider with the same driver on the same machine` : ''}${rfLat ? `; refresh ${ms(rfLat.latency.p99!)} ms` : ''} (target 15 ms). `
        + `70 % of a flood's rate is not 70 % of the core: requests that do not arrive back to back cost more CPU each (fewer requests per wake-up and per write), so the gateway's core was ${fmt(coreBusy(ccLat) * 100)} % busy in that run${bareLat ? ` (bare oidc-provider's ${fmt(coreBusy(bareLat) * 100)} %)` : ''}, close enough to saturation that short stalls (GC, the machine's other processes) queue requests. `
        + (soakCc ? `In the soak, with the core ${fmt((soakCc.coreBusyShare ?? NaN) * 100)} % busy and all three workloads mixed, client credentials had a p99 of ${ms(soakCc.p99)} ms. ` : '')
        + (ccLat.extra.sutGcTotalMs !== undefined ? `In the client-credentials run the gateway's GC paused it ${fmt(ccLat.extra.sutGcTotalMs)} ms in all (longest ${ms(ccLat.extra.sutGcMaxMs)} ms) and the driver sent its p99 request ${ms(ccLat.extra.driverSendLateP99)} ms late${bareLat?.extra.driverSendLateP99 !== undefined ? ` (against bare oidc-provider, at its higher rate: ${ms(bareLat.extra.driverSendLateP99)} ms late, so that row's tail is partly the driver's)` : ''}. `
          + 'Since 2026-12-06 (afternoon) oidc-provider is patched at install (scripts/patch-dependencies.mjs, docs/design.md): its per-request `ctx.oidc` getter kept each request alive through young-generation GCs, whose 10–15 ms pauses every ≈ 200 ms were most of this tail (client credentials 42–64 ms before, 7.8 ms after, in runs of the same quiet hour); both the gateway and the bare oidc-provider rows run the patched library. ' : '')
        + (longestStall(r) !== undefined ? `The idle machine itself stopped a spinning thread for up to ${ms(longestStall(r)!)} ms (the host-stall table under the baselines): a floor under every p99 here that no change to the gateway moves. ` : '')
        + '**Next:** the refresh tail (its commits wait for the WAL flush, and PostgreSQL shares the core), the CPU per request at moderate load, and a latency driver that is never the bottleneck at bare oidc-provider\'s rate.');
    }
    if (samlSso.n) {
      const sso = runsOf(r, 'saml', 'sso-signed-in', 'gw-pg');
      const rsaMs = 1000 / micro('sign-RS256'); // one RSA-2048 signature (WebCrypto), same run
      const signShare = (sigs: number, rate: number) => (sigs * rsaMs) / (1000 / rate);
      out.push(`**SAML SSO:** ${fmt(samlSso.median, 1)} signed-in round trips per SUT CPU-s with \`sign: both\` (the default), ≈ ${fmt(qSaml)} estimated`
        + (samlAssert.n ? `; ${fmt(samlAssert.median, 1)} with only the assertion signed (\`sign: assertion\`, the issue's "signed assertion" round trip), ≈ ${fmt(qSamlAssert)} estimated` : '')
        + ` (G6: ≥ 300). Bare samlify building and signing the same Response alone does ${fmt(micro('samlify-both'))} (both) and ${fmt(micro('samlify-assertion'))} (assertion) per CPU-s in this run, which the gateway no longer uses for them: its whole round trip costs ${fmt(micro('samlify-both') / samlSso.median, 1)}× that step alone (both) and ${fmt(micro('samlify-assertion') / samlAssert.median, 1)}× (assertion). `
        + `Per round trip: ${counted(median(sso.map((m) => (m.extra.requests ?? NaN) / m.completed)), 'HTTP exchange')}, ${counted(durable(sso), 'durable commit')} and ${counted(perOp(sso, 'reads'), 'read')}; the RSA-2048 signatures are ≈ ${fmt(signShare(2, samlSso.median) * 100)} % of its CPU with two and ≈ ${fmt(signShare(1, samlAssert.median) * 100)} % with one (a raw signature: ${fmt(rsaMs, 2)} ms here)`
        + (samlProf ? `; XML handling (xpath, @xmldom/xmldom, samlify, xml-crypto) is ${fmt(share(samlProf, ['xpath', 'xmldom', 'samlify', 'xml-crypto']) * 100, 1)} % of the main thread (it was 32 %)` : '')
        + '. **Done:** the IdP key version is checked on the sweeper\'s timer and entities are reused per SP and key version; the SAML routes are units of work; the code is redeemed directly instead of through an injected token request; unsigned requests are read once; the IdP writes every message in exclusive canonical form (src/protocols/saml/canonical.ts, templates.ts) and signs it without parsing (signature.ts: one SHA-256 of the element\'s text, the SignedInfo as text, one RSA signature; xml-crypto\'s three parses, canonicalisation and XPath per signature were ≈ 30 % of the round trip; A/B then: +32 to +35 % (both), +14 to +18 % (assertion)). '
        + '**Since 2026-12-07:** a browser that sends its session cookie is answered by /saml/sso itself: the gateway makes the authorization request the browser would have made, in-process (src/protocols/saml/inline-authorize.ts: light-my-request into oidc-provider with the browser\'s cookies, inside the SAML request\'s unit of work), and redeems the code it gets, which is issued and redeemed in one commit and never written. Every session, MFA, ForceAuthn and IsPassive rule is still oidc-provider\'s; a screen it wants is passed on. 3 HTTP exchanges and 3 commits became 1 and 1 (test/saml/round-trip-commits.test.ts). A/B, same run, 5 runs each (bench/out of 2026-12-07 10:00, a slow hour: ≈ 2× the CPU per round trip of the 07:09 run for both commits): +39 % [+13 to +48] (both) and +31 % [+28 to +52] (assertion) per SUT CPU-s, paired; PostgreSQL 1.15 against 1.97 ms and the gateway 5.5 against 6.6 ms per round trip (both); then the redemption stopped reading the Grant and the user again (the rows read with the session are shared within the request: 3 → 1 read). '
        + `**Since the afternoon of 2026-12-07:** an HTTP-POST AuthnRequest from the SP's site, which brings no SameSite=Lax cookie and took the three-exchange trip, is checked and posted again from the gateway's own page, which brings it (src/protocols/saml/first-party-resend.ts): 2 exchanges and 1 commit when signed in${samlPostFig.n ? ` (${fmt(samlPostFig.median, 1)} per SUT CPU-s in this run)` : ''}; A/B, same run, 5 runs each (bench/out of 2026-12-07 13:16): +33 % [+7 to +54] per SUT CPU-s, paired, PostgreSQL 0.72 against 1.55 ms per round trip. `
        + '**What is left:** one HTTP exchange with oidc-provider\'s authorization request inside it, the AuthnRequest\'s parse and Schema validation (in the warm worker), the reads and the commit above, and the signature(s). **Next:** the one exchange that is left, by its profile (the saml-sso profile below splits its main thread by package).');
    }
    if (gwMem) out.push(`**Memory:** ${fmt(gwMem.idle.rssMiB)} MiB idle RSS (G7: ≤ 150 MB; bare oidc-provider ${fmt(r.memory['bare-op']?.idle.rssMiB ?? NaN)} MiB), ${fmt(gwMem.afterLoad?.rssMiB ?? NaN)} MiB after the load (peak ${fmt(gwMem.afterLoad?.hwmMiB ?? NaN)}): V8 grows its heap and argon2 maps 19 MiB per hash in flight. `
      + (gwMem.sessions ? `Sessions live in PostgreSQL (${fmt(gwMem.sessions.dbBytesPerSession)} bytes each): after writing and reading back ${fmt(gwMem.sessions.count)} of them the live heap moved ${fmt(gwMem.sessions.heapPer100kMiB, 1)} MiB per 100,000 and RSS ${fmt(gwMem.sessions.rssPer100kAfterReadMiB)} MiB per 100,000 (allocator growth during the bulk writes, not retained state). ` : '')
      + (liteMem?.sessions ? `PGlite keeps its pages in the process: ${fmt(liteMem.sessions.rssPer100kAfterReadMiB)} MiB of RSS per 100,000 sessions (from ${fmt(liteMem.sessions.count)}), so PGlite is for development and small installations, as documented. ` : '')
      + (r.memory['gw-pg-defaults'] ? `The base figure is the product's defaults (no SAML SP): ${fmt(r.memory['gw-pg-defaults'].idle.rssMiB)} MiB idle; the SAML stack (samlify, xml-crypto, xmldom; loaded only when \`saml.sps\` is not empty, the Schema validator's worker from the first message on; since 2026-12-07 its start-up self-test runs in a child process: docs/saml.md \"Memory\") adds ${fmt(gwMem.idle.rssMiB - r.memory['gw-pg-defaults'].idle.rssMiB)} MiB. ` : '')
      + 'The Duo SDK and the QR-code renderer load on first use.');
    return out;
  }

  // ------------------------------------------------------------------ header
  p('# Gatehouse benchmark report');
  p();
  p(`Generated by \`npm run bench${r.mode === 'quick' ? ':quick' : ''}\` (bench/run.ts) on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${r.mode} mode, ${fmt(r.seconds ?? NaN)} s. `
    + `Code: commit \`${r.env.git.commit}\`${r.env.git.dirty ? ` plus ${r.env.git.dirty} uncommitted file(s) under src/ and migrations/ (work in progress by other engineers at the time)` : ''}. `
    + 'Raw data: `bench/out/results-*.json` (not committed).');
  p();
  p('> **Read the ratios, not the absolute numbers.** This 2-vCPU machine was shared with other engineers\' test suites '
    + `during the run (load average ${r.env.loadAvgStart.map((x) => x.toFixed(1)).join(' / ')} at the start, ${r.env.loadAvgEnd?.map((x) => x.toFixed(1)).join(' / ') ?? '?'} at the end; `
    + `in the median measured window ${fmt(cpu0Other * 100)} % of CPU 0 went to other processes). `
    // A factor is the anchors' quiet rate ÷ this run's: above 1 this host did less per CPU-second, below 1 more.
    + (Math.max(...allFactors) > 1.05
      ? `A CPU-second bought ${Math.min(...allFactors) < 0.95 ? 'more of some work and less of other work' : 'much less work'} than on the quiet machine of `
      : 'A CPU-second bought as much work or more than on the quiet machine of ')
    + `performance-anchors.md: bare oidc-provider did ${(1 / fHttp).toFixed(1)}× its quiet keep-alive rate, ${(1 / fTls).toFixed(1)}× its TLS-per-grant rate, argon2id ${(1 / fArgon).toFixed(1)}× `
    + `(all baselines' factors: ${fmt(Math.min(...allFactors), 1)}–${fmt(Math.max(...allFactors), 1)}; shared caches and a time-sliced core cost every process CPU time, and hosts differ). `
    + 'So every target is judged on the **ratio to a baseline measured in the same run** (interleaved run by run) and, where the target is absolute, on a '
    + '**quiet-machine estimate ≈**: the measured figure scaled by the factor of the nearest baseline (keep-alive work × the bare-oidc-provider factor, TLS per grant × the TLS factor; '
    + 'and where PostgreSQL does part of the work, each part by its own factor: the gateway process × the keep-alive (or TLS) factor, PostgreSQL × the factor of a point read against the anchors\' 30.5 µs, the hash × the argon2id factor). '
    + 'The estimates assume the gateway suffered from the noise as much as its baseline did; they are indicative, the ratios are the measurement. '
    + 'Where a factor is below 1 (this host faster than the anchors\' machine for that work), the estimate is below the measured figure.');
  p();

  // ------------------------------------------------------------------ headline
  p('## Results against the targets');
  p();
  const verdict = (ok: boolean | undefined, how: string) => ok === undefined ? 'not measured' : `${ok ? '**met**' : '**missed**'} (${how})`;
  // A rate target met only after scaling to a quiet machine says so: the scaling factors come from this
  // run's baselines, and one noisy baseline (a PostgreSQL point read, say) can carry a verdict.
  const rateVerdict = (n: number, measured: number, estimate: number, target: number) => !n ? 'not measured'
    : measured >= target ? `**met** (${fmt(measured)} measured, ≈ ${fmt(estimate)})`
      : estimate >= target ? `**met on the estimate only** (≈ ${fmt(estimate)}; ${fmt(measured)} measured)`
        : `**missed** (≈ ${fmt(estimate)})`;
  const q = (s: Summary, f = envFactor) => s.n ? `≈ ${fmt(s.median * f)}` : '–';
  const rows: (string | number)[][] = [];
  rows.push(['Client credentials, JWT ES256, keep-alive', '≥ 6,000 /core-s; within 15 % of bare oidc-provider', range(gwCc),
    bareCc.n ? `${pctDiff(pairedCc.median, 1)} vs bare (paired runs, ${range(mapS(pairedCc, (x) => (x - 1) * 100))} %)` : '–', q(gwCc),
    verdict(gwCc.n ? quiet(gwCc.median) >= 6000 && pairedCc.median >= 0.85 : undefined, `${pctDiff(pairedCc.median, 1)} vs bare; ≈ ${fmt(quiet(gwCc.median))} estimated`)]);
  rows.push(['… with 20,000 clients picked at random', '≥ 4,000 /core-s', range(manyRnd), manyOne.n ? `${pctDiff(pairedMany.median, 1)} vs one client (same gateway, paired)` : '–', manyRnd.n ? `≈ ${fmt(qMany)}` : '–',
    rateVerdict(manyRnd.n, manyRnd.median, qMany, 4000)]);
  rows.push(['… new TLS connection per grant', '≥ 1,400 /core-s', range(gwTls), bareTls.n ? `${pctDiff(pairedTls.median, 1)} vs bare over TLS (paired)` : '–', q(gwTls, fTls),
    rateVerdict(gwTls.n, gwTls.median, gwTls.median * fTls, 1400)]);
  rows.push(['Refresh with rotation, durable commits, keep-alive (gateway + PostgreSQL CPU)', '≥ 1,000 /core-s', range(rfKa), rfKa.n ? `PostgreSQL ${fmt(pgShare(runsOf(r, 'refresh', 'keepalive')) * 100)} % of SUT CPU` : '–', rfKa.n ? `≈ ${fmt(qRfKa)}` : '–',
    rateVerdict(rfKa.n, rfKa.median, qRfKa, 1000)]);
  rows.push(['… refresh, new TLS connection per request', '(G3: ≥ 1,000)', range(rfTls), rfTls.n ? `${pctDiff(pairedRatioVariants(r, 'refresh', 'tls-per-request', 'keepalive').median, 1)} vs keep-alive (paired)` : '', rfTls.n ? `≈ ${fmt(qRfTls)}` : '–',
    rateVerdict(rfTls.n, rfTls.median, qRfTls, 1000)]);
  if (rfApi.n) {
    rows.push(['… refresh, keep-alive, access token a JWT for the API (client `accessTokenAudience: api`: no token row)', '(the same)', range(rfApi), `${pctDiff(pairedRfApi.median, 1)} vs the opaque userinfo token (paired)`, `≈ ${fmt(qRfApi)}`,
      rateVerdict(rfApi.n, rfApi.median, qRfApi, 1000)]);
  }
  rows.push(['Full password login (authorize → form → code → token), argon2id m=19 MiB t=2', '≥ 100 /core-s', range(lgPwd, 1),
    lgPwd.n ? `${ratio(lgPwd.median, micro('argon2id-verify'))} of the raw argon2id rate` : '–', lgPwd.n ? `≈ ${fmt(quietLoginRate(lgPwd.median))}` : '–',
    rateVerdict(lgPwd.n, lgPwd.median, quietLoginRate(lgPwd.median), 100)]);
  const pwdRuns = runsOf(r, 'login', 'password', 'gw-pg');
  const directShare = hasPool(pwdRuns) ? `; the hashing pool threads' own CPU: ${fmt(poolShare(pwdRuns) * 100)} % of the SUT's` : '';
  rows.push(['… the hash\'s share of the login\'s CPU', '≥ 60 %', lgCheap.n ? `${fmt(hashShare * 100)} % [${fmt((1 - cheapOverPwd.max) * 100)}–${fmt((1 - cheapOverPwd.min) * 100)}]` : '–',
    lgCheap.n ? `paired with cheap-hash logins; argon2id baseline ÷ login CPU: ${fmt(hashShareMicro * 100)} %${directShare}` : '–', lgPwd.n ? `≈ ${fmt(quietHashShare * 100)} %` : '–',
    !lgCheap.n ? 'not measured' : hashShare >= 0.6 && quietHashShare < 0.6
      ? `**met as measured, likely missed on a quiet machine** (${fmt(hashShare * 100)} % here; ≈ ${fmt(quietHashShare * 100)} % when the hash and the rest are each scaled by their own baseline)`
      : verdict(hashShare >= 0.6, `${fmt(hashShare * 100)} % measured, ≈ ${fmt(quietHashShare * 100)} % quiet`)]);
  // The login row's last two clauses: PostgreSQL's CPU and the durable commits of one password login.
  const pwRuns = runsOf(r, 'login', 'password', 'gw-pg');
  if (pwRuns.length) {
    const pgMs = pgMsPer(pwRuns);
    const quietPgMs = Number.isFinite(fPg) ? pgMs / fPg : NaN;
    rows.push(['… PostgreSQL CPU per login (its backends)', '≤ 0.5 ms', `${fmt(pgMs, 2)} ms`,
      `${fmt(perOp(pwRuns, 'reads'), 0)} reads and ${fmt(durable(pwRuns), 0)} durable commits per login; ${fmt(pgShare(pwRuns) * 100)} % of the login's SUT CPU`,
      Number.isFinite(quietPgMs) ? `≈ ${fmt(quietPgMs, 2)} ms` : '–',
      pgMs <= 0.5 ? `**met** (${fmt(pgMs, 2)} ms measured)`
        : quietPgMs <= 0.5 ? `**met on the estimate only** (≈ ${fmt(quietPgMs, 2)} ms; ${fmt(pgMs, 2)} ms measured)`
          : `**missed** (${fmt(pgMs, 2)} ms measured${Number.isFinite(quietPgMs) ? `, ≈ ${fmt(quietPgMs, 2)} ms quiet` : ''})`]);
    rows.push(['… durable commits per login', '≤ 4', fmt(durable(pwRuns), 1), 'counted at the gateway\'s Db (a row-changing autocommit write or a write transaction; a unit of work written as one statement is one)', '',
      verdict(durable(pwRuns) <= 4, fmt(durable(pwRuns), 1))]);
  }
  // Tail latency: the open-model runs at LATENCY_FRACTION of each keep-alive variant's peak (single requests).
  const tail = TAIL_RUNS
    .map(([label, sc, v, sut]) => ({ label, p99: latencyRun(r, sc, v, sut)?.latency.p99 })).filter((x) => x.p99 !== undefined);
  // The same driver against bare oidc-provider at 70 % of its own peak: the floor this machine and driver give.
  const bareTail = latencyRun(r, 'cc', 'keepalive', 'bare-op')?.latency.p99;
  // Where 70 % of the rate kept the core nearly saturated, the run again at 70 % of the core (run.ts).
  const atCore = TAIL_RUNS
    .map(([label, sc, v, sut]) => ({ label, m: latencyRun(r, sc, v, sut, 'latency-core') ?? latencyRun(r, sc, v, sut) }))
    .filter((x): x is { label: typeof x.label; m: Measurement } => x.m?.latency.p99 !== undefined);
  const coreNote = atCore.some((x) => x.m.run === 'latency-core')
    ? `; at ${pct} % of the core (the rate lowered where ${pct} % of it kept the core busier): ${atCore.map((x) => `${x.label} ${ms(x.m.latency.p99!)} ms (core ${fmt(coreBusy(x.m) * 100)} % busy)`).join(', ')}`
    : '';
  if (tail.length) rows.push([`Tail latency: p99 at ${pct} % of each rate, keep-alive`, '≤ 15 ms', tail.map((x) => `${x.label} ${ms(x.p99!)} ms`).join(', '),
    `open model, from the scheduled start${bareTail !== undefined ? `; bare oidc-provider at ${pct} % of its own peak, same driver: ${ms(bareTail)} ms` : ''}${coreNote}`, '(latency)',
    tail.every((x) => x.p99! <= 15) ? verdict(true, `worst ${ms(Math.max(...tail.map((x) => x.p99!)))} ms`)
      : coreNote && atCore.every((x) => x.m.latency.p99! <= 15)
        ? `**missed at ${pct} % of the rate, met at ${pct} % of the core** (worst ${ms(Math.max(...tail.map((x) => x.p99!)))} / ${ms(Math.max(...atCore.map((x) => x.m.latency.p99!)))} ms)`
        : verdict(false, `worst ${ms(Math.max(...tail.map((x) => x.p99!)))} ms`)]);
  const soak = r.scenarios.soak as SoakResult | undefined;
  if (soak?.cc) {
    // Judged on requests, as the target says; a login's slowest request is known since 2026-12-07 (older
    // result files: the whole flow, which is stricter).
    const loginReq = soak.login.sampled?.request;
    const worst = Math.max(soak.cc.latency.max!, soak.refresh.latency.max!, loginReq?.max ?? soak.login.latency.max!);
    const errs = soak.cc.errors + soak.refresh.errors + soak.login.errors;
    const flowsOver = soak.login.latency.over1s;
    rows.push([`Soak: ${fmt((soak.soakSeconds ?? soak.seconds) / 60, 1)} minutes of client credentials, refresh and logins at once`, 'no request over 1 s in a 10-minute soak',
      `max ${ms(soak.cc.latency.max!)} ms (client credentials), ${ms(soak.refresh.latency.max!)} ms (refresh), `
        + (loginReq ? `${ms(loginReq.max)} ms (a login's slowest request; whole flows: max ${ms(soak.login.latency.max!)} ms, ${fmt(flowsOver ?? NaN)} of ${fmt(soak.login.completed)} over 1 s)` : `${ms(soak.login.latency.max!)} ms (a whole login flow)`)
        + `; ${errs} errors`,
      soakLoad(soak), '(latency)',
      (soak.soakSeconds ?? soak.seconds) < 600 ? 'not judged (shorter than 10 minutes)' : verdict(worst <= 1000 && errs === 0, `worst request ${ms(worst)} ms`)]);
  }
  rows.push(['Login flood: token / JWKS / health p99 with hashing saturated', '≤ 20 ms', flood ? `${ms(floodP99)} ms${roundsNote(floodRounds)}` : '–', flood ? `idle p99 ${ms(idleP99)} ms${roundsNote(flood.worstP99?.idle)} in the same run (${floodP99 >= idleP99 ? '+' : '−'}${ms(Math.abs(floodP99 - idleP99))} ms)` : '–', '(latency)',
    !flood ? 'not measured' : floodP99 <= 20 ? '**met**' : idleP99 > 20
      ? `**not assessable here**: the idle probe's p99 is already ${ms(idleP99, 0)} ms on this shared machine; with the flood it is ${ms(floodP99, 0)} ms`
      : `**missed** (${ms(floodP99, 0)} ms)`]);
  const totpFull = lgTotp.n ? `paired full-hash runs: ${pctDiff(totpPaired.median, 1)} (${fmt(cpuMs(lgTotp), 1)} vs ${fmt(loginMs, 1)} ms CPU per login)` : '';
  rows.push(['Login with TOTP: extra CPU', '≤ 5 %',
    lgCheapTotp.n ? `+${fmt(totpExtraPrecise * 100)} %` : lgTotp.n ? pctDiff(totpPaired.median, 1) : '–',
    lgCheapTotp.n ? `+${fmt(totpExtraMs.median, 2)} ms [${fmt(totpExtraMs.min, 2)}–${fmt(totpExtraMs.max, 2)}] per login (cheap-hash logins with and without TOTP, paired) ÷ a password login's ${fmt(loginMs, 1)} ms; ${totpFull}` : totpFull || '–',
    lgCheapTotp.n ? `≈ +${fmt(quietTotpExtraPrecise * 100)} %` : lgTotp.n ? `≈ +${fmt(quietTotpExtra * 100)} %` : '–',
    verdict(lgTotp.n || lgCheapTotp.n ? totpExtra <= 0.05 : undefined, `+${fmt(totpExtra * 100)} %`)]);
  if (samlAssert.n) rows.push(['SAML SSO round trip, signed-in browser, schema validation on, signed assertion (`sign: assertion`)', '≥ 300 /core-s (G6)', range(samlAssert, 1),
    `${ratio(samlAssert.median, micro('samlify-assertion'))} of bare samlify build+sign of the same Response; its one RSA-2048 signature alone ≈ ${fmt((samlAssert.median / micro('sign-RS256')) * 100)} % of its CPU (same run)`, `≈ ${fmt(qSamlAssert)}`, rateVerdict(samlAssert.n, samlAssert.median, qSamlAssert, 300)]);
  if (samlSso.n) rows.push([`SAML SSO round trip, signed-in browser (AuthnRequest → signed Response auto-POST)${samlAssert.n ? ', the default `sign: both`' : ''}`, samlAssert.n ? '(the same)' : '≥ 300 /core-s (G6)', range(samlSso, 1),
    `${ratio(samlSso.median, micro('samlify-both'))} of bare samlify build+sign; its two RSA-2048 signatures alone ≈ ${fmt((2 * samlSso.median / micro('sign-RS256')) * 100)} % of its CPU (same run)`, `≈ ${fmt(qSaml)}`, rateVerdict(samlSso.n, samlSso.median, qSaml, 300)]);
  // Base = the product's defaults (no SAML SP) when that SUT ran; the gateway under load has an SP.
  const baseMem = r.memory['gw-pg-defaults'];
  const baseRss = baseMem?.idle.rssMiB ?? gwMem?.idle.rssMiB;
  rows.push(['Memory: base RSS', '≤ 150 MB (G7)', baseRss !== undefined
    ? `${mib(baseRss)} MiB idle${baseMem ? ' (product defaults, no SAML SP)' : ''}${baseMem && gwMem ? `; ${mib(gwMem.idle.rssMiB)} MiB with a SAML SP` : ''}${gwMem ? `; ${mib(gwMem.afterLoad?.rssMiB)} MiB after load (peak ${mib(gwMem.afterLoad?.hwmMiB)})` : ''}` : '–',
  r.memory['bare-op'] ? `bare oidc-provider ${mib(r.memory['bare-op'].idle.rssMiB)} MiB idle` : '', '', verdict(baseRss !== undefined ? baseRss * 1.048576 <= 150 : undefined, 'idle')]);
  rows.push(['Memory: RSS per 100,000 active sessions', '≤ 50 MB (G7)', gwMem?.sessions ? `${fmt(gwMem.sessions.rssPer100kAfterReadMiB)} MiB RSS, ${fmt(gwMem.sessions.heapPer100kMiB, 1)} MiB live heap` : '–', gwMem?.sessions ? `${fmt(gwMem.sessions.count)} sessions written and read back through the adapter` : '', '', verdict(gwMem?.sessions ? gwMem.sessions.rssPer100kAfterReadMiB * 1.048576 <= 50 : undefined, 'RSS')]);
  rows.push(['Memory: database bytes per session', '≤ 1 KB (G7)', gwMem?.sessions ? `${fmt(gwMem.sessions.dbBytesPerSession)} B` : '–', 'table + indexes (+TOAST)', '', verdict(gwMem?.sessions ? gwMem.sessions.dbBytesPerSession <= 1024 : undefined, 'PostgreSQL')]);
  table(['Scenario', 'Target', 'Measured per SUT CPU-s, median [min–max]', 'Same-run ratio', 'Quiet-machine estimate', 'Verdict'], rows);
  p('SUT CPU = the gateway process (all threads) + its PostgreSQL backends. "Paired" ratios are medians of run-by-run ratios between variants measured back to back.');
  p();

  // ------------------------------------------------------------------ peers
  p('### Against the published peers');
  p();
  p('Peers publish per-vCPU figures from other hardware and methods (performance-anchors.md §1); the quiet-machine estimate is the fairer column. Side-by-side peer runs were not part of this benchmark.');
  p();
  table(['Workload', 'Gatehouse measured', 'Gatehouse ≈ quiet', 'Peer figure (per vCPU)', 'Ratio (measured / ≈ quiet)'], [
    ['Client credentials, TLS per grant', fmt(gwTls.median), fmt(gwTls.median * fTls), `Keycloak 26: ${PEERS.keycloakCcTls} (ARM), ≤ ${PEERS.keycloakCcTlsX86} (x86)`, `${ratio(gwTls.median, PEERS.keycloakCcTls, 1)} / ${ratio(gwTls.median * fTls, PEERS.keycloakCcTls, 1)} (vs 120)`],
    ['Client credentials, keep-alive', fmt(gwCc.median), fmt(quiet(gwCc.median)), `Cloudentity: ≈ ${fmt(PEERS.cloudentityCc)}; ZITADEL JWT profile ≈ ${PEERS.zitadelJwt}`, `${ratio(gwCc.median, PEERS.cloudentityCc, 1)} / ${ratio(quiet(gwCc.median), PEERS.cloudentityCc, 1)} (vs Cloudentity)`],
    ['Refresh with rotation, TLS per request', fmt(rfTls.median), fmt(qRfTls), `Keycloak 26: ${PEERS.keycloakRefresh} (TLS per request)`, `${ratio(rfTls.median, PEERS.keycloakRefresh, 1)} / ${ratio(qRfTls, PEERS.keycloakRefresh, 1)}`],
    ['Password login (equal hash work: argon2id 19 MiB×2 ≈ Keycloak\'s 7 MiB×5)', fmt(lgPwd.median, 1), fmt(quietLoginRate(lgPwd.median)), `Keycloak 26: ${PEERS.keycloakLogin}`, `${ratio(lgPwd.median, PEERS.keycloakLogin, 1)} / ${ratio(quietLoginRate(lgPwd.median), PEERS.keycloakLogin, 1)}`],
    ['Base memory', gwMem ? `${mib(gwMem.idle.rssMiB)} MiB` : '–', '', 'Keycloak 26: 1,250 MB per pod', gwMem ? ratio(1250 / 1.048576, gwMem.idle.rssMiB, 1) + ' less' : '–'],
  ]);

  // ------------------------------------------------------------------ machine
  p('## Machine, versions, settings');
  p();
  const pgs = r.env.postgres;
  table(['', ''], [
    ['CPU', `${r.env.cpuModel}, ${r.env.cpus} vCPU (KVM), ${r.env.memGiB} GiB RAM, Linux ${r.env.kernel}`],
    ['Runtime', `Node ${r.env.node} (OpenSSL ${r.env.openssl}), NODE_ENV=production`],
    ['Packages', Object.entries(r.env.packages).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['PostgreSQL', pgs ? `${pgs.version}; ${Object.entries(pgs.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` : 'not available'],
    ['Durable commit latency', r.env.commitLatencyMs ? `single-row upsert, autocommit: p50 ${ms(r.env.commitLatencyMs.p50, 2)} ms, p99 ${ms(r.env.commitLatencyMs.p99, 2)} ms` : '–'],
    ['Gateway settings', 'production mode, product defaults: argon2id m=19456 KiB t=2 p=1 (hashing pool = os.availableParallelism() = 1 on one pinned core), ES256 JWT access tokens for client credentials, opaque access tokens + ES256 ID tokens in the code flow, refresh-token rotation, log level info (one JSON line per request, to a file), pool max 10'],
    ['PGlite', `gateway with no DATABASE_URL: PGlite files in a data directory on disk (unpacked from a migrated template to skip initdb), in-process`],
    ['Pinning', 'SUT (gateway, bare oidc-provider, the micro baselines; every PostgreSQL backend of the gateway under test, pinned as it appears) on CPU 0; load generators and this orchestrator on CPU 1. SUTs boot on CPU 1 (while the baselines run on CPU 0) and move to CPU 0 before any measurement. PostgreSQL\'s shared background processes (WAL writer, checkpointer) are not pinned or counted.'],
    ['Runs', `warm-up ${r.params.warmMs / 1000} s, then ${r.params.runs} measured windows of ${r.params.runMs / 1000} s per variant, interleaved across the variants of a scenario (A B C A B C …); median [min–max]. Latency: one open-model run of ${r.params.latencyMs / 1000} s at ${Math.round(r.params.latencyFraction * 100)} % of the variant's median peak rate (latency counted from the scheduled start: no coordinated omission)`],
    ['Load', `autocannon ${r.env.packages.autocannon} as a library (keep-alive floods, ${r.params.ccConn} connections); purpose-written drivers for TLS per request (${r.params.tlsConc} in flight, a new agent per request: full TLS 1.3 handshake, no resumption), logins (${r.params.loginConc} in flight, a fresh cookie jar per login, PKCE), refresh chains (${r.params.refreshConc} in flight over ${r.params.chains} chains) and the latency probe`],
  ]);

  // ------------------------------------------------------------------ baselines
  p('## Same-run baselines (CPU 0)');
  p();
  table(['Baseline', 'Per CPU-second, median [min–max]', 'Quiet machine (anchors)', 'Factor'], [
    ...Object.entries(r.micro).map(([k, s]) => [
      ({ 'sign-ES256': `JWT ES256 sign (jose / WebCrypto, ${s.inFlight} in flight)`, 'sign-ES256-inline': `JWT ES256 sign (jose, made on the calling thread as the gateway does, ${s.inFlight} in flight)`, 'sign-RS256': `JWT RS256 sign (jose / WebCrypto, ${s.inFlight} in flight)`, 'argon2id-verify': `argon2id verify m=${s.params?.memoryKiB} KiB t=${s.params?.iterations} p=${s.params?.parallelism} (@node-rs/argon2)`, 'samlify-assertion': 'samlify login Response, assertion signed (RSA-2048)', 'samlify-both': 'samlify login Response, assertion + response signed (gateway default)' } as Record<string, string>)[k] ?? k,
      range(s), fmt((QUIET as Record<string, number>)[k] ?? NaN), ratio((QUIET as Record<string, number>)[k] ?? NaN, s.median, 1)]),
    ['Bare oidc-provider, client credentials JWT ES256, keep-alive', range(bareCc), fmt(QUIET['bare-cc-keepalive']), ratio(QUIET['bare-cc-keepalive'], bareCc.median, 1)],
    ['Bare oidc-provider, client credentials, TLS per grant (P-256 cert)', range(bareTls), '1,808–1,970', ratio(QUIET['bare-cc-tls'], bareTls.median, 1)],
  ]);
  p(`Factors used for the estimates: keep-alive ${fHttp.toFixed(2)}, TLS per grant ${fTls.toFixed(2)}, argon2id ${fArgon.toFixed(2)}, PostgreSQL ${fPg.toFixed(2)} (named point read below vs 30.5 µs). `
    + 'WebCrypto signing one at a time pays a thread-pool hand-off per signature, which a time-sliced core makes expensive; that is why its factor is the largest. The gateway signs ES256 on the calling thread (src/protocols/oidc/inline-signing-keys.ts), the row below it.');
  p();
  const late = r.scenarios.loopLateness as Record<'plain' | 'nice', { samples: number; hashes: number; p50: number; p90: number; p99: number; max: number }> | undefined;
  if (late?.plain && late.nice) {
    p('Event loop lateness while argon2id hashes run back to back on the same core (a 2 ms timer, then 0.3 ms of work, repeated; ms past due), with libuv\'s pool threads as started and at nice +10 as the gateway sets them (src/platform/pool-priority.ts):');
    p();
    table(['Pool threads', 'p50', 'p90', 'p99', 'max', 'Samples', 'Hashes'], (['plain', 'nice'] as const).map((k) => [k === 'plain' ? 'as started (nice 0)' : 'nice +10', fmt(late[k].p50, 2), fmt(late[k].p90, 2), fmt(late[k].p99, 2), fmt(late[k].max, 2), fmt(late[k].samples), fmt(late[k].hashes)]));
    p();
  }
  const stalls = hostStallRows(r);
  if (stalls.length) {
    p('The idle machine\'s own stalls (bench/sut/stall-probe.ts): a thread spinning on each CPU at once, reading the clock back to back, before the SUTs start and after they stopped; every gap over 1 ms is time that thread did not run (the kernel or the hypervisor ran something else). Any request in flight during a gap takes that much longer, whatever the SUT does:');
    p();
    table(['When', 'CPU', 'Spun (s)', 'Lost (ms)', 'Gaps > 1 ms', '> 5 ms', '> 20 ms', 'Longest (ms)', 'Five longest (at s: ms)'], stalls);
    p();
  }
  const pst = r.scenarios.pgStatements as Record<string, { pgUsPerOp: number; clientUsPerOp: number; wallUsPerOp: number; ops: number }> | undefined;
  if (pst) {
    p('PostgreSQL cost of one adapter statement (the gateway\'s own `oidc-adapter.ts`, a Session payload, one connection, backend on CPU 0, `synchronous_commit=off` on that connection so the figure is the statement\'s own work), sent unnamed (parsed and planned every time, as before this round) and as a named prepared statement (what src/storage/db.ts sends now); when PostgreSQL is local, the named statements once more over its Unix socket (the gateway connects over TCP: the difference is what the loopback transport costs the backend):');
    p();
    table(['Statement', 'PostgreSQL CPU µs', 'Client CPU µs', 'Wall µs'], Object.entries(pst).map(([k, v]) => [k, fmt(v.pgUsPerOp), fmt(v.clientUsPerOp), fmt(v.wallUsPerOp)]));
  }
  p();
  const fc = r.scenarios.flushCosts as Record<string, { pgUsPerOp: number; clientUsPerOp: number; wallUsPerOp: number; ops: number }> | undefined;
  if (fc) {
    p('A refresh\'s commit (consume the old refresh token, write the new one and the access token; durable, `synchronous_commit` on; the gateway\'s own Db, one connection, backend on CPU 0), written the two ways a unit of work can write it, alternating in blocks of 100: BEGIN, the statements and COMMIT pipelined in one round trip, or one statement of data-modifying CTEs (src/storage/one-statement.ts, what the gateway sends since 2026-12-06 when no two writes can touch one row):');
    p();
    table(['Commit written as', 'Commits', 'PostgreSQL CPU µs', 'Client CPU µs', 'Wall µs'], Object.entries(fc).map(([k, v]) => [k, String(v.ops), fmt(v.pgUsPerOp), fmt(v.clientUsPerOp), fmt(v.wallUsPerOp)]));
    p();
  }

  // ------------------------------------------------------------------ throughput detail
  p('## Throughput, every variant');
  p();
  const variants = new Map<string, Measurement[]>();
  for (const m of r.measurements) if (typeof m.run === 'number') {
    const k = `${m.scenario} | ${m.variant} | ${m.sut}`;
    variants.set(k, [...(variants.get(k) ?? []), m]);
  }
  table(['Scenario', 'Variant', 'SUT', 'Per SUT CPU-s', 'Per gateway CPU-s', 'PG share', 'Wall req/s', 'CPU ms/op', 'p50 / p99 at peak (ms)', 'Errors'],
    [...variants].map(([k, ms0]) => {
      const [sc, va, sut] = k.split(' | ');
      const s = fig(ms0);
      return [sc!, va!, sut!, range(s, s.median < 100 ? 1 : 0), fmt(fig(ms0, (m) => m.perGatewayCpuS).median, s.median < 100 ? 1 : 0),
        `${fmt(pgShare(ms0) * 100)} %`, fmt(median(ms0.map((m) => m.rps))), fmt(1000 / s.median, 2),
        `${ms(median(ms0.map((m) => m.latency.p50)))} / ${ms(median(ms0.map((m) => m.latency.p99)))}`, ms0.reduce((a, m) => a + m.errors, 0)];
    }));
  if (nologCc.n) {
    p(`Logging cost: the same gateway with log level \`warn\` (no per-request line) did ${range(nologCc)} per SUT CPU-s, ${pctDiff(pairedRatio(r, 'cc', 'keepalive', 'gw-pg-warnlog', 'gw-pg').median, 1)} vs level \`info\` (paired runs).`);
    p();
  }
  // --against: the same scenarios on another commit's gateway, interleaved run by run with this one.
  const baseRuns = r.measurements.filter((m) => m.sut === 'gw-pg-base' && typeof m.run === 'number');
  if (baseRuns.length) {
    const pairs = [...new Set(baseRuns.map((m) => `${m.scenario} | ${m.variant}`))];
    const note = r.notes.find((n) => n.startsWith('--against'));
    p(`A/B against an earlier commit, same run (${note ? note.replace(/^--against: /, '') : 'gw-pg-base'}). Paired: each run of this gateway divided by the other's run of the same round.`);
    p();
    const perOpMs = (ms0: Measurement[], f: (m: Measurement) => number) => median(ms0.map((m) => (f(m) * 1000) / m.completed));
    table(['Scenario', 'Variant', 'This commit per SUT CPU-s', 'Earlier commit', 'Paired ratio', 'Gateway CPU ms/op (this / earlier)', 'PostgreSQL CPU ms/op (this / earlier)', 'Reads per op (this / earlier)'],
      pairs.map((k) => {
        const [sc, va] = k.split(' | ') as [string, string];
        const a = runsOf(r, sc, va, 'gw-pg'); const b = runsOf(r, sc, va, 'gw-pg-base');
        const pr = pairedRatio(r, sc, va, 'gw-pg', 'gw-pg-base');
        const reads = (ms0: Measurement[]) => median(ms0.filter((m) => m.db).map((m) => m.db!.reads / m.completed));
        return [sc, va, range(fig(a), 1), range(fig(b), 1), `${pctDiff(pr.median, 1)} [${pctDiff(pr.min, 1)} to ${pctDiff(pr.max, 1)}]`,
          `${fmt(perOpMs(a, (m) => m.cpuGateway), 2)} / ${fmt(perOpMs(b, (m) => m.cpuGateway), 2)}`,
          `${fmt(perOpMs(a, (m) => m.cpuPg), 2)} / ${fmt(perOpMs(b, (m) => m.cpuPg), 2)}`, `${fmt(reads(a), 1)} / ${fmt(reads(b), 1)}`];
      }));
    p();
  }
  if (liteCc.n) {
    p(`PGlite reference: client credentials ${range(liteCc)} per CPU-s (no database access on this path); password login ${range(lgLite, 1)} per CPU-s (database work in-process).`);
    p();
  }

  const lat = r.measurements.filter((m) => m.run === 'latency' || m.run === 'latency-core');
  if (lat.length) {
    p(`## Latency at ${pct} % of peak (open model)`);
    p();
    table(['Scenario', 'Variant', 'SUT', 'Rate', 'Offered /s', 'Achieved /s', 'SUT core busy', 'p50', 'p90', 'p99', 'max (ms)', 'Driver sent late, p99 (ms)', 'SUT GC pauses: total / longest (ms)', 'SUT event-loop delay p99 (ms)'],
      lat.map((m) => [m.scenario, m.variant, m.sut, m.run === 'latency-core' ? `${pct} % of the core` : `${pct} % of peak`, fmt(m.extra.offeredRate ?? NaN), fmt(m.rps), `${fmt(coreBusy(m) * 100)} %`, ms(m.latency.p50), ms(m.latency.p90), ms(m.latency.p99), ms(m.latency.max),
        ms(m.extra.driverSendLateP99), m.extra.sutGcTotalMs === undefined ? '' : `${fmt(m.extra.sutGcTotalMs)} / ${ms(m.extra.sutGcMaxMs)} (${fmt(m.extra.sutGcCount ?? NaN)} GCs)`, ms(m.extra.sutLoopDelayP99)]));
    p('Every row is an open-model run: arrivals at a fixed rate from the load generator\'s own driver (bench/load/runner.ts), latency from each request\'s scheduled start, at 70 % of that SUT\'s own median peak. (Until 2026-12-05 the client-credentials rows used autocannon\'s `overallRate`, which is not an open model: each connection sends its quota for the second back to back and then waits, and its coordinated-omission correction assumes one request per millisecond per connection. The rate was also taken from the median peak of every SUT sharing the variant name, so the gateway was driven at ≈ 76 % of its own peak.) Where that rate kept the SUT\'s core (its process and PostgreSQL backends) more than 10 points above 70 % busy, a second run ("70 % of the core") offers the rate scaled down to keep it at 70 %, as the soak is scaled (since 2026-12-06 late evening): requests that do not arrive back to back cost more CPU each. For logins the latency is the whole flow (every redirect and form, then the token request). The bare oidc-provider row is the floor this 2-vCPU machine and this driver give; compare also with the idle probe below. "Driver sent late": how long after its scheduled start the driver sent a request (its own lateness, or a full in-flight window of 64 behind a stalled server); that time is part of the latency. The SUT columns are its main thread during the run (GC pauses from PerformanceObserver, the event loop\'s delay from monitorEventLoopDelay).');
    p();
  }

  // ------------------------------------------------------------------ login cost
  if (lgPwd.n) {
    const pw = runsOf(r, 'login', 'password', 'gw-pg');
    const to = runsOf(r, 'login', 'password+totp', 'gw-pg');
    const ls = r.scenarios.login ?? {};
    p('## Login cost breakdown');
    p();
    const ct = runsOf(r, 'login', 'password-cheap-hash+totp', 'gw-pg');
    const c4 = (v: () => string) => (ct.length ? [v()] : []);
    const reqs = (ms: Measurement[]) => fmt(median(ms.map((m) => (m.extra.requests ?? NaN) / m.completed)), 1);
    table(['', 'Password', 'Password, cheap hash (m=1 MiB t=1)', 'Password + TOTP', ...c4(() => 'Cheap hash + TOTP')], [
      ['CPU per login (gateway + PostgreSQL), ms', fmt(loginMs, 1), fmt(nonHashMs, 1), fmt(cpuMs(lgTotp), 1), ...c4(() => fmt(cpuMs(lgCheapTotp), 1))],
      ['… of which PostgreSQL, ms', fmt(pgMsPer(pw), 1), fmt(pgMsPer(runsOf(r, 'login', 'password-cheap-hash', 'gw-pg')), 1), fmt(pgMsPer(to), 1), ...c4(() => fmt(pgMsPer(ct), 1))],
      ...(hasPool(pw) ? [['… of which the hashing pool (libuv threads: argon2id), ms', fmt(poolMsPer(pw), 1), fmt(poolMsPer(runsOf(r, 'login', 'password-cheap-hash', 'gw-pg')), 1), fmt(poolMsPer(to), 1), ...c4(() => fmt(poolMsPer(ct), 1))]] : []),
      ['HTTP requests per login', reqs(pw), reqs(runsOf(r, 'login', 'password-cheap-hash', 'gw-pg')), reqs(to), ...c4(() => reqs(ct))],
      ['SQL reads per login', fmt(perOp(pw, 'reads'), 1), '', fmt(perOp(to, 'reads'), 1), ...c4(() => fmt(perOp(ct, 'reads'), 1))],
      ['Autocommit writes per login (that changed a row)', `${fmt(perOp(pw, 'writes'), 1)} (${fmt(perOp(pw, 'writesEffective'), 1)})`, '', `${fmt(perOp(to, 'writes'), 1)} (${fmt(perOp(to, 'writesEffective'), 1)})`, ...c4(() => `${fmt(perOp(ct, 'writes'), 1)} (${fmt(perOp(ct, 'writesEffective'), 1)})`)],
      ['Write transactions per login', fmt(perOp(pw, 'writeTransactions'), 1), '', fmt(perOp(to, 'writeTransactions'), 1), ...c4(() => fmt(perOp(ct, 'writeTransactions'), 1))],
      ['**Durable commits per login** (row-changing autocommit writes + write transactions; G8 ≤ 4)', `**${fmt(durable(pw), 1)}**`, '', `**${fmt(durable(to), 1)}**`, ...c4(() => `**${fmt(durable(ct), 1)}**`)],
    ]);
    p(`- The hash's share, paired run by run against the cheap-hash logins: **${fmt(hashShare * 100)} %** (target ≥ 60 %). Cross-check: argon2id verify alone costs ${fmt(hashMs, 1)} ms CPU on the same core = ${fmt(hashShareMicro * 100)} % of a login's ${fmt(loginMs, 1)} ms. `
      + `Non-hash work per login: ${fmt(nonHashMs, 1)} ms measured (≈ ${fmt(quietNonHashMs, 1)} ms on a quiet machine; G4 wants ≤ 3 ms).`);
    if (hasPool(pw)) {
      const cheap = runsOf(r, 'login', 'password-cheap-hash', 'gw-pg');
      const restMs = (ms0: Measurement[]) => pooled(ms0, (m) => ((m.cpuGateway - m.cpuPool) * 1000) / m.completed);
      p(`- The hash where it runs: the gateway's libuv pool threads (argon2id, little else) used **${fmt(poolMsPer(pw), 1)} ms** of CPU per password login, **${fmt(poolShare(pw) * 100)} %** of the SUT's CPU `
        + `${Number.isFinite(hashMs) ? `(one verification alone in the baseline process: ${fmt(hashMs, 1)} ms)` : ''}. The rest of the paired difference is spent around the hash, not in it: per login, the gateway's other threads used ${fmt(restMs(pw), 1)} ms with the real hash against ${fmt(restMs(cheap), 1)} ms with the cheap one, `
        + `and PostgreSQL ${fmt(pgMsPer(pw), 1)} against ${fmt(pgMsPer(cheap), 1)} ms. Candidates, not separated: each hash walks 19 MiB and evicts the caches the request handlers and backends then refill on the same core, and at a quarter of the rate fewer requests share an event-loop turn and fewer commits a WAL flush.`);
    }
    p(`- Counted statements per password login: ${statementList(pw)}.`);
    if (to.length) p(`- Per TOTP login: ${statementList(to)}.`);
    if (ls.xactCommitPerLogin !== undefined) {
      p(`- pg_stat_database over all ${fmt(ls.logins)} logins of the scenario (all its variants): ${fmt(ls.xactCommitPerLogin, 1)} xact_commit per login (every autocommit statement counts, reads included). `
        + (ls.walPerLogin ? `pg_stat_wal (cluster-wide, other test suites shared this PostgreSQL): ${fmt(ls.walPerLogin.records, 0)} WAL records, ${fmt(ls.walPerLogin.bytes, 0)} bytes, ${fmt(ls.walPerLogin.syncs, 1)} WAL syncs per login.` : ''));
      p(`- Database growth: ${fmt(ls.dbBytesPerLogin)} bytes per login (all tables and indexes; sessions, grants, codes, tokens, audit rows). Rows after the scenario: ${Object.entries(ls.dbModels ?? {}).map(([k, v]) => `${k} ${fmt(v as number)}`).join(', ')}.`);
    }
    p();
  }
  const rfm = runsOf(r, 'refresh', 'keepalive');
  if (rfm.length) {
    p(`Refresh with rotation: ${fmt(durable(rfm), 1)} durable commits and ${fmt(perOp(rfm, 'reads'), 1)} reads per refresh (${statementList(rfm)}); PostgreSQL ${fmt(pgMsPer(rfm), 2)} ms CPU per refresh, ${fmt(pgShare(rfm) * 100)} % of the SUT's CPU.`);
    if (rfApiRuns.length) p(`With the access token a JWT for the API (a client with \`accessTokenAudience: api\`, README "Access tokens for your APIs"): ${fmt(durable(rfApiRuns), 1)} durable commits and ${fmt(perOp(rfApiRuns, 'reads'), 1)} reads per refresh (${statementList(rfApiRuns)}); PostgreSQL ${fmt(pgMsPer(rfApiRuns), 2)} ms CPU per refresh, ${fmt(pgShare(rfApiRuns) * 100)} % of the SUT's CPU; gateway and PostgreSQL together ${pctDiff(pairedRfApi.median, 1)} refreshes per SUT CPU-second (paired).`);
    p();
  }

  // ------------------------------------------------------------------ flood
  if (flood) {
    p('## Login flood: do cheap endpoints starve?');
    p();
    p(`An open-model probe (${flood.ratePerTarget}/s per endpoint, its own process on CPU 1) while the gateway is idle, then while logins run back to back (${flood.levels.map((l) => `${l} in flight`).join(', then ')}; the hashing pool has 1 slot on one core)${flood.rounds && flood.rounds > 1 ? `, in ${flood.rounds} rounds; each figure is the median over the rounds, and the worst endpoint's p99 per round was ${['idle', ...flood.levels.map(String)].filter((k) => flood.worstP99?.[k]).map((k) => [k, flood.worstP99![k]!] as const).map(([k, xs]) => `${k === 'idle' ? 'idle' : `${k} in flight`} ${xs.map((x) => ms(x)).join(' / ')} ms`).join('; ')}` : ''}.`);
    p();
    const names = Object.keys(flood.idle);
    table(['Endpoint', 'Idle p50 / p99 / max (ms)', ...flood.levels.map((l) => `${l} logins in flight: p50 / p99 / max`)], names.map((n) => [
      n, `${ms(flood.idle[n]!.p50)} / ${ms(flood.idle[n]!.p99)} / ${ms(flood.idle[n]!.max)}`,
      ...flood.levels.map((l) => { const x = flood.underFlood[String(l)]?.[n]; return x ? `${ms(x.p50)} / ${ms(x.p99)} / ${ms(x.max)}` : '–'; }),
    ]));
  }

  // ------------------------------------------------------------------ memory
  p('## Memory and storage');
  p();
  table(['Process', 'Ready in (CPU)', 'Idle RSS (MiB)', 'After its load: RSS / peak (MiB)', 'Live heap after GC (MiB)'],
    Object.entries(r.memory).map(([, e]) => [e.label, `${fmt(e.startMs / 1000, 1)} s (${fmt(e.startCpuS ?? NaN, 1)} CPU-s)`, mib(e.idle.rssMiB), `${mib(e.afterLoad?.rssMiB)} / ${mib(e.afterLoad?.hwmMiB)}`, ms(e.afterLoad?.heapUsedMiB ?? e.idle.heapUsedMiB)]));
  p('Start times are wall-clock under load, with the SUTs booting concurrently (one CPU each, Node\'s compile cache warm after the first run); the CPU-seconds of the start-up are the steadier figure.');
  p();
  for (const e of [gwMem, liteMem]) {
    if (!e?.sessions) continue;
    const s = e.sessions;
    p(`- ${e.label}: ${fmt(s.count)} sessions written through the oidc-provider adapter (copies of a real login's Session row) in ${fmt(s.createMs / 1000, 1)} s, then each read back through \`provider.Session.find\`: `
      + `RSS ${mib(s.before.rssMiB)} → ${mib(s.afterCreate.rssMiB)} → ${mib(s.afterTouch.rssMiB)} MiB, i.e. **${fmt(s.rssPer100kAfterReadMiB)} MiB per 100,000 sessions** `
      + `(live heap ${fmt(s.heapPer100kMiB, 1)} MiB per 100,000, most of it the bench's own list of ids); **${fmt(s.dbBytesPerSession)} database bytes per session** (oidc_models row + indexes).`);
  }
  if (manyMem?.clientsInstantiated) {
    const c = manyMem.clientsInstantiated;
    p(`- 20,000 static clients in the config: the gateway is ready in ${fmt(manyMem.startMs / 1000, 1)} s with ${mib(manyMem.idle.rssMiB)} MiB idle RSS; after ${fmt(c.count)} of them were used once, ${mib(c.rssMiB)} MiB (${fmt(c.perClientKiB, 1)} KiB per instantiated client — oidc-provider keeps every static client it instantiated). `
      + `First use of a client: ${fmt(r.scenarios.many?.coldPerCpuS ?? NaN)} grants per SUT CPU-s.`);
  }
  p();

  // ------------------------------------------------------------------ SAML
  if (soak?.cc) {
    p('## Soak');
    p();
    p(`Client credentials, refresh with rotation and password logins at the same time, open model (latency from the scheduled start), ${soakLoad(soak)}, for ${fmt((soak.soakSeconds ?? soak.seconds) / 60, 1)} minutes on the PostgreSQL gateway. A login is a whole flow (5 requests and the token call), timed from its scheduled start; its slowest request is timed from its send.`);
    p();
    const over = (l: Record<string, number>) => l.over1s !== undefined ? fmt(l.over1s) : (l.max! > 1000 ? '≥ 1' : '0');
    const row = (label: string, rate: string, completed: string, errors: string, l: Record<string, number>) => [label, rate, completed, errors, ms(l.p50!), ms(l.p99!), ms(l['p99.9']!), ms(l.max!), over(l)];
    const lines = (['cc', 'refresh', 'login'] as const).map((k) => {
      const x = soak[k];
      return row({ cc: 'client credentials', refresh: 'refresh with rotation', login: 'password login (whole flow)' }[k], fmt(soak.rates[k]!), fmt(x.completed), fmt(x.errors), x.latency);
    });
    const loginReq = soak.login.sampled?.request;
    if (loginReq) lines.push(row('… its slowest request, per flow', '', fmt(loginReq.count ?? NaN), '', loginReq));
    const loginPwd = soak.login.sampled?.password;
    if (loginPwd) lines.push(row('… its password POST (waits for the hash)', '', fmt(loginPwd.count ?? NaN), '', loginPwd));
    table(['Workload', 'Offered /s', 'Completed', 'Errors', 'p50', 'p99', 'p99.9', 'max (ms)', 'over 1 s'], lines);
    p();
    const moments = slowMoments(soak);
    if (moments) { p(moments); p(); }
  }
  p('## SAML');
  p();
  p(`- Bare samlify ${r.env.packages.samlify} (xml-crypto ${r.env.packages['xml-crypto']}) build + sign of a login Response, RSA-2048: assertion signed ${range(r.micro['samlify-assertion'] ?? summarize([]))}, assertion and response signed (the gateway's default) ${range(r.micro['samlify-both'] ?? summarize([]))} per CPU-s.`);
  if (samlSso.n) {
    const sm = runsOf(r, 'saml', 'sso-signed-in', 'gw-pg');
    p(`- Gateway, SP-initiated SSO over the Redirect binding (unsigned AuthnRequest), browser already signed in: ${range(samlSso, 1)} round trips per SUT CPU-s (${fmt(1000 / samlSso.median, 1)} ms CPU each, ${fmt(median(sm.map((m) => (m.extra.requests ?? NaN) / m.completed)), 1)} HTTP requests, ${fmt(durable(sm), 1)} durable commits and ${fmt(perOp(sm, 'reads'), 1)} reads); `
      + `with a password login each time: ${range(samlLogin, 1)} per SUT CPU-s. ${r.scenarios.saml?.wip ? 'The SAML code was uncommitted work in progress when this ran.' : ''}`);
    if (samlAssert.n) p(`- The same round trip to an SP registered with \`sign: assertion\`: ${range(samlAssert, 1)} per SUT CPU-s (${fmt(1000 / samlAssert.median, 1)} ms CPU each).`);
    const pm = runsOf(r, 'saml', 'sso-signed-in-post', 'gw-pg');
    if (samlPostFig.n) p(`- The same round trip over HTTP-POST from the SP's site (the browser's first post carries no SameSite=Lax cookie; the gateway's page posts it again with them): ${range(samlPostFig, 1)} per SUT CPU-s (${fmt(1000 / samlPostFig.median, 1)} ms CPU each, ${fmt(median(pm.map((m) => (m.extra.requests ?? NaN) / m.completed)), 1)} HTTP requests, ${fmt(durable(pm), 1)} durable commits).`);
    p(`- Statements per SSO round trip: ${statementList(sm)}.`);
  } else p(`- Gateway SAML SSO: ${r.scenarios.saml?.note ?? 'not measured in this run.'}`);
  p();

  // ------------------------------------------------------------------ profiles
  const profs = Object.entries(r.profiles);
  if (profs.length) {
    p('## CPU profiles (main thread, `--profile`)');
    p();
    p('Sampled with the inspector around one extra load window (the same as `--cpu-prof`); self time by owner, as a share of the busy main thread. The gateway\'s, and (`cc-keepalive-bare-fastify`) bare oidc-provider mounted in Fastify under the same load, for a side-by-side look at what the gateway adds. Work on the libuv pool is not in these: argon2, RSA signatures, and bare oidc-provider\'s ES256 signatures (WebCrypto runs them there; the gateway makes elliptic-curve signatures on the main thread, src/protocols/oidc/inline-signing-keys.ts, so they are in its profile).');
    p();
    for (const [k, v] of profs) {
      p(`**${k}** (${fmt(v.busyMs)} ms busy of ${fmt(v.sampledMs)} ms${v.ops ? `, ${fmt(v.ops)} operations: ${fmt(busyUsPerOp(v))} µs of busy main thread each, wall time, preemption by other threads included` : ''}; \`${v.file}\`): ${v.byCategory.slice(0, 12).map(([n, f]) => `${n} ${fmt(f * 100, 1)} %`).join(', ')}.`);
      p();
    }
  }

  // ------------------------------------------------------------------ analysis
  p('## Misses, causes, and product changes');
  p();
  for (const line of analysisLines()) p(`- ${line}`);
  p();

  if (r.notes.length || r.failures.length) {
    p('## Notes and failures');
    p();
    for (const n of r.notes) p(`- ${n}`);
    for (const f of r.failures) p(`- FAILURE: ${f.split('\n')[0]}`);
    p();
  }

  // ------------------------------------------------------------------ README section
  p('## Performance (section for the README)');
  p();
  p('```markdown');
  p('## Performance');
  p();
  p('`npm run bench` starts the gateway (on PostgreSQL, and on PGlite for reference) and bare `oidc-provider`, pins each to one CPU core, drives them from a load generator on another core, and reports work per **CPU-second of the gateway and its PostgreSQL backends** (kernel per-process accounting), latency at 70 % of peak, memory and database cost; `npm run bench:quick` is a two-minute smoke run. Full method and figures: [bench/REPORT.md](bench/REPORT.md).');
  p();
  p(`Last full run (${r.startedAt.slice(0, 10)}): a 2-vCPU KVM machine that was busy with other work, so the measured figures are depressed (bare oidc-provider ran at 1/${fHttp.toFixed(1)} of its quiet rate); "≈ quiet" scales each figure by its same-run baseline. Per core-second of the gateway and its PostgreSQL:`);
  p();
  p('| workload | measured | ≈ quiet core | for reference |');
  p('|---|---|---|---|');
  p(`| client credentials (JWT ES256), keep-alive | ${fmt(gwCc.median)} | ${fmt(quiet(gwCc.median))} | ${fmt(pairedCc.median * 100)} % of bare oidc-provider's rate |`);
  p(`| … 20,000 clients, picked at random | ${fmt(manyRnd.median)} | ${fmt(qMany)} | ${pctDiff(pairedMany.median, 1)} vs one client |`);
  p(`| … new TLS connection per grant | ${fmt(gwTls.median)} | ${fmt(gwTls.median * fTls)} | Keycloak 26 publishes 120 per vCPU |`);
  p(`| refresh with rotation | ${fmt(rfKa.median)} | ${fmt(qRfKa)} | Keycloak 26: 120 per vCPU (TLS per request) |`);
  p(`| password login, argon2id 19 MiB × 2 | ${fmt(lgPwd.median, 1)} | ${fmt(quietLoginRate(lgPwd.median))} | Keycloak 26: 15 per vCPU |`);
  if (samlAssert.n) p(`| SAML SSO round trip, signed in, assertion signed | ${fmt(samlAssert.median, 1)} | ${fmt(qSamlAssert)} | |`);
  if (samlSso.n) p(`| SAML SSO round trip, signed in, assertion and response signed (default) | ${fmt(samlSso.median, 1)} | ${fmt(qSaml)} | |`);
  p();
  p(`Memory: ${mib(r.memory['gw-pg-defaults']?.idle.rssMiB ?? gwMem?.idle.rssMiB)} MiB RSS idle${r.memory['gw-pg-defaults'] ? ` with the defaults, ${mib(gwMem?.idle.rssMiB)} MiB with SAML SPs` : ''}. Sessions live in the database (${fmt(gwMem?.sessions?.dbBytesPerSession ?? NaN)} bytes each), not in the process. Password hashing runs off the event loop, at most one hash per core at a time.`);
  p('```');
  p();
  return `${L.join('\n')}\n`;
}

function mapS(s: Summary, f: (x: number) => number): Summary { return summarize(s.runs.map(f)); }

/** Medians of run-by-run ratios a/b of two SUTs in the same scenario and variant (run i of each, measured back to back). */
function pairedRatio(r: Results, scenario: string, variant: string, a: string, b: string): Summary {
  const A = runsOf(r, scenario, variant, a); const B = runsOf(r, scenario, variant, b);
  return summarize(A.map((m) => { const o = B.find((x) => x.run === m.run); return o ? m.perCpuS / o.perCpuS : NaN; }));
}
/** CPU per operation of variant a minus that of b, run by run on one SUT (ms). */
function pairedDiffMs(r: Results, scenario: string, a: string, b: string, sut?: string): Summary {
  const A = runsOf(r, scenario, a, sut); const B = runsOf(r, scenario, b, sut);
  return summarize(A.map((m) => { const o = B.find((x) => x.run === m.run); return o ? 1000 / m.perCpuS - 1000 / o.perCpuS : NaN; }));
}

function pairedRatioVariants(r: Results, scenario: string, a: string, b: string, sut?: string): Summary {
  const A = runsOf(r, scenario, a, sut); const B = runsOf(r, scenario, b, sut);
  return summarize(A.map((m) => { const o = B.find((x) => x.run === m.run); return o ? m.perCpuS / o.perCpuS : NaN; }));
}

function statementPer(ms: Measurement[], key: string): number {
  let n = 0; let v = 0;
  for (const m of ms) { if (!m.db) continue; n += m.completed; v += m.db.statements[key] ?? 0; }
  return v / n;
}

function statementList(ms: Measurement[]): string {
  const tot: Record<string, number> = {}; let n = 0;
  for (const m of ms) { if (!m.db) continue; n += m.completed; for (const [k, v] of Object.entries(m.db.statements)) tot[k] = (tot[k] ?? 0) + v; }
  // Statements seen less than once per 20 operations are the sweeper's and the like, not the operation's.
  return Object.entries(tot).filter(([, v]) => v / n >= 0.05).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v / n, 1)}`).join(', ');
}

const stallsOf = (r: Results) => (r.scenarios.hostStalls ?? {}) as Partial<Record<'start' | 'end', Record<string, StallResult>>>;

/** Rows of the host-stall table (bench/sut/stall-probe.ts), start and end of the run. */
function hostStallRows(r: Results): string[][] {
  return (['start', 'end'] as const).flatMap((when) => Object.entries(stallsOf(r)[when] ?? {}).map(([cpu, s]) => [
    when === 'start' ? 'before the SUTs' : 'after them', cpu.replace('cpu', ''), fmt(s.wallMs / 1000, 1), fmt(s.lostMs), fmt(s.gaps), fmt(s.over5), fmt(s.over20), fmt(s.maxMs, 1),
    s.worst.map(([at, g]) => `${fmt(at / 1000, 1)}: ${fmt(g, 1)}`).join(', '),
  ]));
}

/** The longest gap any host-stall probe saw, if the run measured them. */
function longestStall(r: Results): number | undefined {
  const all = Object.values(stallsOf(r)).flatMap((x) => Object.values(x ?? {}).map((s) => s.maxMs));
  return all.length ? Math.max(...all) : undefined;
}
