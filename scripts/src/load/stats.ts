/** Percentiles of a sample of milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50, p99 and max of `values` (NaN for an empty sample). */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1]! : NaN };
}

/** `p50 1.2 / p99 3.4 ms`. */
export function formatSummary(s: Summary, withMax = false): string {
  return `p50 ${ms(s.p50)} / p99 ${ms(s.p99)}${withMax ? ` / max ${ms(s.max)}` : ''} ms (n=${s.n})`;
}

/** A millisecond figure with sensible precision. */
export function ms(v: number): string {
  return Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}
