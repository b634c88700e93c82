import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AUDIT_GENESIS_HASH, AuditLog, checkpointSignatureValid, signCheckpoint, type AuditEvent } from '../../src/store/audit-log.ts';
import { openStore } from '../../src/context.ts';
import type { SqlDatabase } from '../../src/store/db/sql.ts';
import { testStorage } from '../test-storage.ts';
import { generateKeyPairSync } from 'node:crypto';

const T0 = Date.UTC(2030, 0, 1);

/** The audit log of one fresh database (in memory, or PostgreSQL: test-storage.ts), through the same engine the server uses. */
class Log {
  private constructor(
    readonly db: SqlDatabase,
    private readonly remove: () => Promise<void>,
  ) {}

  static async open(): Promise<Log> {
    const storage = await testStorage('migrated');
    return new Log((await openStore(storage.config)).db, storage.remove);
  }

  append(event: AuditEvent, at: number): Promise<void> {
    return this.db.write((x) => new AuditLog(x).append([{ ...event, at }]));
  }

  verify() {
    return this.db.read((x) => new AuditLog(x).verify());
  }

  run(sql: string, params: unknown[] = []) {
    return this.db.write((x) => x.run(sql, params));
  }

  rows<R>(sql: string, params: unknown[] = []) {
    return this.db.read((x) => x.all<R>(sql, params));
  }

  /** Removes the append-only triggers, as someone with write access to the database could. */
  dropTriggers() {
    const on = this.db.dialect === 'postgres' ? ' ON audit_log' : '';
    const triggers = this.db.dialect === 'postgres' ? ['audit_log_no_update', 'audit_log_no_truncate'] : ['audit_log_no_update', 'audit_log_no_delete'];
    return this.db.write(async (x) => {
      for (const t of triggers) await x.run(`DROP TRIGGER ${t}${on}`);
    });
  }

  async close(): Promise<void> {
    await this.db.close();
    await this.remove();
  }
}

describe('audit log (unit)', () => {
  let log: Log;

  beforeEach(async () => {
    log = await Log.open();
    for (let i = 0; i < 5; i++) {
      await log.append({ actor: i % 2 ? 'system' : 'admin', event: `test.event${i}`, subject: i === 3 ? null : `s${i}`, details: { i, note: '日本語' } }, T0 + i * 1000);
    }
  });
  afterEach(() => log.close());

  it('an intact chain verifies, an empty one too', async () => {
    const v = await log.verify();
    assert.equal(v.rows, 5);
    assert.equal(v.firstBad, null);
    assert.equal(v.head?.seq, 5);
    const fresh = await Log.open();
    try {
      assert.deepEqual(await fresh.verify(), { rows: 0, head: null, firstBad: null });
    } finally {
      await fresh.close();
    }
  });

  it('rows are numbered from 1, chained from the genesis hash, and hash their own content', async () => {
    const rows = await log.rows<{ seq: number; at: string; actor: string; event: string; subject: string | null; details: string; prev_hash: string; hash: string }>('SELECT * FROM audit_log ORDER BY seq');
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

  it('UPDATE and DELETE are refused by triggers', async () => {
    await assert.rejects(log.run(`UPDATE audit_log SET details = '{}' WHERE seq = 2`), /append-only/);
    await assert.rejects(log.run('DELETE FROM audit_log WHERE seq = 5'), /append-only/);
    await assert.rejects(log.run('DELETE FROM audit_log'), /append-only/);
    assert.equal((await log.verify()).rows, 5);
  });

  it('appends inside a rolled-back transaction leave no trace', async () => {
    await assert.rejects(
      log.db.write(async (x) => {
        await new AuditLog(x).append([{ actor: 'system', event: 'rolled.back', at: T0 }]);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal((await log.verify()).rows, 5);
    await log.append({ actor: 'system', event: 'after' }, T0 + 9000);
    const v = await log.verify();
    assert.deepEqual([v.rows, v.firstBad], [6, null]);
  });

  it('a tampered row is named (details changed)', async () => {
    await log.dropTriggers();
    await log.run(`UPDATE audit_log SET details = '{"i":2,"note":"forged"}' WHERE seq = 3`);
    assert.deepEqual(await log.verify(), { rows: 3, head: null, firstBad: { seq: 3, reason: 'hash does not match the row content' } });
  });

  it('a row re-hashed after tampering is caught at the next row', async () => {
    await log.dropTriggers();
    const [row] = await log.rows<{ seq: number; at: string; actor: string; event: string; subject: string | null; prev_hash: string }>('SELECT * FROM audit_log WHERE seq = 2');
    const details = '{"forged":true}';
    const hash = createHash('sha256').update(JSON.stringify([row!.seq, row!.at, row!.actor, row!.event, row!.subject, details, row!.prev_hash])).digest('hex');
    await log.run('UPDATE audit_log SET details = ?, hash = ? WHERE seq = 2', [details, hash]);
    assert.deepEqual((await log.verify()).firstBad, { seq: 3, reason: 'prev_hash does not match the previous row' });
  });

  it('each column is covered by the hash', async () => {
    for (const [col, value] of [
      ['at', '2000-01-01T00:00:00.000Z'],
      ['actor', 'intruder'],
      ['event', 'other.event'],
      ['subject', 'other'],
    ] as const) {
      const copy = await Log.open();
      try {
        for (let i = 0; i < 3; i++) await copy.append({ actor: 'admin', event: 'e', subject: 's', details: { i } }, T0);
        await copy.dropTriggers();
        await copy.run(`UPDATE audit_log SET ${col} = ? WHERE seq = 2`, [value]);
        assert.deepEqual((await copy.verify()).firstBad?.seq, 2, col);
      } finally {
        await copy.close();
      }
    }
  });

  it('a deleted row in the middle leaves a seq gap that is reported', async () => {
    await log.dropTriggers();
    await log.run('DELETE FROM audit_log WHERE seq = 3');
    assert.deepEqual(await log.verify(), { rows: 3, head: null, firstBad: { seq: 4, reason: 'expected seq 3' } });
  });

  it('a deleted first row is reported at the new first row', async () => {
    await log.dropTriggers();
    await log.run('DELETE FROM audit_log WHERE seq = 1');
    assert.deepEqual((await log.verify()).firstBad, { seq: 2, reason: 'expected seq 1' });
  });

  it('a truncated tail verifies as a shorter chain by itself; a signed checkpoint of the old head is what exposes it', async () => {
    const key = generateKeyPairSync('ed25519');
    const head = (await log.verify()).head!;
    const checkpoint = signCheckpoint(head, new Date(T0), key.privateKey.export({ format: 'der', type: 'pkcs8' }));
    const publicDer = key.publicKey.export({ format: 'der', type: 'spki' });
    assert.ok(checkpointSignatureValid(checkpoint, publicDer));
    assert.ok(!checkpointSignatureValid({ ...checkpoint, seq: checkpoint.seq - 1 }, publicDer), 'the signature covers the row number');
    assert.ok(!checkpointSignatureValid({ ...checkpoint, hash: AUDIT_GENESIS_HASH }, publicDer), 'and the hash');
    await log.dropTriggers();
    await log.run('DELETE FROM audit_log WHERE seq = 5');
    const v = await log.verify();
    assert.deepEqual([v.rows, v.firstBad, v.head?.seq], [4, null, 4]);
    assert.ok(v.head!.seq < checkpoint.seq, 'the chain now ends before the checkpoint: rows were removed');
  });
});
