// One measured window: the load generator runs, and the system under test's CPU-seconds are read from the
// kernel before and after — the gateway process plus, on PostgreSQL, its backend processes (found by
// application_name and pinned to the gateway's CPU).
import { clockTicks, cpuSeconds, cpuTimes, pin, poolCpuSeconds } from './cpu.ts';
import type { Child } from './proc.ts';
import type { BenchPg } from './pg.ts';
import type { LoopResult } from '../load/runner.ts';

export interface Sut {
  name: string; label: string; child: Child; kind: 'bare' | 'gateway'; db?: 'pg' | 'pglite';
  /** application_name of its PostgreSQL connections. */
  app?: string; base: string; tlsBase?: string; tokenPath: string; startMs: number; startCpuS: number;
}

export interface Measurement {
  scenario: string; variant: string; sut: string;
  /** 'latency': open model at a fraction of the peak rate; 'latency-core': again, at a rate that keeps the SUT's core at that fraction. */
  run: number | 'warmup' | 'latency' | 'latency-core';
  completed: number; errors: number; firstError?: string; wallSeconds: number;
  cpuGateway: number; cpuPg: number; cpu: number;
  /** Of cpuGateway, the libuv pool threads' (argon2id hashes; a gateway only). */
  cpuPool?: number;
  /** The figure: completed operations per SUT CPU-second (gateway + its PostgreSQL backends). */
  perCpuS: number; perGatewayCpuS: number; rps: number;
  /** CPU 0 busy time not spent by the SUT (other processes on the machine), seconds. */
  cpu0Other: number;
  latency: Record<string, number>; extra: Record<string, number>;
  db?: { reads: number; writes: number; writesEffective: number; transactions: number; writeTransactions: number; statements: Record<string, number> };
}

export interface MeasureContext { pg?: BenchPg; pinPg: boolean; cpu: number }

const pinned = new Set<number>();

/** The SUT's PostgreSQL backends, pinned to the SUT's CPU as they appear (also called on a timer by long runs). */
export async function pgPids(ctx: MeasureContext, sut: Sut): Promise<number[]> {
  if (!ctx.pg || sut.db !== 'pg' || !sut.app) return [];
  const pids = await ctx.pg.backends(sut.app);
  if (ctx.pinPg) for (const p of pids) if (!pinned.has(p)) { pin(p, ctx.cpu); pinned.add(p); }
  return pids;
}

export async function measure(ctx: MeasureContext, sut: Sut, scenario: string, variant: string, run: Measurement['run'],
  load: () => Promise<LoopResult>, o: { counters?: boolean } = {}): Promise<Measurement> {
  const before = await pgPids(ctx, sut);
  if (o.counters && sut.kind === 'gateway') await sut.child.call('counters', { reset: true });
  const start = new Map<number, number>();
  for (const p of [sut.child.pid, ...before]) start.set(p, cpuSeconds(p) ?? 0);
  const pool0 = sut.kind === 'gateway' ? poolCpuSeconds(sut.child.pid) : undefined;
  const c0 = cpuTimes()[ctx.cpu];
  const r = await load();
  const c1 = cpuTimes()[ctx.cpu];
  const gw = (cpuSeconds(sut.child.pid) ?? NaN) - start.get(sut.child.pid)!;
  const pool1 = pool0 === undefined ? undefined : poolCpuSeconds(sut.child.pid);
  const after = await pgPids(ctx, sut);
  let pgCpu = 0;
  for (const p of new Set([...before, ...after])) {
    const c = cpuSeconds(p);
    if (c !== undefined) pgCpu += c - (start.get(p) ?? 0);
  }
  const db = o.counters && sut.kind === 'gateway' ? await sut.child.call<Measurement['db']>('counters') : undefined;
  const cpu = gw + pgCpu;
  const busy = c0 && c1 ? (c1.busy - c0.busy) / clockTicks() : NaN;
  return {
    scenario, variant, sut: sut.name, run,
    completed: r.completed, errors: r.errors, firstError: r.firstError, wallSeconds: r.wallSeconds,
    cpuGateway: gw, cpuPg: pgCpu, cpu, cpuPool: pool1 === undefined ? undefined : pool1 - pool0!, perCpuS: r.completed / cpu, perGatewayCpuS: r.completed / gw,
    rps: r.completed / r.wallSeconds, cpu0Other: Math.max(0, busy - cpu),
    latency: r.latency, extra: r.extra, db,
  };
}
