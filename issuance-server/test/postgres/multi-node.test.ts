// Three server nodes on one PostgreSQL database (issue 10): every single-node guarantee must hold
// across nodes. The nodes run in this process on a throwaway cluster (test-storage.ts) with one
// shared clock; node-failover.test.ts kills whole node processes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applicationListSchema, generateReceiptNumber } from '@cert/common';
import { formatSummary, summarize } from '@cert/scripts/load';
import { openStore } from '../../src/context.ts';
import { onTestCluster, testStorage } from '../test-storage.ts';
import { assertError, eventually, TestDevice, TestServer, type Applicant, type TestSocket } from '../integration/harness.ts';
import { pairPhone, startPairing, TestPhone } from '../integration/phone-helpers.ts';

describe('several nodes on one PostgreSQL database', function () {
  this.timeout(120_000);
  const cluster = onTestCluster();

  describe('three nodes', () => {
    let a: TestServer;
    let b: TestServer;
    let c: TestServer;
    let taro: Applicant;
    before(async () => {
      // Only node A sweeps on its own: the tests below decide which node times an attempt out.
      a = await TestServer.start({ confirmationTimeoutMs: 1000, sweepIntervalMs: 20 });
      b = await a.node({ confirmationTimeoutMs: 1000, sweepIntervalMs: 3_600_000 });
      c = await a.node({ confirmationTimeoutMs: 1000, sweepIntervalMs: 3_600_000 });
      taro = await b.login('R0001');
    });
    afterEach(() => [a, b, c].forEach((n) => n?.closeSockets()));
    after(async () => {
      await c?.close();
      await b?.close();
      await a?.close();
    });

    it('two kiosks on different nodes racing one receipt: exactly one wins, one request reaches the device', async () => {
      const sock = await c.deviceSocket(taro.device);
      for (let round = 0; round < 5; round++) {
        const app = await c.apply(taro);
        const [ra, rb] = await Promise.all([a.claimRaw(0, app.receiptNumber), b.claimRaw(1, app.receiptNumber)]);
        assert.deepEqual([ra.status, rb.status].sort(), [201, 409], `round ${round}: ${ra.text} / ${rb.text}`);
        assertError(ra.status === 409 ? ra : rb, 409, 'issuance_in_progress');
        const winner = ra.status === 201 ? { node: a, kiosk: 0, res: ra } : { node: b, kiosk: 1, res: rb };
        const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
        assert.equal(req.kiosk.id, a.kiosk(winner.kiosk).id);
        await sock.assertNone(taro.device, 'print-confirmation-request', (m) => m.applicationId === app.applicationId);
        const attempts = await a.query<{ n: number }>('SELECT COUNT(*) AS n FROM issuance_attempts WHERE application_id = ?', [app.applicationId]);
        assert.equal(Number(attempts[0]!.n), 1);
        assert.equal((await winner.node.kioskAbandon(winner.kiosk, winner.res.json.issuanceId)).status, 200);
      }
    });

    it('claim on A, device on B, approval on B while the kiosk long-polls A, document and result on C', async () => {
      const sock = await b.deviceSocket(taro.device);
      const app = await b.apply(taro);
      const issuance = await a.claim(0, app.receiptNumber);
      const poll = a.kioskStatus(0, issuance.issuanceId, 5000);
      const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
      sock.send(taro.device.response(req.requestId, true));
      assert.equal((await poll).json?.status, 'approved');
      const pdf = await c.kioskDocument(0, issuance.issuanceId);
      assert.equal(pdf.status, 200, pdf.text);
      assert.equal(pdf.headers.get('content-type'), 'application/pdf');
      assert.equal((await c.kioskResult(0, issuance.issuanceId, { outcome: 'printed' })).json?.status, 'printed');
      // The device on B hears the outcome C recorded, and every node reads the same state.
      await sock.next('application-status', (m) => m.applicationId === app.applicationId && m.status === 'printed');
      for (const n of [a, b, c]) assert.equal((await n.application(taro, app.applicationId)).status, 'printed');
    });

    it('cross-node events: the request claimed on A reaches the device on B at once (target p99 < 100 ms)', async () => {
      const sock = await b.deviceSocket(taro.device);
      const latencies: number[] = [];
      for (let i = 0; i < 40; i++) {
        const app = await b.apply(taro);
        const t = performance.now();
        const claimed = a.claim(i % 2, app.receiptNumber);
        await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
        latencies.push(performance.now() - t);
        assert.equal((await a.kioskAbandon(i % 2, (await claimed).issuanceId)).status, 200);
      }
      const s = summarize(latencies);
      console.log(`      claim on A → request on B: ${formatSummary(s, true)} (target p99 < 100 ms; npm run bench reports it too)`);
      // The target is for a machine to itself; CI shares two cores, so the test holds the median to
      // it and the tail to what only a missed notification (found by a resync, seconds) would exceed.
      assert.ok(s.p50 < 100, `p50 ${s.p50.toFixed(1)} ms`);
      assert.ok(s.p99 < 1000, `p99 ${s.p99.toFixed(1)} ms`);
    });

    it('paired phones: a removal on A closes the phone socket on B, a confirmation on A reaches the waiting phone on B', async () => {
      const removed = await pairPhone(a, taro);
      const removedSocket = await b.deviceSocket(removed.device);
      await removedSocket.next('phone-state', (m) => m.status === 'active');
      const res = await a.http('DELETE', `/api/v1/phones/${removed.phoneId}`, { bearer: taro.token });
      assert.equal(res.status, 200, res.text);
      assert.equal((await removedSocket.next('error')).code, 'device_removed');
      assert.equal((await removedSocket.waitClosed()).reason, 'device_removed');

      const waiting = new TestPhone(a);
      const { pairingId, secret } = await startPairing(a, taro);
      assert.equal((await waiting.register(secret)).status, 201);
      const waitingSocket = await b.deviceSocket(waiting.device);
      assert.equal((await waitingSocket.next('phone-state')).status, 'awaiting_confirmation');
      const confirmed = await a.http('POST', `/api/v1/phones/pairings/${pairingId}/confirm`, { bearer: taro.token });
      assert.equal(confirmed.status, 200, confirmed.text);
      await waitingSocket.next('phone-state', (m) => m.status === 'active');
      // Trusted on B now: a request claimed on C reaches it there.
      const app = await c.apply(taro);
      const issuance = await c.claim(0, app.receiptNumber);
      await waitingSocket.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
      assert.equal((await c.kioskAbandon(0, issuance.issuanceId)).status, 200);
    });

    it('a phone change B missed while its LISTEN connection was down: the resync closes the removed phone on B', async () => {
      const phone = await pairPhone(a, taro);
      const sock = await b.deviceSocket(phone.device);
      await sock.next('phone-state', (m) => m.status === 'active');
      // Removed behind the servers' backs, so no node announces it: only the resync can find it.
      await a.execute("UPDATE phones SET status = 'removed', removed_at = ? WHERE id = ?", [Date.now(), phone.phoneId]);
      const cut = await a.query<{ ok: boolean }>("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = 'LISTEN issuance_changes'");
      assert.ok(cut.length > 0, 'the listeners were found');
      assert.equal((await sock.next('error', undefined, 15_000)).code, 'device_removed');
      await sock.waitClosed();
    });

    it('a device re-authenticating on another node gets the request made while its node was away', async () => {
      const d = await c.node();
      const device = new TestDevice();
      const hanako = await d.login('R0002', device);
      let sock: TestSocket = await d.deviceSocket(device);
      const app = await d.apply(hanako);
      await d.close();
      assert.ok(await sock.waitClosed());
      const issuance = await a.claim(0, app.receiptNumber);
      sock = await c.deviceSocket(device);
      const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
      sock.send(device.response(req.requestId, true));
      assert.equal((await a.kioskStatus(0, issuance.issuanceId, 5000)).json?.status, 'approved');
      assert.equal((await a.kioskAbandon(0, issuance.issuanceId)).status, 200);
    });

    it('the confirmation timeout firing on A while the approval arrives on B: one outcome, told the same everywhere', async () => {
      const sock = await b.deviceSocket(taro.device);
      const outcomes = { approved: 0, expired: 0 };
      for (let round = 0; round < 8; round++) {
        const app = await b.apply(taro);
        const issuance = await a.claim(0, app.receiptNumber);
        const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
        // Answer from just before to just after the deadline, while A's sweep runs every 20 ms.
        const wait = Date.parse(issuance.expiresAt) - Date.now() + (round % 4) * 15 - 25;
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
        sock.send(taro.device.response(req.requestId, true));
        const refused = sock.next('error', (m) => m.requestId === req.requestId, 800).then(
          () => true,
          () => false,
        );
        const status = (await a.kioskStatus(0, issuance.issuanceId, 3000)).json?.status;
        assert.ok(status === 'approved' || status === 'expired', `round ${round}: ${status}`);
        assert.equal(await refused, status === 'expired', `round ${round}: the device was refused exactly when the attempt expired`);
        for (const n of [b, c]) assert.equal((await n.kioskStatus(0, issuance.issuanceId)).json?.status, status);
        const moves = await a.query<{ details: string }>("SELECT details FROM audit_log WHERE event = 'issuance.status' AND subject = ?", [issuance.issuanceId]);
        assert.deepEqual(
          moves.map((m) => (JSON.parse(m.details) as { to: string }).to),
          [status],
          `round ${round}: one move out of confirmation_pending`,
        );
        if (status === 'approved') assert.equal((await c.kioskAbandon(0, issuance.issuanceId)).status, 200);
        outcomes[status as 'approved' | 'expired']++;
      }
      console.log(`      outcomes: ${JSON.stringify(outcomes)}`);
    });

    it('sweeps on every node at once: each overdue attempt ends once', async () => {
      const apps = await Promise.all(Array.from({ length: 12 }, () => b.apply(taro)));
      const issuances = [];
      for (const app of apps) issuances.push(await b.claim(1, app.receiptNumber));
      const ids = issuances.map((i) => i.issuanceId);
      const now = Date.now() + 60_000;
      const changed = await Promise.all([a, b, c, a, b, c].map((n) => n.server.context.lifecycle.sweep(now)));
      assert.ok(changed.every((n) => Number.isInteger(n)));
      await eventually(async () => (await a.query<{ id: string }>("SELECT id FROM issuance_attempts WHERE status = 'expired' AND id IN (" + ids.map(() => '?').join(',') + ')', ids)).length === ids.length);
      const moves = await a.query<{ subject: string }>("SELECT subject FROM audit_log WHERE event = 'issuance.status' AND subject IN (" + ids.map(() => '?').join(',') + ')', ids);
      assert.equal(moves.length, ids.length, 'one audit row per expired attempt');
      assert.equal(new Set(moves.map((m) => m.subject)).size, ids.length);
    });

    it('concurrent writers on three nodes keep one verifiable audit chain', async () => {
      const before = await a.server.context.admin.verifyAudit();
      const writes = [a, b, c].flatMap((n) => Array.from({ length: 15 }, () => n.apply(taro)));
      await Promise.all(writes);
      const report = await b.server.context.admin.verifyAudit();
      assert.equal(report.firstBad, null, JSON.stringify(report.firstBad));
      assert.ok(report.rows >= before.rows + 45, `${report.rows} rows after ${before.rows}`);
      const seqs = await c.query<{ seq: number }>('SELECT seq FROM audit_log ORDER BY seq');
      seqs.forEach((r, i) => assert.equal(Number(r.seq), i + 1, 'contiguous sequence numbers'));
    });
  });

  describe('rate limits', () => {
    const limits = { kioskRateLimit: { burst: 3, perMinute: 1 }, globalRateLimit: { burst: 10_000, perMinute: 10_000 } };
    let nodes: TestServer[] = [];
    after(async () => {
      for (const n of nodes.reverse()) await n.close();
    });

    it('are shared by all nodes (a guesser gains nothing by spreading) and survive a node restart', async () => {
      const first = await TestServer.start(limits);
      nodes = [first, await first.node(limits), await first.node(limits)];
      for (const n of nodes) assertError(await n.claimRaw(0, generateReceiptNumber()), 404, 'receipt_not_found');
      for (const n of nodes) assertError(await n.claimRaw(0, generateReceiptNumber()), 429, 'rate_limited', 'over the burst on any node');
      const last = nodes.pop()!;
      await last.close();
      const restarted = await first.node(limits);
      nodes.push(restarted);
      assertError(await restarted.claimRaw(0, generateReceiptNumber()), 429, 'rate_limited', 'after a restart');
      // Another kiosk's bucket is its own.
      assertError(await restarted.claimRaw(1, generateReceiptNumber()), 404, 'receipt_not_found');
    });
  });

  describe('losing the database', () => {
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      a = await TestServer.start({ databaseBusyWaitMs: 500 });
      b = await a.node({ databaseBusyWaitMs: 500 });
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    it('a node answers 503 service_unavailable with Retry-After, never a wrong answer, and recovers when the database returns', async () => {
      const taro = await a.login('R0001');
      const app = await a.apply(taro);
      await cluster().stopServer('fast');
      let restarted = false;
      try {
        for (const res of [await a.http('POST', '/api/v1/applications', { json: { certificateType: 'juminhyo', options: {}, copies: 1 }, bearer: taro.token }), await a.http('GET', '/api/v1/applications', { bearer: taro.token }), await b.claimRaw(0, app.receiptNumber), await a.http('GET', '/api/v1/health')]) {
          assertError(res, 503, 'service_unavailable');
          assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After');
        }
        await cluster().startServer();
        restarted = true;
      } finally {
        if (!restarted) await cluster().startServer();
      }
      const listed = await eventually(async () => {
        const res = await a.http('GET', '/api/v1/applications', { bearer: taro.token });
        return res.status === 200 ? applicationListSchema.parse(res.json).applications : null;
      }, 15_000);
      assert.ok(listed!.some((x) => x.applicationId === app.applicationId), 'nothing lost');
      assert.equal((await a.http('GET', '/api/v1/health')).status, 200, 'healthy again');
      // The LISTEN connection is back too: a claim on B reaches the device on A.
      const sock = await eventually(() => a.deviceSocket(taro.device).catch(() => null), 15_000);
      const issuance = await eventually(async () => {
        const res = await b.claimRaw(0, app.receiptNumber);
        return res.status === 201 ? res.json : null;
      }, 15_000);
      await sock!.next('print-confirmation-request', (m) => m.applicationId === app.applicationId, 10_000);
      assert.equal((await b.kioskAbandon(0, issuance.issuanceId)).status, 200);
    });
  });

  describe('migrations', () => {
    it('are recorded per version, and a database written by a newer server is refused', async () => {
      const storage = await testStorage('migrated');
      try {
        const store = await openStore(storage.config);
        const versions = await store.db.read((sql) => sql.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'));
        assert.deepEqual(
          versions.map((v) => Number(v.version)),
          versions.map((_, i) => i + 1),
        );
        await store.db.write((sql) => sql.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [versions.length + 1, `future-${randomUUID()}`, Date.now()]));
        await store.close();
        await assert.rejects(openStore(storage.config), /newer than this server/);
      } finally {
        await storage.remove();
      }
    });
  });
});
