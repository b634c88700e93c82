import type { RateLimit } from '../config.ts';
import type { StoredBucket } from '../store/rate-limit-store.ts';
import type { Tx } from '../store/store.ts';

/** One limited thing to take a token for. */
export interface RateCheck {
  key: string;
  limit: RateLimit;
}

/** Refusals are counted per key and written to the audit log once per window of this length. */
export const REFUSAL_WINDOW_MS = 60_000;

/** A bucket refilled up to `now` (a clock stepping back neither drains it nor delays later refills). */
export function refill(b: StoredBucket, limit: RateLimit, now: number): StoredBucket {
  const perMs = limit.perMinute / 60_000;
  return { tokens: Math.min(limit.burst, b.tokens + Math.max(0, now - b.at) * perMs), at: Math.max(b.at, now) };
}

/** Milliseconds until a bucket holds a whole token again. */
export function waitFor(b: StoredBucket, limit: RateLimit): number {
  return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / (limit.perMinute / 60_000));
}

/**
 * Takes one token from every bucket, or from none when one is empty (a lookup refused by the
 * global limit does not also cost the kiosk its own allowance). Returns 0 when allowed, else the
 * milliseconds to wait; a refusal is counted for the audit log under the first empty key.
 */
export async function takeTokens(tx: Tx, checks: readonly RateCheck[], now: number): Promise<number> {
  const buckets: StoredBucket[] = [];
  for (const c of checks) {
    const b = refill(await tx.limits.bucket(c.key, { tokens: c.limit.burst, at: now }), c.limit, now);
    const wait = waitFor(b, c.limit);
    if (wait > 0) {
      await tx.limits.countRefusal(c.key, Math.floor(now / REFUSAL_WINDOW_MS) * REFUSAL_WINDOW_MS);
      return wait;
    }
    buckets.push(b);
  }
  for (const [i, c] of checks.entries()) await tx.limits.save(c.key, { ...buckets[i]!, tokens: buckets[i]!.tokens - 1 });
  return 0;
}

/**
 * Writes every closed refusal window as one audit row with its count, so that a guesser
 * hammering a limit adds one row per key and minute rather than one per request.
 */
export async function flushRefusalWindows(tx: Tx, now: number): Promise<void> {
  const closedBefore = Math.floor(now / REFUSAL_WINDOW_MS) * REFUSAL_WINDOW_MS;
  for (const w of await tx.limits.closedRefusalWindows(closedBefore, 500)) {
    tx.audit(
      { actor: 'system', event: 'rate_limited', subject: w.key, details: { windowStart: new Date(w.windowStart).toISOString(), windowSeconds: REFUSAL_WINDOW_MS / 1000, refused: w.count } },
      now,
    );
    await tx.limits.deleteRefusalWindow(w);
  }
  // A bucket untouched for a day is full again; keep the table small.
  await tx.limits.purgeIdle(now - 86_400_000);
}
