import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { confirmationSignedText, formatReceiptNumber, type Application, type IssuanceStatus } from '@cert/common';
import { pino } from 'pino';
import { defaultServerConfig, type ServerConfig } from '../../src/config.ts';
import { createContext, type ServerContext } from '../../src/context.ts';
import { parseDeviceKey, type DeviceKey } from '../../src/services/device-keys.ts';
import type { ApplicationChanged, AttemptChanged } from '../../src/services/lifecycle-events.ts';
import { ServiceError } from '../../src/services/service-error.ts';
import type { Kiosk } from '../../src/store/kiosk-store.ts';
import type { Resident } from '../../src/store/resident-store.ts';
import type { Session } from '../../src/store/session-store.ts';

const silent = pino({ level: 'silent' });
const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2030, 0, 15, 1, 0, 0);

const RESIDENT: Resident = {
  id: 'R0001',
  householdId: 'H001',
  name: '山田 太郎',
  nameKana: 'ヤマダ タロウ',
  birthDate: '1985-04-12',
  sex: '1',
  address: 'テスト市本町一丁目2番3号',
  relationshipToHead: '世帯主',
  domicile: '東京都千代田区千代田1番',
  domicileHead: '山田 太郎',
  status: 'active',
  supportMeasure: false,
};

interface Harness {
  ctx: ServerContext;
  config: ServerConfig;
  kioskA: Kiosk;
  kioskB: Kiosk;
  device: DeviceKey;
  privateKey: KeyObject;
  session: Session;
}

let open: Harness[] = [];

function setup(overrides: Partial<ServerConfig> = {}): Harness {
  const config: ServerConfig = {
    ...defaultServerConfig(':memory:'),
    // Keep the rate limits out of the way of the lifecycle under test.
    kioskRateLimit: { burst: 1000, perMinute: 1000 },
    globalRateLimit: { burst: 1000, perMinute: 1000 },
    ...overrides,
  };
  const ctx = createContext(config, silent, () => 'http://x');
  ctx.stores.residents.setMunicipality('999991', 'テスト市', T0);
  ctx.stores.residents.upsert(RESIDENT, T0);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const device = parseDeviceKey(publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
  ctx.stores.sessions.registerDevice(device.sha256, device.der, T0);
  const kioskA: Kiosk = { id: 'kiosk-a', name: 'Store A', location: 'Test-shi 1-1', credentialSha256: 'a'.repeat(64) };
  const kioskB: Kiosk = { id: 'kiosk-b', name: 'Store B', location: 'Test-shi 2-2', credentialSha256: 'b'.repeat(64) };
  ctx.stores.kiosks.add(kioskA, T0);
  ctx.stores.kiosks.add(kioskB, T0);
  const h = { ctx, config, kioskA, kioskB, device, privateKey, session: { residentId: RESIDENT.id, deviceKeySha256: device.sha256, expiresAt: T0 + 3600 * SEC } };
  open.push(h);
  return h;
}

afterEach(() => {
  for (const h of open) h.ctx.db.close();
  open = [];
});

function apply(h: Harness, now = T0): Application {
  return h.ctx.applications.create(h.session, { certificateType: 'juminhyo', options: {}, copies: 1 }, now);
}

function deviceSignature(h: Harness, requestId: string, approved: boolean): string {
  return sign('sha256', confirmationSignedText(requestId, approved), { key: h.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
}

function requestIdOf(h: Harness, issuanceId: string): string {
  return h.ctx.stores.applications.attempt(issuanceId)!.requestId;
}

function answer(h: Harness, issuanceId: string, approved: boolean, now: number): IssuanceStatus {
  const requestId = requestIdOf(h, issuanceId);
  return h.ctx.issuance.confirm(h.device, requestId, approved, deviceSignature(h, requestId, approved), now);
}

const appStatus = (h: Harness, id: string) => h.ctx.stores.applications.get(id)!.status;
const attemptStatus = (h: Harness, id: string) => h.ctx.stores.applications.attempt(id)!.status;
const auditRows = (h: Harness) => (h.ctx.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;

/** Everything a transition could touch: both tables' rows for the application, and the audit length. */
function snapshot(h: Harness, applicationId: string) {
  return {
    app: h.ctx.db.prepare('SELECT * FROM applications WHERE id = ?').get(applicationId),
    attempts: h.ctx.db
      .prepare('SELECT id, status, deadline_at, updated_at, result_detail, kiosk_seen_status, document_sha256, length(document) AS doc FROM issuance_attempts WHERE application_id = ? ORDER BY created_at, id')
      .all(applicationId),
    documents: h.ctx.db.prepare('SELECT COUNT(*) AS n FROM issued_documents').get(),
    audit: auditRows(h),
  };
}

/** Asserts that `fn` fails with `code` and leaves the records and the audit log exactly as they were. */
async function refused(h: Harness, applicationId: string, code: string, fn: () => unknown): Promise<void> {
  const before = snapshot(h, applicationId);
  await assert.rejects(
    async () => fn(),
    (e: unknown) => {
      assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      return true;
    },
  );
  assert.deepEqual(snapshot(h, applicationId), before);
}

/** Drives a fresh application into the attempt status asked for; returns ids and the time reached. */
async function reach(h: Harness, status: 'confirmation_pending' | 'approved' | 'delivered', t = T0): Promise<{ app: Application; issuanceId: string; now: number }> {
  const app = apply(h, t);
  const started = h.ctx.issuance.start(h.kioskA, app.receiptNumber, t + SEC);
  if (status !== 'confirmation_pending') answer(h, started.issuanceId, true, t + 2 * SEC);
  if (status === 'delivered') await h.ctx.issuance.document(h.kioskA, started.issuanceId, t + 3 * SEC);
  assert.equal(attemptStatus(h, started.issuanceId), status);
  return { app, issuanceId: started.issuanceId, now: t + 3 * SEC };
}

describe('lifecycle state machine (unit, in-memory SQLite)', function () {
  this.timeout(60_000);

  describe('allowed transitions', () => {
    it('apply → submitted, with a fresh receipt number and an audit row', () => {
      const h = setup();
      const audit = auditRows(h);
      const app = apply(h);
      assert.equal(app.status, 'submitted');
      assert.match(app.receiptNumber, /^\d{12}$/);
      assert.equal(app.expiresAt, new Date(T0 + h.config.receiptValidityMs).toISOString());
      assert.equal(auditRows(h), audit + 1);
      assert.notEqual(apply(h).receiptNumber, app.receiptNumber);
    });

    it('start: submitted → in_issuance, attempt confirmation_pending (receipt typed with separators)', () => {
      const h = setup();
      const app = apply(h);
      const r = h.ctx.issuance.start(h.kioskA, ` ${formatReceiptNumber(app.receiptNumber)} `, T0 + SEC);
      assert.equal(r.status, 'confirmation_pending');
      assert.equal(r.certificateType, 'juminhyo');
      assert.equal(r.copies, 1);
      assert.equal(r.fee, 200);
      assert.equal(r.expiresAt, new Date(T0 + SEC + h.config.confirmationTimeoutMs).toISOString());
      assert.equal(appStatus(h, app.applicationId), 'in_issuance');
      assert.equal(attemptStatus(h, r.issuanceId), 'confirmation_pending');
      const pending = h.ctx.issuance.pendingRequests(h.device.sha256, T0 + 2 * SEC);
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.receiptNumber, app.receiptNumber);
      assert.deepEqual(pending[0]!.kiosk, { id: 'kiosk-a', name: 'Store A', location: 'Test-shi 1-1' });
    });

    it('confirmation_pending → approved (device says yes)', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      assert.equal(answer(h, issuanceId, true, T0 + 2 * SEC), 'approved');
      assert.equal(attemptStatus(h, issuanceId), 'approved');
      assert.equal(appStatus(h, app.applicationId), 'in_issuance');
      assert.equal(h.ctx.stores.applications.attempt(issuanceId)!.deadlineAt, T0 + 2 * SEC + h.config.printTimeoutMs);
    });

    it('confirmation_pending → declined; the application is printable again, at another kiosk', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      assert.equal(answer(h, issuanceId, false, T0 + 2 * SEC), 'declined');
      assert.equal(attemptStatus(h, issuanceId), 'declined');
      assert.equal(appStatus(h, app.applicationId), 'submitted');
      const again = h.ctx.issuance.start(h.kioskB, app.receiptNumber, T0 + 3 * SEC);
      assert.equal(attemptStatus(h, again.issuanceId), 'confirmation_pending');
      assert.equal(appStatus(h, app.applicationId), 'in_issuance');
    });

    it('confirmation_pending → abandoned', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      assert.equal(h.ctx.issuance.abandon(h.kioskA, issuanceId, T0 + 5 * SEC), 'abandoned');
      assert.equal(attemptStatus(h, issuanceId), 'abandoned');
      assert.equal(appStatus(h, app.applicationId), 'submitted');
      // abandoning twice is harmless and changes nothing
      const before = snapshot(h, app.applicationId);
      assert.equal(h.ctx.issuance.abandon(h.kioskA, issuanceId, T0 + 6 * SEC), 'abandoned');
      assert.deepEqual(snapshot(h, app.applicationId), before);
    });

    it('approved → delivered → printed; the application is printed', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'approved');
      const pdf = await h.ctx.issuance.document(h.kioskA, issuanceId, T0 + 3 * SEC);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.equal(attemptStatus(h, issuanceId), 'delivered');
      assert.equal(h.ctx.stores.applications.attempt(issuanceId)!.deadlineAt, T0 + 3 * SEC + h.config.printTimeoutMs);
      // resuming the fetch at the same kiosk hands out the same bytes, no new render
      assert.deepEqual(await h.ctx.issuance.document(h.kioskA, issuanceId, T0 + 4 * SEC), pdf);
      assert.equal((h.ctx.db.prepare('SELECT COUNT(*) AS n FROM issued_documents').get() as { n: number }).n, 1);
      assert.equal(h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, T0 + 5 * SEC), 'printed');
      assert.equal(attemptStatus(h, issuanceId), 'printed');
      assert.equal(appStatus(h, app.applicationId), 'printed');
      // the document bytes are dropped once the attempt is final; the register entry stays
      assert.equal(h.ctx.stores.applications.document(issuanceId), null);
      assert.equal((h.ctx.db.prepare('SELECT COUNT(*) AS n FROM issued_documents').get() as { n: number }).n, 1);
    });

    for (const from of ['approved', 'delivered'] as const) {
      it(`${from} → print_failed; the application is printable again`, async () => {
        const h = setup();
        const { app, issuanceId, now } = await reach(h, from);
        assert.equal(h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'failed', detail: 'paper jam' }, now + SEC), 'print_failed');
        assert.equal(attemptStatus(h, issuanceId), 'print_failed');
        assert.equal(appStatus(h, app.applicationId), 'submitted');
        assert.equal((h.ctx.db.prepare('SELECT result_detail FROM issuance_attempts WHERE id = ?').get(issuanceId) as { result_detail: string }).result_detail, 'paper jam');
      });

      it(`${from} → abandoned; the application is printable again`, async () => {
        const h = setup();
        const { app, issuanceId, now } = await reach(h, from);
        assert.equal(h.ctx.issuance.abandon(h.kioskA, issuanceId, now + SEC), 'abandoned');
        assert.equal(appStatus(h, app.applicationId), 'submitted');
        assert.equal(h.ctx.issuance.start(h.kioskB, app.receiptNumber, now + 2 * SEC).status, 'confirmation_pending');
      });
    }

    it('submitted → cancelled by the applicant (idempotent)', () => {
      const h = setup();
      const app = apply(h);
      assert.deepEqual(h.ctx.applications.cancel(h.session, app.applicationId, T0 + SEC), { status: 'cancelled' });
      assert.equal(appStatus(h, app.applicationId), 'cancelled');
      const before = snapshot(h, app.applicationId);
      assert.deepEqual(h.ctx.applications.cancel(h.session, app.applicationId, T0 + 2 * SEC), { status: 'cancelled' });
      assert.deepEqual(snapshot(h, app.applicationId), before);
    });

    it('cancel during confirmation_pending declines the attempt and cancels the application', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      h.ctx.applications.cancel(h.session, app.applicationId, T0 + 5 * SEC);
      assert.equal(attemptStatus(h, issuanceId), 'declined');
      assert.equal(appStatus(h, app.applicationId), 'cancelled');
      // and the receipt is gone for kiosks
      await refusedCode(() => h.ctx.issuance.start(h.kioskB, app.receiptNumber, T0 + 6 * SEC), 'receipt_not_found');
    });
  });

  describe('forbidden transitions throw invalid_state and change nothing', () => {
    it('from confirmation_pending: document, result printed, result failed', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'confirmation_pending');
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.document(h.kioskA, issuanceId, now));
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now));
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'failed' }, now));
    });

    it('from approved: result printed (never fetched), a second answer, cancel', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now));
      await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, false, now));
      await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, true, now));
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.applications.cancel(h.session, app.applicationId, now));
    });

    it('from delivered: answers and cancel', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'delivered');
      await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, true, now));
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.applications.cancel(h.session, app.applicationId, now));
    });

    for (const final of ['declined', 'abandoned', 'expired', 'print_failed', 'printed'] as const) {
      it(`from ${final}: nothing moves the attempt any more`, async () => {
        const h = setup();
        const { app, issuanceId, now } = await reach(h, final === 'print_failed' || final === 'printed' ? 'delivered' : 'confirmation_pending');
        let t = now + SEC;
        if (final === 'declined') answer(h, issuanceId, false, t);
        if (final === 'abandoned') h.ctx.issuance.abandon(h.kioskA, issuanceId, t);
        if (final === 'expired') {
          t = T0 + SEC + h.config.confirmationTimeoutMs;
          assert.equal(h.ctx.lifecycle.sweep(t), 1);
        }
        if (final === 'print_failed') h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'failed' }, t);
        if (final === 'printed') h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, t);
        assert.equal(attemptStatus(h, issuanceId), final);
        t += SEC;
        await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, true, t));
        await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, false, t));
        await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.document(h.kioskA, issuanceId, t));
        if (final !== 'printed') await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, t));
        if (final !== 'print_failed') await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'failed' }, t));
        if (final !== 'abandoned') await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.abandon(h.kioskA, issuanceId, t));
        // a sweep much later leaves a final attempt alone
        const before = snapshot(h, app.applicationId).attempts;
        h.ctx.lifecycle.sweep(t + 10 * h.config.printTimeoutMs);
        assert.deepEqual(snapshot(h, app.applicationId).attempts, before);
      });
    }

    it('printed is final for the application: cancel, a new start and a sweep past expiry change nothing', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'delivered');
      h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now + SEC);
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.applications.cancel(h.session, app.applicationId, now + 2 * SEC));
      const before = snapshot(h, app.applicationId);
      await refusedCode(() => h.ctx.issuance.start(h.kioskB, app.receiptNumber, now + 3 * SEC), 'receipt_not_found');
      h.ctx.lifecycle.sweep(T0 + h.config.receiptValidityMs + 1);
      const after = snapshot(h, app.applicationId);
      assert.deepEqual(after.app, before.app);
      assert.deepEqual(after.attempts, before.attempts);
      assert.equal(appStatus(h, app.applicationId), 'printed');
    });

    it('a receipt prints at most once: repeated results do not print again', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'delivered');
      assert.equal(h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now + SEC), 'printed');
      const before = snapshot(h, app.applicationId);
      // a retried report is answered with the same status and changes nothing
      assert.equal(h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now + 2 * SEC), 'printed');
      assert.deepEqual(snapshot(h, app.applicationId), before);
      await refusedCode(() => h.ctx.issuance.start(h.kioskA, app.receiptNumber, now + 3 * SEC), 'receipt_not_found');
      const printed = h.ctx.db.prepare(`SELECT COUNT(*) AS n FROM issuance_attempts WHERE application_id = ? AND status = 'printed'`).get(app.applicationId) as { n: number };
      assert.equal(printed.n, 1);
    });

    it('cancelled and expired applications cannot be cancelled into anything else, nor started', async () => {
      const h = setup();
      const cancelled = apply(h);
      h.ctx.applications.cancel(h.session, cancelled.applicationId, T0 + SEC);
      await refusedCode(() => h.ctx.issuance.start(h.kioskA, cancelled.receiptNumber, T0 + 2 * SEC), 'receipt_not_found');
      const expired = apply(h);
      h.ctx.lifecycle.sweep(T0 + h.config.receiptValidityMs);
      assert.equal(appStatus(h, expired.applicationId), 'expired');
      await refused(h, expired.applicationId, 'invalid_state', () => h.ctx.applications.cancel(h.session, expired.applicationId, T0 + h.config.receiptValidityMs + SEC));
    });

    it('the guard on the application is real: an attempt cannot end when its application moved (tampered)', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      // Simulate a record changed behind the service's back.
      h.ctx.db.prepare(`UPDATE applications SET status = 'cancelled' WHERE id = ?`).run(app.applicationId);
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.abandon(h.kioskA, issuanceId, now + SEC));
      assert.equal(attemptStatus(h, issuanceId), 'approved');
    });

    it('moveApplication refuses a wrong expected status without writing', () => {
      const h = setup();
      const app = apply(h);
      const rec = h.ctx.stores.applications.get(app.applicationId)!;
      const before = snapshot(h, app.applicationId);
      assert.throws(
        () => h.ctx.lifecycle.run((p) => h.ctx.lifecycle.moveApplication(p, rec, 'in_issuance', 'printed', 'system', T0 + SEC)),
        (e: unknown) => e instanceof ServiceError && e.code === 'invalid_state',
      );
      assert.deepEqual(snapshot(h, app.applicationId), before);
    });

    it('another kiosk sees only its own issuances', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      await refused(h, app.applicationId, 'not_found', () => h.ctx.issuance.document(h.kioskB, issuanceId, now));
      await refused(h, app.applicationId, 'not_found', () => h.ctx.issuance.abandon(h.kioskB, issuanceId, now));
      await refused(h, app.applicationId, 'not_found', () => h.ctx.issuance.result(h.kioskB, issuanceId, { outcome: 'failed' }, now));
    });

    it('an answer signed for the other choice, or by another device, is refused', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'confirmation_pending');
      const requestId = requestIdOf(h, issuanceId);
      // signature over "decline" presented as an approval
      await refused(h, app.applicationId, 'signature_invalid', () => h.ctx.issuance.confirm(h.device, requestId, true, deviceSignature(h, requestId, false), now));
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const otherDevice = parseDeviceKey(other.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
      const otherSig = sign('sha256', confirmationSignedText(requestId, true), { key: other.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
      await refused(h, app.applicationId, 'not_found', () => h.ctx.issuance.confirm(otherDevice, requestId, true, otherSig, now));
      assert.equal(attemptStatus(h, issuanceId), 'confirmation_pending');
    });
  });

  describe('one open attempt per application', () => {
    it('a second start gets issuance_in_progress and changes no record', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'confirmation_pending');
      const before = snapshot(h, app.applicationId);
      await refusedCode(() => h.ctx.issuance.start(h.kioskB, app.receiptNumber, now), 'issuance_in_progress');
      await refusedCode(() => h.ctx.issuance.start(h.kioskA, app.receiptNumber, now), 'issuance_in_progress');
      const after = snapshot(h, app.applicationId);
      assert.deepEqual(after.app, before.app);
      assert.deepEqual(after.attempts, before.attempts);
      // only the refused lookups are recorded
      const added = h.ctx.db.prepare('SELECT event FROM audit_log WHERE seq > ? ORDER BY seq').all(before.audit) as { event: string }[];
      assert.deepEqual(added.map((r) => r.event), ['kiosk.lookup_refused', 'kiosk.lookup_refused']);
      assert.equal(attemptStatus(h, issuanceId), 'confirmation_pending');
    });

    it('the database unique index blocks a second open attempt even when inserted directly', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'approved');
      const base = { ...h.ctx.stores.applications.attempt(issuanceId)!, id: 'direct-1', requestId: 'direct-req-1', status: 'confirmation_pending' as const };
      assert.throws(() => h.ctx.stores.applications.insertAttempt(base), /UNIQUE constraint failed/);
      for (const status of ['approved', 'delivered']) {
        assert.throws(
          () =>
            h.ctx.db
              .prepare(
                `INSERT INTO issuance_attempts (id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at, kiosk_seen_status, updated_at)
                 VALUES (?, ?, ?, 'kiosk-b', ?, 0, 0, 'confirmation_pending', 0)`,
              )
              .run(`raw-${status}`, `raw-req-${status}`, app.applicationId, status),
          /UNIQUE constraint failed/,
        );
      }
      // a closed attempt alongside is fine
      h.ctx.stores.applications.insertAttempt({ ...base, id: 'direct-2', requestId: 'direct-req-2', status: 'abandoned' });
      assert.equal(h.ctx.stores.applications.openAttemptFor(app.applicationId)!.id, issuanceId);
    });
  });

  describe('timeouts (sweep with explicit now)', () => {
    it('confirmation_pending past its deadline → expired, application back to submitted', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      const deadline = T0 + SEC + h.config.confirmationTimeoutMs;
      assert.equal(h.ctx.lifecycle.sweep(deadline - 1), 0);
      assert.equal(attemptStatus(h, issuanceId), 'confirmation_pending');
      assert.equal(h.ctx.lifecycle.sweep(deadline), 1);
      assert.equal(attemptStatus(h, issuanceId), 'expired');
      assert.equal(appStatus(h, app.applicationId), 'submitted');
      assert.deepEqual(h.ctx.issuance.pendingRequests(h.device.sha256, deadline), []);
    });

    it('a late approval never wins: the attempt expires first even without a sweep', async () => {
      const h = setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      const late = T0 + SEC + h.config.confirmationTimeoutMs + 5;
      await assert.rejects(async () => answer(h, issuanceId, true, late), (e: unknown) => e instanceof ServiceError && e.code === 'invalid_state');
      assert.equal(attemptStatus(h, issuanceId), 'expired');
      assert.equal(appStatus(h, app.applicationId), 'submitted');
    });

    for (const status of ['approved', 'delivered'] as const) {
      it(`${status} past the print timeout → expired; no document is handed out afterwards`, async () => {
        const h = setup();
        const { app, issuanceId } = await reach(h, status);
        const enteredAt = status === 'approved' ? T0 + 2 * SEC : T0 + 3 * SEC;
        const deadline = enteredAt + h.config.printTimeoutMs;
        assert.equal(h.ctx.lifecycle.sweep(deadline - 1), 0);
        assert.equal(h.ctx.lifecycle.sweep(deadline), 1);
        assert.equal(attemptStatus(h, issuanceId), 'expired');
        assert.equal(appStatus(h, app.applicationId), 'submitted');
        assert.equal(h.ctx.stores.applications.document(issuanceId), null);
        await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.document(h.kioskA, issuanceId, deadline + 1));
        await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, deadline + 1));
      });
    }

    it('ending an attempt after the receipt expired → application expired (abandon, decline, timeout)', async () => {
      const validity = 60 * SEC;
      for (const ending of ['abandon', 'decline', 'timeout', 'print_failed'] as const) {
        const h = setup({ receiptValidityMs: validity, confirmationTimeoutMs: 5 * MIN });
        const app = apply(h, T0);
        const started = h.ctx.issuance.start(h.kioskA, app.receiptNumber, T0 + 50 * SEC);
        const after = T0 + validity + 10 * SEC;
        if (ending === 'abandon') h.ctx.issuance.abandon(h.kioskA, started.issuanceId, after);
        if (ending === 'decline') answer(h, started.issuanceId, false, after);
        if (ending === 'timeout') h.ctx.lifecycle.sweep(T0 + 50 * SEC + 5 * MIN);
        if (ending === 'print_failed') {
          answer(h, started.issuanceId, true, T0 + 55 * SEC);
          h.ctx.issuance.result(h.kioskA, started.issuanceId, { outcome: 'failed' }, after);
        }
        assert.equal(appStatus(h, app.applicationId), 'expired', ending);
        await refusedCode(() => h.ctx.issuance.start(h.kioskB, app.receiptNumber, after + SEC), 'receipt_not_found');
      }
    });

    it('submitted past its expiry → expired (exactly at expiresAt)', () => {
      const h = setup();
      const app = apply(h);
      const expiry = T0 + h.config.receiptValidityMs;
      assert.equal(h.ctx.lifecycle.sweep(expiry - 1), 0);
      assert.equal(appStatus(h, app.applicationId), 'submitted');
      assert.equal(h.ctx.lifecycle.sweep(expiry), 1);
      assert.equal(appStatus(h, app.applicationId), 'expired');
      assert.equal(h.ctx.lifecycle.sweep(expiry + 1), 0);
    });

    it('an expired receipt looks exactly like an unknown one to a kiosk, even before a sweep', async () => {
      const h = setup();
      const app = apply(h);
      const expiry = T0 + h.config.receiptValidityMs;
      const unknown = await refusedCode(() => h.ctx.issuance.start(h.kioskA, '000000000000', expiry), 'receipt_not_found');
      const expired = await refusedCode(() => h.ctx.issuance.start(h.kioskA, app.receiptNumber, expiry), 'receipt_not_found');
      assert.equal(expired.message, unknown.message);
      await refusedCode(() => h.ctx.issuance.start(h.kioskA, '123456789012', expiry), 'receipt_malformed');
    });
  });

  describe('events', () => {
    it('are emitted only after commit, and listeners see the committed state', async () => {
      const h = setup();
      const seen: { kind: string; status: string; inTx: boolean; stored: string | undefined }[] = [];
      h.ctx.events.on('application', (e: ApplicationChanged) => {
        seen.push({ kind: 'application', status: e.status, inTx: h.ctx.db.inTransaction, stored: h.ctx.stores.applications.get(e.applicationId)?.status });
      });
      h.ctx.events.on('attempt', (e: AttemptChanged) => {
        seen.push({ kind: 'attempt', status: e.status, inTx: h.ctx.db.inTransaction, stored: h.ctx.stores.applications.attempt(e.attemptId)?.status });
      });
      const { app, issuanceId, now } = await reach(h, 'delivered');
      h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now + SEC);
      assert.ok(seen.length >= 6, JSON.stringify(seen));
      for (const s of seen) {
        assert.equal(s.inTx, false, `${s.kind} ${s.status} emitted inside the transaction`);
      }
      // the final events match what is stored
      assert.deepEqual(seen.slice(-2).map((s) => [s.kind, s.status, s.stored]), [
        ['application', 'printed', 'printed'],
        ['attempt', 'printed', 'printed'],
      ]);
      assert.deepEqual(
        seen.filter((s) => s.kind === 'attempt').map((s) => s.status),
        ['confirmation_pending', 'approved', 'delivered', 'printed'],
      );
      assert.equal(appStatus(h, app.applicationId), 'printed');
    });

    it('a refused transition emits nothing', async () => {
      const h = setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      let events = 0;
      h.ctx.events.on('application', () => events++);
      h.ctx.events.on('attempt', () => events++);
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.result(h.kioskA, issuanceId, { outcome: 'printed' }, now));
      h.ctx.db.prepare(`UPDATE applications SET status = 'cancelled' WHERE id = ?`).run(app.applicationId);
      await refused(h, app.applicationId, 'invalid_state', () => h.ctx.issuance.abandon(h.kioskA, issuanceId, now));
      assert.equal(events, 0);
    });

    it('a throwing listener neither undoes a committed transition nor fails the caller', async () => {
      const h = setup();
      const app = apply(h);
      h.ctx.events.on('application', () => {
        throw new Error('listener bug');
      });
      const heard: string[] = [];
      h.ctx.events.on('attempt', (e) => heard.push(e.status));
      // The kiosk must learn that its attempt opened: it holds the receipt now.
      const started = h.ctx.issuance.start(h.kioskA, app.receiptNumber, T0 + SEC);
      assert.equal(started.status, 'confirmation_pending');
      assert.equal(appStatus(h, app.applicationId), 'in_issuance');
      assert.deepEqual(heard, ['confirmation_pending']);
      // and the sweep goes on past a failing listener
      const other = apply(h, T0);
      assert.equal(h.ctx.lifecycle.sweep(T0 + h.config.receiptValidityMs), 2);
      assert.equal(appStatus(h, other.applicationId), 'expired');
      assert.equal(attemptStatus(h, started.issuanceId), 'expired');
    });
  });
});

async function refusedCode(fn: () => unknown, code: string): Promise<ServiceError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ServiceError, `expected ServiceError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}
