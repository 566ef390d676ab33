// pino JSON logs. Secrets never reach them: known secret fields are redacted by path, URLs lose the values
// of sensitive query parameters, and request/response bodies are never logged.
import pino, { type Logger, type DestinationStream } from 'pino';

const SENSITIVE_PARAMS = new Set(['code', 'duo_code', 'state', 'samlrequest', 'samlresponse', 'relaystate', 'signature',
  'id_token_hint', 'token', 'refresh_token', 'access_token', 'client_secret', 'client_assertion', 'code_verifier',
  'password', 'login_hint', 'nonce', 'request', 'xsrf', 'csrf', 'logout_hint']);

/** The URL with the values of sensitive query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const out: string[] = [];
  for (const [k, v] of params) out.push(`${encodeURIComponent(k)}=${SENSITIVE_PARAMS.has(k.toLowerCase()) ? '[redacted]' : encodeURIComponent(v)}`);
  return `${url.slice(0, q)}?${out.join('&')}`;
}

export const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'clientSecret', '*.clientSecret', '*.*.clientSecret',
  'client_secret', '*.client_secret', 'code', '*.code', 'token', '*.token', 'state', '*.state',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie',
  'config.secret', 'config.database.url', 'config.mfa.duo.clientSecret', 'config.metrics.token', 'config.oidc.clients[*].clientSecret',
];

/**
 * pino's isoTime, built from a per-second prefix: the request line is written for every request (thousands
 * a second under load, so nearly every line falls in a new millisecond), and building a Date and its ISO
 * string for each was ≈ 1 % of a client-credentials grant. Same output.
 */
let lastS = -1;
let prefix = '';
export function isoTime(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== lastS) { lastS = s; prefix = `,"time":"${new Date(s * 1000).toISOString().slice(0, 20)}`; }
  const ms = now - s * 1000;
  return `${prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

/** Buffered lines are written at once past this size, without waiting for the end of the turn. */
const TURN_BUFFER_MAX = 64 * 1024;

/**
 * A destination that writes the lines logged in one turn of the event loop with one write, from a
 * setImmediate: under load, one turn handles many requests (one request line each), and a write per line
 * was ≈ 3.5 % of a client-credentials grant (bench/REPORT.md, CPU profile). The write itself is `out`'s
 * (sonic-boom, synchronous: it retries EAGAIN and partial writes, and if whatever reads stdout stops
 * reading, the process waits for it rather than buffering without bound).
 *
 * What a crash can lose: only the lines of the current turn, and only when the process is killed outright
 * (SIGKILL, the OOM killer). process.exit() and an uncaught exception both emit 'exit', which writes them.
 */
export class TurnBuffered {
  private lines: string[] = [];
  private bytes = 0;
  private due = false;
  private readonly out: { write(chunk: string): unknown };
  constructor(out: { write(chunk: string): unknown }) {
    this.out = out;
    process.on('exit', () => this.flushSync());
  }
  write(line: string): void {
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes > TURN_BUFFER_MAX) this.flushSync();
    else if (!this.due) { this.due = true; setImmediate(this.drain); }
  }
  private readonly drain = () => { this.due = false; this.flushSync(); };
  /** pino's logger.flush(). */
  flush(cb?: (err?: Error) => void): void { this.flushSync(); cb?.(); }
  flushSync(): void {
    if (this.lines.length === 0) return;
    const chunk = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    this.out.write(chunk);
  }
}

export interface RequestLine { reqId: string; method: string; url: string; ip: string; status: number; ms: number }

/**
 * Writes the request line (platform/request-log.ts) as text: its fields are fixed, so the line is built here
 * with the bytes pino's own `info(line, 'request')` (`error` for a 5xx) writes for them, instead of going
 * through pino's generic serializer for every request. The whole line was ≈ 5 % of a client-credentials
 * grant's CPU (bench/REPORT.md, the same-process ablation). The logger's own stream, bindings and timestamp
 * are used through pino's exported `symbols`, and its level is read per line (it can change at run time);
 * a logger without them, or a value pino would write differently (a field that is not a string, a time that
 * is not finite), goes through the logger itself. test/ops/request-line.test.ts compares both outputs.
 */
export function requestLineWriter(logger: Logger): (l: RequestLine) => void {
  const l = logger as unknown as Record<symbol, unknown> & { levelVal: number };
  const stream = l[pino.symbols.streamSym] as { write(s: string): unknown } | undefined;
  const time = l[pino.symbols.timeSym] as (() => string) | undefined;
  const chindings = l[pino.symbols.chindingsSym];
  const viaPino = (x: RequestLine) => {
    const line = { reqId: x.reqId, req: { method: x.method, url: x.url, ip: x.ip }, status: x.status, ms: x.ms };
    if (x.status >= 500) logger.error(line, 'request'); else logger.info(line, 'request');
  };
  if (!stream || typeof stream.write !== 'function' || typeof time !== 'function' || typeof chindings !== 'string') return viaPino;
  const text = (v: unknown) => typeof v === 'string';
  return (x) => {
    const level = x.status >= 500 ? 50 : 30;
    if (l.levelVal > level) return;
    if (!text(x.reqId) || !text(x.method) || !text(x.url) || !text(x.ip) || !Number.isFinite(x.status) || !Number.isFinite(x.ms)) return viaPino(x);
    stream.write(`{"level":${level}${time()}${chindings},"reqId":${JSON.stringify(x.reqId)},"req":{"method":${JSON.stringify(x.method)},"url":${JSON.stringify(x.url)},"ip":${JSON.stringify(x.ip)}},"status":${x.status},"ms":${x.ms},"msg":"request"}\n`);
  };
}

/**
 * Without a destination: stdout, written synchronously (sonic-boom, sync), one write per turn of the
 * event loop (TurnBuffered). pino's default stream writes asynchronously, on libuv's thread pool: at
 * moderate load (requests not arriving back to back) each request line became its own hand-off to a pool
 * thread and back. A 3-run A/B (bench/REPORT.md): 339 → 302 µs of CPU per client-credentials grant at
 * 70 % of peak (−11 %), 254 → 238 µs in a flood (−6 %).
 */
export function createLogger(level: string, destination: DestinationStream = new TurnBuffered(pino.destination({ dest: 1, sync: true }))): Logger {
  return pino({
    level,
    base: { service: 'gatehouse' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      err: pino.stdSerializers.err,
    },
    timestamp: isoTime,
  }, destination);
}
