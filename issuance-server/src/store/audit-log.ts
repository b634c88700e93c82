import type { Database } from 'better-sqlite3';
import { createHash } from 'node:crypto';

/** Hash that stands before the first audit row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** One audit event as callers describe it. Details carry ids only, never personal data. */
export interface AuditEvent {
  actor: string;
  event: string;
  subject?: string | null;
  details?: Record<string, unknown>;
}

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  event: string;
  subject: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const canonical = JSON.stringify([row.seq, row.at, row.actor, row.event, row.subject, row.details, row.prev_hash]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Append-only audit log whose rows are chained by SHA-256 (each hash covers its predecessor's). */
export class AuditLog {
  private readonly lastStmt;
  private readonly insertStmt;

  constructor(private readonly db: Database) {
    this.lastStmt = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.insertStmt = db.prepare(
      'INSERT INTO audit_log (seq, at, actor, event, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** Appends one event; call inside the transaction of the change it records. */
  append(entry: AuditEvent, at: number = Date.now()): void {
    const last = this.lastStmt.get();
    const row = {
      seq: (last?.seq ?? 0) + 1,
      at: new Date(at).toISOString(),
      actor: entry.actor,
      event: entry.event,
      subject: entry.subject ?? null,
      details: JSON.stringify(entry.details ?? {}),
      prev_hash: last?.hash ?? AUDIT_GENESIS_HASH,
    };
    this.insertStmt.run(row.seq, row.at, row.actor, row.event, row.subject, row.details, row.prev_hash, rowHash(row));
  }

  /** Recomputes the chain; returns the first row that does not fit, or null when intact. */
  verify(): { rows: number; firstBad: { seq: number; reason: string } | null } {
    let prev = AUDIT_GENESIS_HASH;
    let expectedSeq = 1;
    let rows = 0;
    for (const row of this.db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq').iterate()) {
      rows++;
      if (row.seq !== expectedSeq) return { rows, firstBad: { seq: row.seq, reason: `expected seq ${expectedSeq}` } };
      if (row.prev_hash !== prev) return { rows, firstBad: { seq: row.seq, reason: 'prev_hash does not match the previous row' } };
      if (rowHash(row) !== row.hash) return { rows, firstBad: { seq: row.seq, reason: 'hash does not match the row content' } };
      prev = row.hash;
      expectedSeq++;
    }
    return { rows, firstBad: null };
  }
}
