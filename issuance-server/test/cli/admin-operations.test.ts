// The operator's commands around a running service: settling unknown outcomes, anchoring the
// audit log with signed checkpoints, and backup / restore — through the real bin.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DATABASE_FILE } from '../../src/store/db/sqlite-database.ts';
import { TestDevice, TestServer, eventually } from '../integration/harness.ts';
import { admin, startServe, tempDir, type CliResult, type ServeProcess } from './cli-harness.ts';

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Opens the database as someone with file access would, bypassing the server. */
function tamper(dataDir: string, ...statements: string[]): void {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE));
  try {
    for (const s of statements) db.exec(s);
  } finally {
    db.close();
  }
}

describe('admin operations (spawned bin)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  const servers: ServeProcess[] = [];
  before(() => {
    tmp = tempDir('ops');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  after(() => tmp.cleanup());

  it('issuances unsettled / settle: a delivered document without a result is listed, settled once, audited', async () => {
    // A short print deadline: the kiosk fetches the document and never reports.
    const ts = await TestServer.start({ printTimeoutMs: 2000, sweepIntervalMs: 50 });
    const dataDir = ts.dataDir;
    try {
      const taro = await ts.login('R0001', new TestDevice());
      const sock = await ts.deviceSocket(taro.device);
      const app = await ts.apply(taro);
      const receipt = app.receiptNumber;
      const issuanceId = (await ts.claimAndApprove(0, app, taro.device, sock)).issuanceId;
      const doc = await ts.kioskDocument(0, issuanceId);
      assert.equal(doc.status, 200, doc.text);
      await eventually(async () => (await ts.kioskStatus(0, issuanceId)).json?.status === 'outcome_unknown', 5000);
      assert.equal((await ts.application(taro, app.applicationId)).status, 'outcome_unknown', 'the applicant sees the truth');
      assert.equal((await ts.claimRaw(1, receipt)).status, 404, 'never printable again');
      await ts.server.close();
      const listed = ok(await admin(dataDir, 'issuances', 'unsettled'), 'unsettled');
      assert.match(listed, new RegExp(`^${issuanceId}\\treceipt ${receipt}\\tjuminhyo\\tkiosk ${ts.kiosk(0).id}\\tdelivered \\d{4}-`, 'm'));
      const wrong = await admin(dataDir, 'issuances', 'settle', issuanceId, 'maybe');
      assert.equal(wrong.code, 2);
      assert.match(ok(await admin(dataDir, 'issuances', 'settle', issuanceId, 'not-printed', '--note', 'store checked the tray'), 'settle'), /settled: print_failed/);
      assert.match(ok(await admin(dataDir, 'issuances', 'unsettled'), 'unsettled again'), /^no issuance awaits settlement$/m);
      const again = await admin(dataDir, 'issuances', 'settle', issuanceId, 'printed');
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is not awaiting settlement/);
      const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true });
      try {
        const app = db.prepare('SELECT status FROM applications WHERE receipt_number = ?').get(receipt) as { status: string };
        assert.equal(app.status, 'submitted', 'not printed: the resident may print it again');
        const audit = db.prepare(`SELECT actor, event FROM audit_log WHERE subject = ? ORDER BY seq`).all(issuanceId) as { actor: string; event: string }[];
        assert.deepEqual(audit.slice(-2).map((a) => `${a.actor} ${a.event}`), ['admin issuance.status', 'admin admin.issuance.settle']);
      } finally {
        db.close();
      }
      ok(await admin(dataDir, 'audit', 'verify'), 'audit verify');
    } finally {
      await ts.server.close().catch(() => undefined);
      await ts.close().catch(() => undefined);
    }
  });

  it('audit checkpoints: deleting the newest rows is detected against the exported checkpoint, even when the stored ones are wiped', async () => {
    const dataDir = join(tmp.dir, 'audit');
    const exported = join(tmp.dir, 'checkpoints.jsonl');
    ok(await admin(dataDir, 'init', '--municipality-code', '999991', '--municipality-name', 'テスト市'), 'init');
    // The server signs the head every 0.6 s and once more when it stops.
    const s = await startServe(['--data-dir', dataDir, '--port', '0', '--log-level', 'warn', '--audit-checkpoint-file', exported, '--audit-checkpoint-minutes', '0.01']);
    servers.push(s);
    ok(await admin(dataDir, 'kiosk', 'register', '--name', 'Store', '--location', 'Here'), 'register');
    await s.stop();
    const lines = readFileSync(exported, 'utf8').trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { seq: number; hash: string; signature: string };
    assert.equal(last.seq, 2, 'the last checkpoint covers both rows');
    assert.match(ok(await admin(dataDir, 'audit', 'verify', '--checkpoint', exported), 'verify'), /intact: 2 row\(s\), reaches the signed checkpoint of row 2/);

    // Someone with file access drops the newest row and every stored checkpoint.
    tamper(dataDir, 'DROP TRIGGER audit_log_no_delete', 'DELETE FROM audit_log WHERE seq = 2', 'DELETE FROM audit_checkpoints');
    const own = ok(await admin(dataDir, 'audit', 'verify'), 'verify without the export');
    assert.match(own, /no checkpoint yet/, 'the database alone cannot tell');
    const caught = await admin(dataDir, 'audit', 'verify', '--checkpoint', exported);
    assert.equal(caught.code, 1);
    assert.match(caught.stderr, /ends at row 1, before the checkpoint's row 2: rows were removed/);

    // A forged checkpoint line does not help the intruder either.
    const forged = join(tmp.dir, 'forged.jsonl');
    writeFileSync(forged, JSON.stringify({ ...last, seq: 1 }) + '\n');
    const bad = await admin(dataDir, 'audit', 'verify', '--checkpoint', forged);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /signature does not verify/);
  });

  it('audit checkpoint on demand prints one signed JSON line; the stored one is checked by plain verify', async () => {
    const dataDir = join(tmp.dir, 'audit-on-demand');
    ok(await admin(dataDir, 'init', '--municipality-code', '999991', '--municipality-name', 'テスト市'), 'init');
    const line = JSON.parse(ok(await admin(dataDir, 'audit', 'checkpoint'), 'checkpoint')) as { seq: number; keyId: string };
    assert.equal(line.seq, 1);
    assert.match(line.keyId, /^[0-9a-f]{16}$/);
    assert.match(ok(await admin(dataDir, 'audit', 'verify'), 'verify'), /reaches the signed checkpoint of row 1/);
    tamper(dataDir, 'DROP TRIGGER audit_log_no_delete', 'DELETE FROM audit_log');
    const r = await admin(dataDir, 'audit', 'verify');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rows were removed/);
  });

  it('backup while serving, restore under the lock; a server holding the directory, or a bad file, is refused', async () => {
    const dataDir = join(tmp.dir, 'backup');
    const backup = join(tmp.dir, 'backup.sqlite3');
    ok(await admin(dataDir, 'init', '--municipality-code', '999991', '--municipality-name', 'テスト市'), 'init');
    ok(await admin(dataDir, 'kiosk', 'register', '--name', 'Before', '--location', 'Here'), 'register');
    const s = await startServe(['--data-dir', dataDir, '--port', '0', '--log-level', 'warn']);
    servers.push(s);
    assert.match(ok(await admin(dataDir, 'backup', '--to', backup), 'backup'), /^backed up \d+ page\(s\) to /);
    const exists = await admin(dataDir, 'backup', '--to', backup);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /exists; choose a new file name/);
    ok(await admin(dataDir, 'kiosk', 'register', '--name', 'After', '--location', 'There'), 'register after');
    const busy = await admin(dataDir, 'restore', '--from', backup);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /another issuance server is already serving/);
    await s.stop();

    const garbage = join(tmp.dir, 'garbage.sqlite3');
    writeFileSync(garbage, 'not a database');
    const bad = await admin(dataDir, 'restore', '--from', garbage);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: /m);

    ok(await admin(dataDir, 'restore', '--from', backup), 'restore');
    const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      const names = (db.prepare('SELECT name FROM kiosks ORDER BY name').all() as { name: string }[]).map((k) => k.name);
      assert.deepEqual(names, ['Before']);
    } finally {
      db.close();
    }
    ok(await admin(dataDir, 'audit', 'verify'), 'the restored log verifies');
    const again = await startServe(['--data-dir', dataDir, '--port', '0', '--log-level', 'warn']);
    servers.push(again);
    assert.equal((await fetch(`${again.url}/api/v1/health`)).status, 200);
  });
});
