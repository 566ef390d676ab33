// libuv's pool threads yield the CPU to the event loop (src/platform/pool-priority.ts): after the call,
// every pool thread is at nice 10, nothing else changed, and work on the pool (an argon2id hash) still runs.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { lowerPoolPriority, POOL_NICE } from '../../src/platform/pool-priority.ts';
import { createPasswords } from '../../src/users/passwords.ts';

const threads = () => readdirSync('/proc/self/task').map((tid) => ({ tid: Number(tid), name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), nice: getPriority(Number(tid)) }));

t.test('the pool threads at nice 10, the others untouched', { skip: process.platform !== 'linux' ? 'thread priorities are set on Linux only' : false }, async (t) => {
  const others = threads().filter((x) => x.name !== 'libuv-worker');
  const changed = await lowerPoolPriority();
  const pool = threads().filter((x) => x.name === 'libuv-worker');
  t.ok(pool.length >= 1, `the pool was started (${pool.length} threads)`);
  t.equal(changed, pool.length, 'each of them changed');
  t.ok(pool.every((x) => x.nice === POOL_NICE), 'all at nice 10');
  for (const o of others) t.equal(getPriority(o.tid), o.nice, `${o.name} (${o.tid}) unchanged`);
  t.equal(await lowerPoolPriority(), 0, 'a second call changes nothing');
  const passwords = createPasswords({ memoryKiB: 1024, iterations: 1, parallelism: 1 });
  t.ok(await passwords.verify(await passwords.hash('pw'), 'pw'), 'a hash on the pool still completes');
});
