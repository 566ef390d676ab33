// Closed-model (N workers back to back: the peak) and open-model (arrivals at a fixed rate, latency from the
// scheduled start, so a slow server cannot hide its queue: no coordinated omission) load loops.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Samples, percentiles } from '../lib/stats.ts';

export interface LoopOptions { concurrency: number; durationMs: number; rate?: number; maxInFlight?: number; /** closed model: stop after this many */ total?: number }
export interface LoopResult {
  completed: number; errors: number; firstError?: string; wallSeconds: number;
  latency: Record<string, number>; extra: Record<string, number>;
  /** Per iteration values the iteration returned under SAMPLED-prefixed keys, as percentiles (with over1s), by key. */
  sampled?: Record<string, Record<string, number>>;
  /**
   * Open model: when the iterations slower than SLOW_MS were scheduled, in seconds from the start, with their
   * latency (at most MAX_SLOW, the slowest kept): lined up across the loops of one run, they tell a stall of
   * the whole machine or process (every workload at once) from one of a workload's own.
   */
  slow?: Array<[at: number, ms: number]>;
}

export type Iteration = (worker: number) => Promise<Record<string, number> | void>;

/** An iteration's value under `${SAMPLED}name` is kept per iteration (LoopResult.sampled.name), not summed into extra. */
export const SAMPLED = 'sample:';
const SLOW_MS = 250;
const MAX_SLOW = 200;

export async function runLoop(o: LoopOptions, iteration: Iteration): Promise<LoopResult> {
  const lat = new Samples();
  let completed = 0; let errors = 0; let firstError: string | undefined;
  const extra: Record<string, number> = {};
  const sampled = new Map<string, Samples>();
  const slow: Array<[number, number]> = [];
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  const one = async (worker: number, scheduled: number) => {
    try {
      const x = await iteration(worker);
      if (x) {
        for (const [k, v] of Object.entries(x)) {
          if (!k.startsWith(SAMPLED)) { extra[k] = (extra[k] ?? 0) + v; continue; }
          const name = k.slice(SAMPLED.length);
          if (!sampled.has(name)) sampled.set(name, new Samples());
          sampled.get(name)!.push(v);
        }
      }
      completed++;
      const ms = performance.now() - scheduled;
      lat.push(ms);
      if (o.rate && ms > SLOW_MS) keepSlow(slow, [(scheduled - t0) / 1000, ms]);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  };
  if (!o.rate) {
    let started = 0;
    const total = o.total ?? Infinity;
    await Promise.all(Array.from({ length: o.concurrency }, async (_, w) => {
      while (performance.now() < end && started < total) { started++; await one(w, performance.now()); }
    }));
  } else {
    const interval = 1000 / o.rate;
    // The driver's own lateness: how long after its scheduled start each request was sent, and the load
    // process's event-loop delay. Both count in the latency above (it runs from the scheduled start), so
    // they say how much of a tail is the driver's (or the machine's) rather than the server's.
    const sendLate = new Samples();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const max = o.maxInFlight ?? Math.max(64, o.concurrency);
    const inflight = new Set<Promise<void>>();
    let k = 0; let worker = 0;
    for (;;) {
      const scheduled = t0 + k * interval;
      if (scheduled >= end) break;
      const now = performance.now();
      if (scheduled > now) await new Promise((r) => setTimeout(r, scheduled - now));
      while (inflight.size >= max) await Promise.race(inflight);
      sendLate.push(performance.now() - scheduled);
      const p = one(worker++ % max, scheduled).finally(() => inflight.delete(p));
      inflight.add(p);
      k++;
    }
    await Promise.all(inflight);
    loop.disable();
    const late = percentiles(sendLate.values());
    extra.driverSendLateP99 = late.p99 ?? NaN;
    extra.driverSendLateMax = late.max ?? NaN;
    extra.driverLoopDelayP99 = loop.percentile(99) / 1e6;
    extra.driverLoopDelayMax = loop.max / 1e6;
  }
  const withOver1s = (values: ArrayLike<number>) => {
    let over1s = 0;
    for (let i = 0; i < values.length; i++) if (values[i]! > 1000) over1s++;
    return { ...percentiles(values), over1s };
  };
  const out: LoopResult = { completed, errors, firstError, wallSeconds: (performance.now() - t0) / 1000, latency: withOver1s(lat.values()), extra };
  if (sampled.size) out.sampled = Object.fromEntries([...sampled].map(([k, v]) => [k, withOver1s(v.values())]));
  if (o.rate) out.slow = slow.sort((a, b) => a[0] - b[0]);
  return out;
}

/** Keeps the MAX_SLOW slowest. */
function keepSlow(slow: Array<[number, number]>, e: [number, number]) {
  if (slow.length < MAX_SLOW) { slow.push(e); return; }
  let min = 0;
  for (let i = 1; i < slow.length; i++) if (slow[i]![1] < slow[min]![1]) min = i;
  if (slow[min]![1] < e[1]) slow[min] = e;
}
