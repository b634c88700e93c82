// One bad moment must not cost a request its answer or the server its life: a database locked
// by another process, a busy socket handler, abusive logins.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { DATABASE_FILE } from '../../src/store/db/sqlite-database.ts';
import { testPostgres } from '../test-storage.ts';
import { TestDevice, TestServer, assertError, eventually, type Applicant } from './harness.ts';

/** Holds the database's write lock from another connection, as a long admin import would. */
function holdWriteLock(dataDir: string): Database {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE));
  db.exec('BEGIN IMMEDIATE');
  return db;
}

describe('integration: resilience', function () {
  this.timeout(60_000);

  describe('a database locked by another process', () => {
    let ts: TestServer;
    let taro: Applicant;
    let locker: Database | null = null;
    before(async function () {
      // SQLite's whole-file write lock; PostgreSQL's row locks and lost connections: test/postgres/multi-node.test.ts.
      if (testPostgres()) this.skip();
      ts = await TestServer.start({ databaseBusyWaitMs: 200 });
      taro = await ts.login('R0001', new TestDevice());
    });
    afterEach(() => {
      if (locker?.inTransaction) locker.exec('ROLLBACK');
      locker?.close();
      locker = null;
    });
    after(() => ts?.close());

    it('writes answer 503 service_unavailable with Retry-After; reads go on; nothing is lost once the lock is gone', async () => {
      locker = holdWriteLock(ts.dataDir);
      const refused = await ts.http('POST', '/api/v1/applications', { json: { certificateType: 'juminhyo', options: {}, copies: 1 }, bearer: taro.token });
      assertError(refused, 503, 'service_unavailable');
      assert.equal(refused.headers.get('retry-after'), '1');
      assertError(await ts.http('POST', '/api/v1/auth/challenge'), 503, 'service_unavailable');
      // Reading needs no write lock in WAL mode.
      assert.equal((await ts.http('GET', '/api/v1/applications', { bearer: taro.token })).status, 200);
      assert.equal((await ts.http('GET', '/api/v1/health')).status, 200);
      locker.exec('ROLLBACK');
      const app = await ts.apply(taro);
      assert.equal(app.status, 'submitted');
      const list = await ts.http('GET', '/api/v1/applications', { bearer: taro.token });
      assert.equal(list.json.applications.length, 1, 'the refused application was not half-stored');
    });

    it('a socket message that cannot be handled gets an error answer and the socket stays open', async () => {
      const sock = await ts.deviceSocket(taro.device);
      const app = await ts.apply(taro);
      const issuance = await ts.claim(0, app.receiptNumber);
      const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
      locker = holdWriteLock(ts.dataDir);
      sock.send(taro.device.response(req.requestId, true));
      const err = await sock.next('error', (m) => m.code === 'service_unavailable');
      assert.match(err.message, /busy/);
      locker.exec('ROLLBACK');
      // the same answer again, now that the database is free
      sock.send(taro.device.response(req.requestId, true));
      const st = await ts.kioskStatus(0, issuance.issuanceId, 5000);
      assert.equal(st.json.status, 'approved');
      assert.ok(!sock.isClosed);
    });

    it('the sweep keeps running through a locked moment and catches up afterwards', async () => {
      const quick = await TestServer.start({ databaseBusyWaitMs: 50, confirmationTimeoutMs: 300, sweepIntervalMs: 50 });
      try {
        const hana = await quick.login('R0002', new TestDevice());
        const app = await quick.apply(hana);
        const issuance = await quick.claim(0, app.receiptNumber);
        locker = holdWriteLock(quick.dataDir);
        // past the confirmation deadline while the sweep cannot write
        await eventually(async () => Date.parse(issuance.expiresAt) + 200 < Date.now(), 5000);
        locker.exec('ROLLBACK');
        await eventually(async () => (await quick.query<{ status: string }>('SELECT status FROM issuance_attempts WHERE id = ?', [issuance.issuanceId]))[0]?.status === 'expired', 5000);
        assert.equal((await quick.application(hana, app.applicationId)).status, 'submitted');
      } finally {
        await quick.close();
      }
    });
  });

  describe('abuse of the login endpoints', () => {
    it('challenges and logins are rate-limited per client address and globally; a refusal is 429 with Retry-After', async () => {
      const ts = await TestServer.start({ authAddressRateLimit: { burst: 3, perMinute: 1 }, authGlobalRateLimit: { burst: 100, perMinute: 100 } });
      try {
        for (let i = 0; i < 3; i++) assert.equal((await ts.http('POST', '/api/v1/auth/challenge')).status, 201);
        const limited = await ts.http('POST', '/api/v1/auth/challenge');
        assertError(limited, 429, 'rate_limited');
        assert.ok(Number(limited.headers.get('retry-after')) >= 1);
        const login = await ts.http('POST', '/api/v1/auth/login', {
          json: { challengeId: 'x', certificate: 'AAAA', signature: 'AAAA', devicePublicKey: 'AAAA' },
        });
        assertError(login, 429, 'rate_limited');
        // the refusals are counted, not written one audit row each
        const rows = await ts.query<{ n: number }>(`SELECT COUNT(*) AS n FROM audit_log WHERE event IN ('rate_limited', 'login.failed')`);
        assert.equal(Number(rows[0]!.n), 0);
      } finally {
        await ts.close();
      }
    });

    it('the global login limit holds whatever the address', async () => {
      const ts = await TestServer.start({ authAddressRateLimit: { burst: 100, perMinute: 100 }, authGlobalRateLimit: { burst: 2, perMinute: 1 } });
      try {
        for (let i = 0; i < 2; i++) assert.equal((await ts.http('POST', '/api/v1/auth/challenge')).status, 201);
        assertError(await ts.http('POST', '/api/v1/auth/challenge'), 429, 'rate_limited');
      } finally {
        await ts.close();
      }
    });
  });
});
