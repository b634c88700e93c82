import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { SqlExecutor } from './db/sql.ts';

/** Hash that stands before the first audit row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** One audit event as callers describe it. Details carry ids only, never personal data. */
export interface AuditEvent {
  actor: string;
  event: string;
  subject?: string | null;
  details?: Record<string, unknown>;
}

/** An audit event with its time, waiting for its transaction to append it. */
export interface PendingAuditEvent extends AuditEvent {
  at: number;
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

/** A signed statement of the chain's head at one moment, kept outside the log to detect truncation. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  signature: string;
}

/** What `verify` found. */
export interface AuditVerification {
  rows: number;
  head: { seq: number; hash: string } | null;
  firstBad: { seq: number; reason: string } | null;
}

function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const canonical = JSON.stringify([Number(row.seq), row.at, row.actor, row.event, row.subject, row.details, row.prev_hash]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** The text a checkpoint signature covers (purpose-prefixed, like every signature of the product). */
export function checkpointSignedText(c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'at'>): Buffer {
  return Buffer.from(['jp-cert-issuance/audit-checkpoint/v1', String(c.seq), c.hash, c.at].join('\n'), 'utf8');
}

/** Short id of a checkpoint key: the first 16 hex digits of the SHA-256 of its public SPKI. */
export function checkpointKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

/** Signs a checkpoint of `head` with the server's Ed25519 checkpoint key. */
export function signCheckpoint(head: { seq: number; hash: string }, at: Date, privateDer: Buffer): AuditCheckpoint {
  const key = createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' });
  const c = { seq: head.seq, hash: head.hash, at: at.toISOString() };
  return { ...c, keyId: checkpointKeyId(createPublicKey(key)), signature: sign(null, checkpointSignedText(c), key).toString('base64') };
}

/** True when the checkpoint's signature verifies with the public key (SPKI DER). */
export function checkpointSignatureValid(c: AuditCheckpoint, publicDer: Buffer): boolean {
  try {
    const key = createPublicKey({ key: publicDer, format: 'der', type: 'spki' });
    return checkpointKeyId(key) === c.keyId && verify(null, checkpointSignedText(c), key, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

const VERIFY_BATCH = 5000;

/** Append-only audit log whose rows are chained by SHA-256 (each hash covers its predecessor's). */
export class AuditLog {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Appends events at the end of their write transaction. Appends are serialised across
   * processes and nodes (the engine's append lock, held until commit), so the chain stays one.
   */
  async append(entries: readonly PendingAuditEvent[]): Promise<void> {
    if (entries.length === 0) return;
    await this.sql.lockExclusive('audit_log');
    const last = await this.head();
    let seq = last?.seq ?? 0;
    let prev = last?.hash ?? AUDIT_GENESIS_HASH;
    for (const entry of entries) {
      const row = {
        seq: ++seq,
        at: new Date(entry.at).toISOString(),
        actor: entry.actor,
        event: entry.event,
        subject: entry.subject ?? null,
        details: JSON.stringify(entry.details ?? {}),
        prev_hash: prev,
      };
      prev = rowHash(row);
      await this.sql.run('INSERT INTO audit_log (seq, at, actor, event, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        row.seq,
        row.at,
        row.actor,
        row.event,
        row.subject,
        row.details,
        row.prev_hash,
        prev,
      ]);
    }
  }

  /** The newest row's sequence number and hash. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const r = await this.sql.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    return r ? { seq: Number(r.seq), hash: r.hash } : null;
  }

  /** The hash of row `seq`, if it exists. */
  async hashAt(seq: number): Promise<string | null> {
    return (await this.sql.get<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = ?', [seq]))?.hash ?? null;
  }

  /** Recomputes the whole chain in batches; returns the first row that does not fit, or null when intact. */
  async verify(): Promise<AuditVerification> {
    let prev = AUDIT_GENESIS_HASH;
    let expectedSeq = 1;
    let rows = 0;
    for (;;) {
      const batch = await this.sql.all<AuditRow>('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?', [expectedSeq, VERIFY_BATCH]);
      for (const row of batch) {
        rows++;
        const seq = Number(row.seq);
        if (seq !== expectedSeq) return { rows, head: null, firstBad: { seq, reason: `expected seq ${expectedSeq}` } };
        if (row.prev_hash !== prev) return { rows, head: null, firstBad: { seq, reason: 'prev_hash does not match the previous row' } };
        if (rowHash(row) !== row.hash) return { rows, head: null, firstBad: { seq, reason: 'hash does not match the row content' } };
        prev = row.hash;
        expectedSeq++;
      }
      if (batch.length < VERIFY_BATCH) break;
    }
    return { rows, head: rows ? { seq: expectedSeq - 1, hash: prev } : null, firstBad: null };
  }

  /** Stores a checkpoint (idempotent per sequence number). */
  async addCheckpoint(c: AuditCheckpoint): Promise<void> {
    await this.sql.run('INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [c.seq, c.hash, c.at, c.keyId, c.signature]);
  }

  /** The newest stored checkpoint. */
  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    const r = await this.sql.get<{ seq: number; hash: string; at: string; key_id: string; signature: string }>(
      'SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
    );
    return r ? { seq: Number(r.seq), hash: r.hash, at: r.at, keyId: r.key_id, signature: r.signature } : null;
  }
}
