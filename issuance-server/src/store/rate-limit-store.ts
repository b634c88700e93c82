import type { SqlExecutor } from './db/sql.ts';

/** A token bucket as stored: tokens left at time `at`. */
export interface StoredBucket {
  tokens: number;
  at: number;
}

/** Refusals counted in one window for one limited key. */
export interface RefusalWindow {
  key: string;
  windowStart: number;
  count: number;
}

/** Token buckets and refusal counts, in the database so that every node shares them and a restart keeps them. */
export class RateLimitStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** The bucket of `key`, row-locked (created full when new). */
  async bucket(key: string, fresh: StoredBucket): Promise<StoredBucket> {
    await this.sql.run('INSERT INTO rate_buckets (key, tokens, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [key, fresh.tokens, fresh.at]);
    const r = await this.sql.get<{ tokens: number; at: number }>(`SELECT tokens, at FROM rate_buckets WHERE key = ?${this.sql.forUpdate}`, [key]);
    return { tokens: Number(r!.tokens), at: Number(r!.at) };
  }

  /** Saves a bucket. */
  async save(key: string, b: StoredBucket): Promise<void> {
    await this.sql.run('UPDATE rate_buckets SET tokens = ?, at = ? WHERE key = ?', [b.tokens, b.at, key]);
  }

  /** Counts one refusal of `key` in the window starting at `windowStart`. */
  async countRefusal(key: string, windowStart: number): Promise<void> {
    await this.sql.run(
      'INSERT INTO rate_refusals (key, window_start, count) VALUES (?, ?, 1) ON CONFLICT (key, window_start) DO UPDATE SET count = rate_refusals.count + 1',
      [key, windowStart],
    );
  }

  /** Windows that started before `before`, oldest first, row-locked (those another node is writing out are left to it). */
  async closedRefusalWindows(before: number, limit: number): Promise<RefusalWindow[]> {
    const rows = await this.sql.all<{ key: string; window_start: number; count: number }>(
      `SELECT key, window_start, count FROM rate_refusals WHERE window_start < ? ORDER BY window_start, key LIMIT ?${this.sql.forUpdateSkipLocked}`,
      [before, limit],
    );
    return rows.map((r) => ({ key: r.key, windowStart: Number(r.window_start), count: Number(r.count) }));
  }

  /** Forgets a window once it has been written to the audit log. */
  async deleteRefusalWindow(w: RefusalWindow): Promise<void> {
    await this.sql.run('DELETE FROM rate_refusals WHERE key = ? AND window_start = ?', [w.key, w.windowStart]);
  }

  /** Drops buckets untouched since `before` (they would be full again anyway). */
  async purgeIdle(before: number): Promise<void> {
    await this.sql.run('DELETE FROM rate_buckets WHERE at < ?', [before]);
  }
}
