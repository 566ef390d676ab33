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
 * pino's isoTime, computed once per millisecond: the request line is written for every request (thousands
 * a second under load), and building a Date and its ISO string for each was ≈ 0.5 % of a grant. Same output.
 */
let lastMs = -1;
let lastTime = '';
export function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) { lastMs = now; lastTime = `,"time":"${new Date(now).toISOString()}"`; }
  return lastTime;
}

/**
 * Without a destination: stdout, written synchronously. pino's default stream writes asynchronously, on
 * libuv's thread pool: at moderate load (requests not arriving back to back) each request line became its
 * own hand-off to a pool thread and back. A 3-run A/B (bench/REPORT.md): 339 → 302 µs of CPU per
 * client-credentials grant at 70 % of peak (−11 %), 254 → 238 µs in a flood (−6 %). A line is on
 * stdout when the call returns, so a crash loses none; if whatever reads stdout stops reading, the process
 * waits for it (sonic-boom retries the write), where the asynchronous stream would have buffered without bound.
 */
export function createLogger(level: string, destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
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
