import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { AUDIT_GENESIS_HASH, AuditLog } from '../../src/store/audit-log.ts';
import { openDatabase } from '../../src/store/database.ts';

const T0 = Date.UTC(2030, 0, 1);

function dropTriggers(db: Database): void {
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
}

describe('audit log (unit)', () => {
  let db: Database;
  let audit: AuditLog;

  beforeEach(() => {
    db = openDatabase(':memory:');
    audit = new AuditLog(db);
    for (let i = 0; i < 5; i++) {
      audit.append({ actor: i % 2 ? 'system' : 'admin', event: `test.event${i}`, subject: i === 3 ? null : `s${i}`, details: { i, note: '日本語' } }, T0 + i * 1000);
    }
  });
  afterEach(() => db.close());

  it('an intact chain verifies, an empty one too', () => {
    assert.deepEqual(audit.verify(), { rows: 5, firstBad: null });
    const fresh = openDatabase(':memory:');
    try {
      assert.deepEqual(new AuditLog(fresh).verify(), { rows: 0, firstBad: null });
    } finally {
      fresh.close();
    }
  });

  it('rows are numbered from 1, chained from the genesis hash, and hash their own content', () => {
    const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as { seq: number; at: string; actor: string; event: string; subject: string | null; details: string; prev_hash: string; hash: string }[];
    assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal(rows[0]!.prev_hash, AUDIT_GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
    const r = rows[3]!;
    assert.equal(r.subject, null);
    assert.equal(r.at, new Date(T0 + 3000).toISOString());
    assert.deepEqual(JSON.parse(r.details), { i: 3, note: '日本語' });
    const expected = createHash('sha256').update(JSON.stringify([r.seq, r.at, r.actor, r.event, r.subject, r.details, r.prev_hash])).digest('hex');
    assert.equal(r.hash, expected);
  });

  it('UPDATE and DELETE are refused by triggers', () => {
    assert.throws(() => db.prepare(`UPDATE audit_log SET details = '{}' WHERE seq = 2`).run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_log WHERE seq = 5').run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/);
    assert.deepEqual(audit.verify(), { rows: 5, firstBad: null });
  });

  it('appends inside a rolled-back transaction leave no trace', () => {
    assert.throws(() =>
      db.transaction(() => {
        audit.append({ actor: 'system', event: 'rolled.back' }, T0);
        throw new Error('abort');
      })(),
    );
    assert.deepEqual(audit.verify(), { rows: 5, firstBad: null });
    audit.append({ actor: 'system', event: 'after' }, T0 + 9000);
    assert.deepEqual(audit.verify(), { rows: 6, firstBad: null });
  });

  it('a tampered row is named (details changed)', () => {
    dropTriggers(db);
    db.prepare(`UPDATE audit_log SET details = '{"i":2,"note":"forged"}' WHERE seq = 3`).run();
    assert.deepEqual(audit.verify(), { rows: 3, firstBad: { seq: 3, reason: 'hash does not match the row content' } });
  });

  it('a row re-hashed after tampering is caught at the next row', () => {
    dropTriggers(db);
    const row = db.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as { seq: number; at: string; actor: string; event: string; subject: string | null; prev_hash: string };
    const details = '{"forged":true}';
    const hash = createHash('sha256').update(JSON.stringify([row.seq, row.at, row.actor, row.event, row.subject, details, row.prev_hash])).digest('hex');
    db.prepare('UPDATE audit_log SET details = ?, hash = ? WHERE seq = 2').run(details, hash);
    assert.deepEqual(audit.verify().firstBad, { seq: 3, reason: 'prev_hash does not match the previous row' });
  });

  it('each column is covered by the hash', () => {
    for (const [col, value] of [
      ['at', '2000-01-01T00:00:00.000Z'],
      ['actor', 'intruder'],
      ['event', 'other.event'],
      ['subject', 'other'],
    ] as const) {
      const copy = openDatabase(':memory:');
      try {
        const log = new AuditLog(copy);
        for (let i = 0; i < 3; i++) log.append({ actor: 'admin', event: 'e', subject: 's', details: { i } }, T0);
        dropTriggers(copy);
        copy.prepare(`UPDATE audit_log SET ${col} = ? WHERE seq = 2`).run(value);
        assert.deepEqual(log.verify().firstBad?.seq, 2, col);
      } finally {
        copy.close();
      }
    }
  });

  it('a deleted row in the middle leaves a seq gap that is reported', () => {
    dropTriggers(db);
    db.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    assert.deepEqual(audit.verify(), { rows: 3, firstBad: { seq: 4, reason: 'expected seq 3' } });
  });

  it('a deleted first row is reported at the new first row', () => {
    dropTriggers(db);
    db.prepare('DELETE FROM audit_log WHERE seq = 1').run();
    assert.deepEqual(audit.verify().firstBad, { seq: 2, reason: 'expected seq 1' });
  });

  it('a truncated tail still verifies as a shorter chain (documented limit: the end is not anchored)', () => {
    dropTriggers(db);
    db.prepare('DELETE FROM audit_log WHERE seq = 5').run();
    assert.deepEqual(audit.verify(), { rows: 4, firstBad: null });
  });
});
