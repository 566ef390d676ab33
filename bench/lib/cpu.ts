// Kernel accounting for the figures: CPU-seconds of a process (utime + stime of all its threads, from
// /proc/<pid>/stat), its resident memory, and CPU pinning through taskset.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let tck: number | undefined;
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux x86-64). */
export function clockTicks(): number {
  if (tck === undefined) {
    try { tck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { tck = 100; }
  }
  return tck;
}

/** A /proc stat line's command name and utime + stime in seconds. */
function parseStat(stat: string): { name: string; cpuS: number } {
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuS: (Number(rest[11]) + Number(rest[12])) / clockTicks() };
}

/** utime + stime in seconds, or undefined when the process is gone. Counts every thread (libuv pool included). */
export function cpuSeconds(pid: number): number | undefined {
  try { return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuS; } catch { return undefined; }
}

/**
 * utime + stime in seconds of a process's libuv pool threads (Node names them `libuv-worker`), where the
 * gateway's argon2id hashes run: the hash's CPU where it really runs, beside everything else on the core.
 */
export function poolCpuSeconds(pid: number): number | undefined {
  let tids: string[];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return undefined; }
  let total = 0;
  for (const tid of tids) {
    let t: { name: string; cpuS: number };
    try { t = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')); } catch { continue; } // the thread ended
    if (t.name === 'libuv-worker') total += t.cpuS;
  }
  return total;
}

export interface Memory { rssMiB: number; hwmMiB: number }
export function memory(pid: number): Memory | undefined {
  let status: string;
  try { status = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return undefined; }
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** Pins every thread of a process to one CPU. */
export function pin(pid: number, cpu: number): boolean {
  try { execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }); return true; } catch { return false; }
}

export function affinity(pid: number): string {
  try { return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?'; } catch { return '?'; }
}

/** Sums CPU-seconds over a changing set of pids between two snapshots (pids born in between count from 0). */
export class CpuMeter {
  private start = new Map<number, number>();
  private pids: () => number[];
  constructor(pids: () => number[]) { this.pids = pids; }
  begin(): void {
    this.start.clear();
    for (const p of this.pids()) { const c = cpuSeconds(p); if (c !== undefined) this.start.set(p, c); }
  }
  end(): number {
    let total = 0;
    for (const p of this.pids()) {
      const c = cpuSeconds(p);
      if (c !== undefined) total += c - (this.start.get(p) ?? 0);
    }
    return total;
  }
}

export function loadAverage(): number[] {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number); } catch { return []; }
}

/** Fraction of time both CPUs were busy since boot is useless; this samples /proc/stat over an interval instead. */
export function cpuTimes(): { busy: number; total: number }[] {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l));
  return lines.map((l) => {
    const v = l.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3]! + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  });
}
