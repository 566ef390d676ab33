// The event loop answers every request; libuv's thread pool does the bulk work that must not hold it up,
// argon2id hashes above all (users/passwords.ts). When the process has fewer cores than runnable threads
// (a container limited to one CPU, the benchmark's pinned core), the kernel shares the CPU between the
// event loop and the hashing threads as equals, so a token, JWKS or health request can wait behind a slice
// of somebody's hash. With the pool's threads at a lower priority (nice +10), the loop runs first whenever
// it has work, and the hashes get the cycles it does not use. Measured (bench/REPORT.md, baselines): with
// hashes back to back on the loop's core, the loop's lateness p90 1.6 → 0.2 ms, p99 3.9 → 2.5 ms, and no
// fewer hashes done.
//
// Linux only: there a thread is a task with its own nice value (setpriority on its thread id), and libuv
// names its pool threads "libuv-worker". Elsewhere, or if anything fails, nothing changes.
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { randomFill } from 'node:crypto';

export const POOL_NICE = 10;

/** libuv's pool threads of this process (thread ids), started first if they were not yet. */
async function poolThreads(): Promise<number[]> {
  // libuv creates all of its pool threads at the pool's first use.
  await new Promise<void>((resolve) => randomFill(Buffer.alloc(1), () => resolve()));
  const ids: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'libuv-worker') ids.push(Number(tid));
    } catch { /* the thread ended meanwhile */ }
  }
  return ids;
}

/** Lowers the priority of libuv's pool threads to `nice`; answers how many threads it changed. */
export async function lowerPoolPriority(nice = POOL_NICE): Promise<number> {
  if (process.platform !== 'linux') return 0;
  let changed = 0;
  try {
    for (const tid of await poolThreads()) {
      if (getPriority(tid) >= nice) continue;
      setPriority(tid, nice);
      changed++;
    }
  } catch { /* /proc not mounted, or not permitted: leave the priorities as they are */ }
  return changed;
}
