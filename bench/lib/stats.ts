/**
 * Latency recording and summaries. Samples are kept whole (not bucketed) so
 * p99 and max are exact; a step of the full chat ramp records well under ten
 * million samples, which a growing Float64Array holds comfortably.
 */

export class Recorder {
  private buf = new Float64Array(1024);
  private n = 0;

  add(v: number) {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }

  get count() {
    return this.n;
  }

  summary(): Summary {
    return summarize(this.buf.subarray(0, this.n));
  }

  reset() {
    this.n = 0;
  }
}

export type Summary = { n: number; mean: number; p50: number; p90: number; p99: number; max: number };

const EMPTY: Summary = { n: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };

/** Nearest-rank percentiles (p99 of 100 samples is the 99th smallest). */
export function summarize(values: ArrayLike<number>): Summary {
  if (values.length === 0) return { ...EMPTY };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, mean: sum / sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

export function median(values: number[]): number {
  return summarize(values).p50;
}

/** Rounds for tables: 3 significant digits below 100, integers above. */
export function fmt(v: number | null | undefined, unit = ""): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
  if (!Number.isFinite(v)) return "∞";
  const abs = Math.abs(v);
  const s = abs >= 100 ? Math.round(v).toLocaleString("en-US") : abs >= 10 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toFixed(3);
  return unit ? `${s} ${unit}` : s;
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return NaN;
  return a / b;
}

/** Geometric ramp: `from`, `from*factor`, ... up to `to` (inclusive when hit), rounded. */
export function ramp(from: number, to: number, factor: number): number[] {
  const out: number[] = [];
  for (let r = from; r <= to * 1.0001; r *= factor) out.push(Math.round(r));
  return out;
}
