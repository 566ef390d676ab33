// Reads a V8 .cpuprofile (the gateway's main thread, taken through node:inspector like --cpu-prof) and
// groups self time by where the code lives: a package, a folder of src/, Node internals, GC.
// Work on the libuv pool (argon2, WebCrypto signing) is not in it. profilerRpc() takes one in a SUT process.
import { Session as Inspector } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/**
 * RPC handlers for a SUT process, around one load window: a CPU profile of its main thread, as --cpu-prof
 * takes it; and its stalls (event-loop delay, GC pauses), which the latency runs record beside the tail.
 */
export function profilerRpc() {
  let inspector: Inspector | undefined;
  let loop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  let gc: PerformanceObserver | undefined;
  let gcMs: number[] = [];
  return {
    /** The main thread's stalls around one load window: event-loop delay and GC pauses, in ms. */
    stallsStart() {
      loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      gcMs = [];
      gc = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs.push(e.duration); });
      gc.observe({ entryTypes: ['gc'] });
    },
    stallsStop() {
      loop!.disable(); gc!.disconnect();
      return {
        loopDelayP99: loop!.percentile(99) / 1e6, loopDelayMax: loop!.max / 1e6,
        gcCount: gcMs.length, gcTotalMs: gcMs.reduce((a, b) => a + b, 0), gcMaxMs: Math.max(0, ...gcMs),
      };
    },
    async profileStart() {
      inspector ??= new Inspector();
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
      await inspector.post('Profiler.start');
    },
    async profileStop(p: { file: string }) {
      const { profile } = await inspector!.post('Profiler.stop');
      await inspector!.post('Profiler.disable');
      inspector!.disconnect();
      writeFileSync(p.file, JSON.stringify(profile));
      return p.file;
    },
  };
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: Node[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

function category(n: Node): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) {
    // The last node_modules segment names the package that owns the code.
    const all = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    return all[all.length - 1]![1]!;
  }
  const src = /\/(src|bench)\/([^/]+)/.exec(url);
  if (src) return `gatehouse ${src[1]}/${src[2]!.replace(/\.ts$/, '')}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

export interface ProfileSummary { sampledMs: number; busyMs: number; byCategory: Array<[string, number]>; topFunctions: Array<[string, number]> }

export function summarizeProfile(p: Profile): ProfileSummary {
  const total = (p.endTime - p.startTime) / 1000;
  const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
  const msPerHit = total / hits;
  const byCat = new Map<string, number>();
  const byFn = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const ms = (n.hitCount ?? 0) * msPerHit;
    if (!ms) continue;
    if (n.callFrame.functionName === '(idle)') { idle += ms; continue; }
    const c = category(n);
    byCat.set(c, (byCat.get(c) ?? 0) + ms);
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : '';
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
  const busy = total - idle;
  const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, ms]) => [n, ms / busy] as [string, number]);
  return { sampledMs: total, busyMs: busy, byCategory: top(byCat, 18), topFunctions: top(byFn, 20) };
}
