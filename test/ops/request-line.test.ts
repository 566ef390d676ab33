// The request line is written as text (src/platform/logger.ts requestLineWriter) instead of through pino's
// serializer: it must be the line pino itself writes for the same fields, byte for byte (but the time, taken
// a moment apart), honour the level, and fall back to pino for what it does not build itself.
import t from 'tap';
import { createLogger, requestLineWriter, type RequestLine } from '../../src/platform/logger.ts';

function capture(level = 'info') {
  const lines: string[] = [];
  const log = createLogger(level, { write: (s: string) => { lines.push(s); } });
  // As platform/request-log.ts makes it: a child without the path redaction.
  return { lines, access: log.child({}, { redact: { paths: [], censor: '[redacted]' } }) };
}
const noTime = (s: string) => s.replace(/"time":"[^"]*"/, '"time":"T"');

const CASES: RequestLine[] = [
  { reqId: '0b5e6c1e-1f7b-4c4e-9a53-2b2f7c1d9e11', method: 'POST', url: '/oidc/token', ip: '127.0.0.1', status: 200, ms: 0.4 },
  { reqId: 'caller.id:1-2', method: 'GET', url: '/oidc/auth?client_id=a&state=[redacted]', ip: '::1', status: 303, ms: 12 },
  { reqId: 'x', method: 'GET', url: '/p?q="quoted"\\back\u0001\u2028é😀', ip: '10.0.0.1', status: 404, ms: 1234.5 },
  { reqId: 'y', method: 'DELETE', url: '/', ip: '', status: 503, ms: 0 },
];

t.test('the same bytes as pino for the same fields', async (t) => {
  for (const c of CASES) {
    const mine = capture();
    requestLineWriter(mine.access)(c);
    const theirs = capture();
    const line = { reqId: c.reqId, req: { method: c.method, url: c.url, ip: c.ip }, status: c.status, ms: c.ms };
    if (c.status >= 500) theirs.access.error(line, 'request'); else theirs.access.info(line, 'request');
    t.equal(mine.lines.length, 1);
    t.equal(noTime(mine.lines[0]!), noTime(theirs.lines[0]!), `${c.method} ${c.status}`);
    t.same(JSON.parse(mine.lines[0]!).req, line.req, 'valid JSON with the fields as given');
  }
});

t.test('the level is honoured, and read per line', async (t) => {
  const c = capture('warn');
  const write = requestLineWriter(c.access);
  write(CASES[0]!);
  t.equal(c.lines.length, 0, 'no 200 line at warn');
  write(CASES[3]!);
  t.equal(c.lines.length, 1, 'a 5xx line is an error');
  t.equal(JSON.parse(c.lines[0]!).level, 50);
  c.access.level = 'info';
  write(CASES[0]!);
  t.equal(c.lines.length, 2, 'a level changed at run time applies');
});

t.test('what it does not build itself goes through the logger', async (t) => {
  const c = capture();
  requestLineWriter(c.access)({ ...CASES[0]!, ms: Number.NaN });
  t.equal(c.lines.length, 1);
  t.same(JSON.parse(c.lines[0]!).req, { method: 'POST', url: '/oidc/token', ip: '127.0.0.1' }, 'the same shape through pino');
  const calls: unknown[][] = [];
  const fake = { info: (...a: unknown[]) => calls.push(['info', ...a]), error: (...a: unknown[]) => calls.push(['error', ...a]) };
  requestLineWriter(fake as never)(CASES[3]!);
  t.same(calls, [['error', { reqId: 'y', req: { method: 'DELETE', url: '/', ip: '' }, status: 503, ms: 0 }, 'request']], 'a logger without pino\'s symbols is called as before');
});
