// Bench-only: how long the machine itself stops a running thread. Spins on one pinned CPU, reading the
// clock back to back; any gap over 1 ms is time the thread did not run (the kernel gave the CPU to something
// else, or the hypervisor did not run this virtual CPU). Run on every CPU at once on the idle machine, this is
// the floor under any latency the SUT can show: a request in flight during a 40 ms gap takes 40 ms more.
import { serveRpc, emit } from '../lib/proc.ts';

export interface StallResult { wallMs: number; lostMs: number; gaps: number; over5: number; over20: number; maxMs: number; worst: Array<[atMs: number, gapMs: number]> }

function spin(durationMs: number): StallResult {
  const t0 = performance.now();
  let last = t0;
  const gaps: Array<[number, number]> = [];
  for (;;) {
    const now = performance.now();
    if (now - last > 1) gaps.push([now - t0, now - last]);
    last = now;
    if (now - t0 >= durationMs) break;
  }
  const worst = [...gaps].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([at, g]) => [Math.round(at), Math.round(g * 10) / 10] as [number, number]);
  return {
    wallMs: last - t0, lostMs: gaps.reduce((s, g) => s + g[1], 0), gaps: gaps.length,
    over5: gaps.filter((g) => g[1] > 5).length, over20: gaps.filter((g) => g[1] > 20).length, maxMs: worst[0]?.[1] ?? 0, worst,
  };
}

serveRpc({ spin: (p: { durationMs: number }) => spin(p.durationMs) });
emit({ event: 'ready' });
