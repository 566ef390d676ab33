// Small statistics: median and spread of repeated runs, percentiles of latency samples.

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Summary { median: number; min: number; max: number; n: number; runs: number[] }
export function summarize(xs: number[]): Summary {
  const f = xs.filter((x) => Number.isFinite(x));
  return { median: median(f), min: f.length ? Math.min(...f) : NaN, max: f.length ? Math.max(...f) : NaN, n: f.length, runs: xs };
}

/** Percentiles (ms) of a list of latencies (ms). */
export function percentiles(samples: ArrayLike<number>, ps = [50, 90, 99, 99.9]): Record<string, number> {
  const a = Float64Array.from(samples as ArrayLike<number>).sort();
  const out: Record<string, number> = {};
  for (const p of ps) out[`p${p}`] = a.length ? a[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)]! : NaN;
  out.max = a.length ? a[a.length - 1]! : NaN;
  out.mean = a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN;
  out.count = a.length;
  return out;
}

/** A growable list of latency samples (ms), cheap to append. */
export class Samples {
  private buf = new Float64Array(4096);
  length = 0;
  push(ms: number) {
    if (this.length === this.buf.length) { const b = new Float64Array(this.buf.length * 2); b.set(this.buf); this.buf = b; }
    this.buf[this.length++] = ms;
  }
  values(): Float64Array { return this.buf.subarray(0, this.length); }
  clear() { this.length = 0; }
}

export const fmt = (x: number, digits = 0) => !Number.isFinite(x) ? '–'
  : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (x: number, digits = 0) => !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)} %`;
