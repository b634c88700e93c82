/** The q-quantile (0–1) of a list of milliseconds, by the nearest rank below. */
export function quantile(ms: number[], q: number): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Median and 90th percentile of a list of milliseconds. */
export function stats(ms: number[]): string {
  return `median ${quantile(ms, 0.5).toFixed(1)} ms, p90 ${quantile(ms, 0.9).toFixed(1)} ms, n=${ms.length}`;
}
