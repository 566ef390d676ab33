// Log lines reach stdout once per turn of the event loop (src/platform/logger.ts TurnBuffered): in order,
// nothing lost when the process exits or crashes, and a burst larger than the buffer is written at once.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TurnBuffered, isoTime } from '../../src/platform/logger.ts';
import { ROOT } from '../helpers/process.ts';

t.test('the lines of one turn go out in one write, in order, after the turn', async (t) => {
  const writes: string[] = [];
  const dest = new TurnBuffered({ write: (c: string) => writes.push(c) });
  dest.write('a\n'); dest.write('b\n'); dest.write('c\n');
  t.same(writes, [], 'nothing written inside the turn');
  await new Promise((r) => setImmediate(r));
  t.same(writes, ['a\nb\nc\n'], 'one write with all three lines');
  dest.write('d\n');
  await new Promise((r) => setImmediate(r));
  t.same(writes, ['a\nb\nc\n', 'd\n'], 'the next turn: its own write');
  await new Promise((r) => setImmediate(r));
  t.equal(writes.length, 2, 'an idle turn writes nothing');
});

t.test('a burst past the buffer size is written at once', async (t) => {
  const writes: string[] = [];
  const dest = new TurnBuffered({ write: (c: string) => writes.push(c) });
  const line = `${'x'.repeat(1023)}\n`;
  for (let i = 0; i < 65; i++) dest.write(line);
  t.equal(writes.length, 1, 'written without waiting for the turn to end');
  t.equal(writes[0]!.length, 65 * 1024);
  dest.write('tail\n');
  dest.flush();
  t.same(writes.slice(1), ['tail\n'], "pino's flush() writes what is buffered");
});

t.test('nothing is lost when the process exits or crashes right after logging', async (t) => {
  const logger = join(ROOT, 'src/platform/logger.ts');
  const script = (end: string) => `import { createLogger } from ${JSON.stringify(logger)};
const log = createLogger('info');
for (let i = 0; i < 3; i++) log.info({ i }, 'line');
${end}`;
  const cases: Array<[string, string, number]> = [
    ['process.exit()', 'process.exit(3);', 3],
    ['an uncaught exception', "throw new Error('boom');", 1],
    ['a rejected promise nobody handles', "void Promise.reject(new Error('boom'));", 1],
    ['the loop running dry', '', 0],
  ];
  for (const [what, end, code] of cases) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(end)], { encoding: 'utf8' });
    t.equal(r.status, code, `${what}: exit code`);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { i: number; msg: string });
    t.same(lines.map((l) => l.i), [0, 1, 2], `${what}: every line on stdout, in order`);
  }
});

t.test('isoTime is the ISO time pino would write', async (t) => {
  const real = Date.now;
  t.teardown(() => { Date.now = real; });
  for (const ms of [0, 7, 42, 999, 1000, 1_733_456_789_000, 1_733_456_789_009, 1_733_456_789_099, 1_733_456_789_999, 1_733_456_790_001]) {
    Date.now = () => ms;
    t.equal(isoTime(), `,"time":"${new Date(ms).toISOString()}"`, String(ms));
  }
});
