import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { confirmationSignedText, formatReceiptNumber, residentRecordSchema, type Application, type IssuanceResultRequest, type IssuanceStatus } from '@cert/common';
import { pino } from 'pino';
import { defaultServerConfig, type ServerConfig } from '../../src/config.ts';
import { createContext, type ServerContext } from '../../src/context.ts';
import { sharedRenderPool } from '@cert/scripts/rig';
import { parseDeviceKey, type DeviceKey } from '../../src/services/device-keys.ts';
import type { ApplicationChanged, AttemptChanged } from '../../src/services/lifecycle-events.ts';
import { ServiceError } from '../../src/services/service-error.ts';
import type { Kiosk } from '../../src/store/kiosk-store.ts';
import type { Resident } from '../../src/store/resident-store.ts';
import type { Session } from '../../src/store/session-store.ts';
import { testPostgres, testStorage } from '../test-storage.ts';

const silent = pino({ level: 'silent' });
const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2030, 0, 15, 1, 0, 0);
/** What either engine says when a unique index refuses a row. */
const UNIQUE_VIOLATION = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

const RESIDENT: Resident = residentRecordSchema.parse({
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
});

interface Harness {
  ctx: ServerContext;
  config: ServerConfig;
  /** The injected clock: every service call below sets it to the moment the test names. */
  clock: { now: number };
  kioskA: Kiosk;
  kioskB: Kiosk;
  device: DeviceKey;
  privateKey: KeyObject;
  session: Session;
}

let open: Harness[] = [];
const removals: (() => Promise<void>)[] = [];

async function setup(overrides: Partial<ServerConfig> = {}): Promise<Harness> {
  const clock = { now: T0 };
  const storage = await testStorage('migrated');
  removals.push(storage.remove);
  const config: ServerConfig = {
    ...defaultServerConfig(storage.config.dataDir),
    ...storage.config,
    // Keep the rate limits out of the way of the lifecycle under test.
    kioskRateLimit: { burst: 1000, perMinute: 1000 },
    globalRateLimit: { burst: 1000, perMinute: 1000 },
    ...overrides,
    clock: () => clock.now,
  };
  const ctx = await createContext(config, silent, () => 'http://x', await sharedRenderPool());
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const device = parseDeviceKey(publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
  const kioskA: Kiosk = { id: 'kiosk-a', name: 'Store A', location: 'Test-shi 1-1', credentialSha256: 'a'.repeat(64) };
  const kioskB: Kiosk = { id: 'kiosk-b', name: 'Store B', location: 'Test-shi 2-2', credentialSha256: 'b'.repeat(64) };
  await ctx.store.write(async (tx) => {
    await tx.residents.setMunicipality('999991', 'テスト市', T0);
    await tx.residents.upsert(RESIDENT, T0);
    await tx.sessions.registerDevice(device.sha256, device.der, T0);
    await tx.kiosks.add(kioskA, T0);
    await tx.kiosks.add(kioskB, T0);
  });
  const h = { ctx, config, clock, kioskA, kioskB, device, privateKey, session: { residentId: RESIDENT.id, deviceKeySha256: device.sha256, expiresAt: T0 + 3600 * SEC, card: null, tokenSha256: 'test' } };
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open) await h.ctx.close();
  open = [];
  for (const remove of removals.splice(0)) await remove();
});

/** Runs `fn` with the clock at `now`. */
function at<T>(h: Harness, now: number, fn: () => Promise<T>): Promise<T> {
  h.clock.now = now;
  return fn();
}

const apply = (h: Harness, now = T0): Promise<Application> => at(h, now, () => h.ctx.applications.create(h.session, { certificateType: 'juminhyo', options: {}, copies: 1 }));
const start = (h: Harness, kiosk: Kiosk, receipt: string, now: number) => at(h, now, () => h.ctx.issuance.start(kiosk, receipt));
const fetchDocument = (h: Harness, kiosk: Kiosk, id: string, now: number) => at(h, now, () => h.ctx.issuance.document(kiosk, id));
const report = (h: Harness, kiosk: Kiosk, id: string, body: IssuanceResultRequest, now: number) => at(h, now, () => h.ctx.issuance.result(kiosk, id, body));
const abandon = (h: Harness, kiosk: Kiosk, id: string, now: number) => at(h, now, () => h.ctx.issuance.abandon(kiosk, id));
const cancel = (h: Harness, id: string, now: number) => at(h, now, () => h.ctx.applications.cancel(h.session, id));
const sweep = (h: Harness, now: number) => at(h, now, () => h.ctx.lifecycle.sweep(now));

function deviceSignature(h: Harness, requestId: string, approved: boolean): string {
  return sign('sha256', confirmationSignedText(requestId, approved), { key: h.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
}

async function attempt(h: Harness, id: string) {
  return (await h.ctx.store.read((tx) => tx.applications.attempt(id)))!;
}

async function requestIdOf(h: Harness, issuanceId: string): Promise<string> {
  return (await attempt(h, issuanceId)).requestId;
}

async function answer(h: Harness, issuanceId: string, approved: boolean, now: number): Promise<IssuanceStatus> {
  const requestId = await requestIdOf(h, issuanceId);
  return at(h, now, () => h.ctx.issuance.confirm(h.device, requestId, approved, deviceSignature(h, requestId, approved)));
}

const rows = <R>(h: Harness, sql: string, params: unknown[] = []) => h.ctx.store.db.read((x) => x.all<R>(sql, params));
const count = async (h: Harness, sql: string, params: unknown[] = []) => Number((await rows<{ n: number }>(h, sql, params))[0]!.n);
const appStatus = async (h: Harness, id: string) => (await h.ctx.store.read((tx) => tx.applications.get(id)))!.status;
const attemptStatus = async (h: Harness, id: string) => (await attempt(h, id)).status;
const auditRows = (h: Harness) => count(h, 'SELECT COUNT(*) AS n FROM audit_log');

/** Everything a transition could touch: both tables' rows for the application, and the audit length. */
async function snapshot(h: Harness, applicationId: string) {
  return {
    app: (await rows(h, 'SELECT * FROM applications WHERE id = ?', [applicationId]))[0],
    attempts: await rows(
      h,
      'SELECT id, status, deadline_at, updated_at, result_detail, kiosk_seen_status, document_sha256, length(document) AS doc FROM issuance_attempts WHERE application_id = ? ORDER BY created_at, id',
      [applicationId],
    ),
    documents: await count(h, 'SELECT COUNT(*) AS n FROM issued_documents'),
    audit: await auditRows(h),
  };
}

/** Asserts that `fn` fails with `code` and leaves the records and the audit log exactly as they were. */
async function refused(h: Harness, applicationId: string, code: string, fn: () => Promise<unknown>): Promise<void> {
  const before = await snapshot(h, applicationId);
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
  assert.deepEqual(await snapshot(h, applicationId), before);
}

/** Drives a fresh application into the attempt status asked for; returns ids and the time reached. */
async function reach(h: Harness, status: 'confirmation_pending' | 'approved' | 'delivered', t = T0): Promise<{ app: Application; issuanceId: string; now: number }> {
  const app = await apply(h, t);
  const started = await start(h, h.kioskA, app.receiptNumber, t + SEC);
  if (status !== 'confirmation_pending') {
    await answer(h, started.issuanceId, true, t + 2 * SEC);
    // The approval starts the render; its stored document must not land inside a caller's snapshot.
    await h.ctx.issuance.prepared(started.issuanceId);
  }
  if (status === 'delivered') await fetchDocument(h, h.kioskA, started.issuanceId, t + 3 * SEC);
  assert.equal(await attemptStatus(h, started.issuanceId), status);
  return { app, issuanceId: started.issuanceId, now: t + 3 * SEC };
}

/** Moves the resident's record as the register would (a live update behind the issuance's back). */
async function changeResident(h: Harness, change: Partial<Resident>): Promise<void> {
  await h.ctx.store.write(async (tx) => {
    // Each change is a newer version of the record, as the register sends it.
    const version = ((await tx.residents.get(RESIDENT.id))?.version ?? 0) + 1;
    assert.equal(await tx.residents.upsert({ ...RESIDENT, ...change, version }, h.clock.now), 'applied');
  });
}

describe(`lifecycle state machine (unit, ${testPostgres() ? 'PostgreSQL' : 'in-memory SQLite'})`, function () {
  this.timeout(60_000);

  describe('allowed transitions', () => {
    it('apply → submitted, with a fresh receipt number and an audit row', async () => {
      const h = await setup();
      const audit = await auditRows(h);
      const app = await apply(h);
      assert.equal(app.status, 'submitted');
      assert.match(app.receiptNumber, /^\d{12}$/);
      assert.equal(app.expiresAt, new Date(T0 + h.config.receiptValidityMs).toISOString());
      assert.equal(await auditRows(h), audit + 1);
      assert.notEqual((await apply(h)).receiptNumber, app.receiptNumber);
    });

    it('start: submitted → in_issuance, attempt confirmation_pending (receipt typed with separators)', async () => {
      const h = await setup();
      const app = await apply(h);
      const r = await start(h, h.kioskA, ` ${formatReceiptNumber(app.receiptNumber)} `, T0 + SEC);
      assert.equal(r.status, 'confirmation_pending');
      assert.equal(r.certificateType, 'juminhyo');
      assert.equal(r.copies, 1);
      assert.equal(r.fee, 200);
      assert.equal(r.expiresAt, new Date(T0 + SEC + h.config.confirmationTimeoutMs).toISOString());
      assert.equal(await appStatus(h, app.applicationId), 'in_issuance');
      assert.equal(await attemptStatus(h, r.issuanceId), 'confirmation_pending');
      const pending = await at(h, T0 + 2 * SEC, () => h.ctx.issuance.pendingRequests([h.device.sha256]));
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.receiptNumber, app.receiptNumber);
      assert.deepEqual(pending[0]!.kiosk, { id: 'kiosk-a', name: 'Store A', location: 'Test-shi 1-1' });
    });

    it('confirmation_pending → approved (device says yes); the document is rendered right away', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      assert.equal(await answer(h, issuanceId, true, T0 + 2 * SEC), 'approved');
      assert.equal(await attemptStatus(h, issuanceId), 'approved');
      assert.equal(await appStatus(h, app.applicationId), 'in_issuance');
      assert.equal((await attempt(h, issuanceId)).deadlineAt, T0 + 2 * SEC + h.config.printTimeoutMs);
      // The approval starts the render, so that the kiosk's fetch finds the document ready.
      await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
      assert.equal(await count(h, 'SELECT COUNT(*) AS n FROM issued_documents'), 0, 'registered only when delivered');
    });

    it('confirmation_pending → declined; the application is printable again, at another kiosk', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      assert.equal(await answer(h, issuanceId, false, T0 + 2 * SEC), 'declined');
      assert.equal(await attemptStatus(h, issuanceId), 'declined');
      assert.equal(await appStatus(h, app.applicationId), 'submitted');
      const again = await start(h, h.kioskB, app.receiptNumber, T0 + 3 * SEC);
      assert.equal(await attemptStatus(h, again.issuanceId), 'confirmation_pending');
      assert.equal(await appStatus(h, app.applicationId), 'in_issuance');
    });

    it('confirmation_pending → abandoned', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      assert.equal(await abandon(h, h.kioskA, issuanceId, T0 + 5 * SEC), 'abandoned');
      assert.equal(await attemptStatus(h, issuanceId), 'abandoned');
      assert.equal(await appStatus(h, app.applicationId), 'submitted');
      // abandoning twice is harmless and changes nothing
      const before = await snapshot(h, app.applicationId);
      assert.equal(await abandon(h, h.kioskA, issuanceId, T0 + 6 * SEC), 'abandoned');
      assert.deepEqual(await snapshot(h, app.applicationId), before);
    });

    it('approved → delivered → printed; the application is printed', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'approved');
      const pdf = await fetchDocument(h, h.kioskA, issuanceId, T0 + 3 * SEC);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.equal(await attemptStatus(h, issuanceId), 'delivered');
      assert.equal((await attempt(h, issuanceId)).deadlineAt, T0 + 3 * SEC + h.config.printTimeoutMs, 'the print deadline counts from delivery');
      // resuming the fetch at the same kiosk hands out the same bytes, no new render
      assert.deepEqual(await fetchDocument(h, h.kioskA, issuanceId, T0 + 4 * SEC), pdf);
      assert.equal(await count(h, 'SELECT COUNT(*) AS n FROM issued_documents'), 1);
      assert.equal(await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, T0 + 5 * SEC), 'printed');
      assert.equal(await attemptStatus(h, issuanceId), 'printed');
      assert.equal(await appStatus(h, app.applicationId), 'printed');
      // the document bytes are dropped once the attempt is final; the register entry stays
      assert.equal(await h.ctx.store.read((tx) => tx.applications.document(issuanceId)), null);
      assert.equal(await count(h, 'SELECT COUNT(*) AS n FROM issued_documents'), 1);
    });

    for (const from of ['approved', 'delivered'] as const) {
      it(`${from} → print_failed; the application is printable again`, async () => {
        const h = await setup();
        const { app, issuanceId, now } = await reach(h, from);
        assert.equal(await report(h, h.kioskA, issuanceId, { outcome: 'failed', detail: 'paper jam' }, now + SEC), 'print_failed');
        assert.equal(await attemptStatus(h, issuanceId), 'print_failed');
        assert.equal(await appStatus(h, app.applicationId), 'submitted');
        assert.equal((await rows<{ result_detail: string }>(h, 'SELECT result_detail FROM issuance_attempts WHERE id = ?', [issuanceId]))[0]!.result_detail, 'paper jam');
      });

      it(`${from} → abandoned; the application is printable again`, async () => {
        const h = await setup();
        const { app, issuanceId, now } = await reach(h, from);
        assert.equal(await abandon(h, h.kioskA, issuanceId, now + SEC), 'abandoned');
        assert.equal(await appStatus(h, app.applicationId), 'submitted');
        assert.equal((await start(h, h.kioskB, app.receiptNumber, now + 2 * SEC)).status, 'confirmation_pending');
      });
    }

    it('submitted → cancelled by the applicant (idempotent)', async () => {
      const h = await setup();
      const app = await apply(h);
      assert.deepEqual(await cancel(h, app.applicationId, T0 + SEC), { status: 'cancelled' });
      assert.equal(await appStatus(h, app.applicationId), 'cancelled');
      const before = await snapshot(h, app.applicationId);
      assert.deepEqual(await cancel(h, app.applicationId, T0 + 2 * SEC), { status: 'cancelled' });
      assert.deepEqual(await snapshot(h, app.applicationId), before);
    });

    it('cancel during confirmation_pending declines the attempt and cancels the application', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      await cancel(h, app.applicationId, T0 + 5 * SEC);
      assert.equal(await attemptStatus(h, issuanceId), 'declined');
      assert.equal(await appStatus(h, app.applicationId), 'cancelled');
      // and the receipt is gone for kiosks
      await refusedCode(() => start(h, h.kioskB, app.receiptNumber, T0 + 6 * SEC), 'receipt_not_found');
    });
  });

  describe('forbidden transitions throw invalid_state and change nothing', () => {
    it('from confirmation_pending: document, result printed, result failed', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'confirmation_pending');
      await refused(h, app.applicationId, 'invalid_state', () => fetchDocument(h, h.kioskA, issuanceId, now));
      await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now));
      await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'failed' }, now));
    });

    it('from approved: result printed (never fetched), a second answer, cancel', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
      await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now));
      await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, false, now));
      await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, true, now));
      await refused(h, app.applicationId, 'invalid_state', () => cancel(h, app.applicationId, now));
    });

    it('from delivered: answers and cancel', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'delivered');
      await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, true, now));
      await refused(h, app.applicationId, 'invalid_state', () => cancel(h, app.applicationId, now));
    });

    for (const final of ['declined', 'abandoned', 'expired', 'print_failed', 'printed'] as const) {
      it(`from ${final}: nothing moves the attempt any more`, async () => {
        const h = await setup();
        const { app, issuanceId, now } = await reach(h, final === 'print_failed' || final === 'printed' ? 'delivered' : 'confirmation_pending');
        let t = now + SEC;
        if (final === 'declined') await answer(h, issuanceId, false, t);
        if (final === 'abandoned') await abandon(h, h.kioskA, issuanceId, t);
        if (final === 'expired') {
          t = T0 + SEC + h.config.confirmationTimeoutMs;
          assert.equal(await sweep(h, t), 1);
        }
        if (final === 'print_failed') await report(h, h.kioskA, issuanceId, { outcome: 'failed' }, t);
        if (final === 'printed') await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, t);
        assert.equal(await attemptStatus(h, issuanceId), final);
        t += SEC;
        await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, true, t));
        await refused(h, app.applicationId, 'invalid_state', () => answer(h, issuanceId, false, t));
        await refused(h, app.applicationId, 'invalid_state', () => fetchDocument(h, h.kioskA, issuanceId, t));
        if (final !== 'printed') await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'printed' }, t));
        if (final !== 'print_failed') await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'failed' }, t));
        if (final !== 'abandoned') await refused(h, app.applicationId, 'invalid_state', () => abandon(h, h.kioskA, issuanceId, t));
        // a sweep much later leaves a final attempt alone
        const before = (await snapshot(h, app.applicationId)).attempts;
        await sweep(h, t + 10 * h.config.printTimeoutMs);
        assert.deepEqual((await snapshot(h, app.applicationId)).attempts, before);
      });
    }

    it('printed is final for the application: cancel, a new start and a sweep past expiry change nothing', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'delivered');
      await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now + SEC);
      await refused(h, app.applicationId, 'invalid_state', () => cancel(h, app.applicationId, now + 2 * SEC));
      const before = await snapshot(h, app.applicationId);
      await refusedCode(() => start(h, h.kioskB, app.receiptNumber, now + 3 * SEC), 'receipt_not_found');
      await sweep(h, T0 + h.config.receiptValidityMs + 1);
      const after = await snapshot(h, app.applicationId);
      assert.deepEqual(after.app, before.app);
      assert.deepEqual(after.attempts, before.attempts);
      assert.equal(await appStatus(h, app.applicationId), 'printed');
    });

    it('a receipt prints at most once: repeated results do not print again', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'delivered');
      assert.equal(await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now + SEC), 'printed');
      const before = await snapshot(h, app.applicationId);
      // a retried report is answered with the same status and changes nothing
      assert.equal(await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now + 2 * SEC), 'printed');
      assert.deepEqual(await snapshot(h, app.applicationId), before);
      await refusedCode(() => start(h, h.kioskA, app.receiptNumber, now + 3 * SEC), 'receipt_not_found');
      assert.equal(await count(h, `SELECT COUNT(*) AS n FROM issuance_attempts WHERE application_id = ? AND status = 'printed'`, [app.applicationId]), 1);
    });

    it('cancelled and expired applications cannot be cancelled into anything else, nor started', async () => {
      const h = await setup();
      const cancelled = await apply(h);
      await cancel(h, cancelled.applicationId, T0 + SEC);
      await refusedCode(() => start(h, h.kioskA, cancelled.receiptNumber, T0 + 2 * SEC), 'receipt_not_found');
      const expired = await apply(h);
      await sweep(h, T0 + h.config.receiptValidityMs);
      assert.equal(await appStatus(h, expired.applicationId), 'expired');
      await refused(h, expired.applicationId, 'invalid_state', () => cancel(h, expired.applicationId, T0 + h.config.receiptValidityMs + SEC));
    });

    it('the guard on the application is real: an attempt cannot end when its application moved (tampered)', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
      // Simulate a record changed behind the service's back.
      await h.ctx.store.db.write((x) => x.run(`UPDATE applications SET status = 'cancelled' WHERE id = ?`, [app.applicationId]));
      await refused(h, app.applicationId, 'invalid_state', () => abandon(h, h.kioskA, issuanceId, now + SEC));
      assert.equal(await attemptStatus(h, issuanceId), 'approved');
    });

    it('moveApplication refuses a wrong expected status without writing', async () => {
      const h = await setup();
      const app = await apply(h);
      const rec = (await h.ctx.store.read((tx) => tx.applications.get(app.applicationId)))!;
      const before = await snapshot(h, app.applicationId);
      await assert.rejects(
        h.ctx.store.write((tx) => h.ctx.lifecycle.moveApplication(tx, rec, 'in_issuance', 'printed', 'system', T0 + SEC)),
        (e: unknown) => e instanceof ServiceError && e.code === 'invalid_state',
      );
      assert.deepEqual(await snapshot(h, app.applicationId), before);
    });

    it('another kiosk sees only its own issuances', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
      await refused(h, app.applicationId, 'not_found', () => fetchDocument(h, h.kioskB, issuanceId, now));
      await refused(h, app.applicationId, 'not_found', () => abandon(h, h.kioskB, issuanceId, now));
      await refused(h, app.applicationId, 'not_found', () => report(h, h.kioskB, issuanceId, { outcome: 'failed' }, now));
    });

    it('an answer signed for the other choice, or by another device, is refused', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'confirmation_pending');
      const requestId = await requestIdOf(h, issuanceId);
      // signature over "decline" presented as an approval
      await refused(h, app.applicationId, 'signature_invalid', () => at(h, now, () => h.ctx.issuance.confirm(h.device, requestId, true, deviceSignature(h, requestId, false))));
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const otherDevice = parseDeviceKey(other.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
      const otherSig = sign('sha256', confirmationSignedText(requestId, true), { key: other.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
      await refused(h, app.applicationId, 'not_found', () => at(h, now, () => h.ctx.issuance.confirm(otherDevice, requestId, true, otherSig)));
      assert.equal(await attemptStatus(h, issuanceId), 'confirmation_pending');
    });
  });

  describe('one open attempt per application', () => {
    it('a second start gets issuance_in_progress and changes no record', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'confirmation_pending');
      const before = await snapshot(h, app.applicationId);
      await refusedCode(() => start(h, h.kioskB, app.receiptNumber, now), 'issuance_in_progress');
      await refusedCode(() => start(h, h.kioskA, app.receiptNumber, now), 'issuance_in_progress');
      const after = await snapshot(h, app.applicationId);
      assert.deepEqual(after.app, before.app);
      assert.deepEqual(after.attempts, before.attempts);
      // only the refused lookups are recorded
      const added = await rows<{ event: string }>(h, 'SELECT event FROM audit_log WHERE seq > ? ORDER BY seq', [before.audit]);
      assert.deepEqual(added.map((r) => r.event), ['kiosk.lookup_refused', 'kiosk.lookup_refused']);
      assert.equal(await attemptStatus(h, issuanceId), 'confirmation_pending');
    });

    it('the database unique index blocks a second holding attempt even when inserted directly', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'approved');
      const base = { ...(await attempt(h, issuanceId)), id: 'direct-1', requestId: 'direct-req-1', status: 'confirmation_pending' as const };
      await assert.rejects(h.ctx.store.write((tx) => tx.applications.insertAttempt(base)), UNIQUE_VIOLATION);
      for (const status of ['approved', 'delivered', 'outcome_unknown']) {
        await assert.rejects(
          h.ctx.store.db.write((x) =>
            x.run(
              `INSERT INTO issuance_attempts (id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at, kiosk_seen_status, updated_at)
               VALUES (?, ?, ?, 'kiosk-b', ?, 0, 0, 'confirmation_pending', 0)`,
              [`raw-${status}`, `raw-req-${status}`, app.applicationId, status],
            ),
          ),
          UNIQUE_VIOLATION,
        );
      }
      // a closed attempt alongside is fine
      await h.ctx.store.write((tx) => tx.applications.insertAttempt({ ...base, id: 'direct-2', requestId: 'direct-req-2', status: 'abandoned' }));
      assert.equal((await h.ctx.store.read((tx) => tx.applications.holdingAttemptFor(app.applicationId)))!.id, issuanceId);
    });
  });

  describe('timeouts (sweep with an injected clock)', () => {
    it('confirmation_pending past its deadline → expired, application back to submitted', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      const deadline = T0 + SEC + h.config.confirmationTimeoutMs;
      assert.equal(await sweep(h, deadline - 1), 0);
      assert.equal(await attemptStatus(h, issuanceId), 'confirmation_pending');
      assert.equal(await sweep(h, deadline), 1);
      assert.equal(await attemptStatus(h, issuanceId), 'expired');
      assert.equal(await appStatus(h, app.applicationId), 'submitted');
      assert.deepEqual(await at(h, deadline, () => h.ctx.issuance.pendingRequests([h.device.sha256])), []);
    });

    it('a late approval never wins: the attempt expires first even without a sweep', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      const late = T0 + SEC + h.config.confirmationTimeoutMs + 5;
      await assert.rejects(answer(h, issuanceId, true, late), (e: unknown) => e instanceof ServiceError && e.code === 'invalid_state');
      assert.equal(await attemptStatus(h, issuanceId), 'expired');
      assert.equal(await appStatus(h, app.applicationId), 'submitted');
    });

    it('approved past the print timeout → expired; no document is handed out afterwards', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'approved');
      const deadline = T0 + 2 * SEC + h.config.printTimeoutMs;
      assert.equal(await sweep(h, deadline - 1), 0);
      assert.equal(await sweep(h, deadline), 1);
      assert.equal(await attemptStatus(h, issuanceId), 'expired');
      assert.equal(await appStatus(h, app.applicationId), 'submitted');
      assert.equal(await h.ctx.store.read((tx) => tx.applications.document(issuanceId)), null);
      await refused(h, app.applicationId, 'invalid_state', () => fetchDocument(h, h.kioskA, issuanceId, deadline + 1));
      await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'printed' }, deadline + 1));
    });

    it('delivered past the print timeout → outcome_unknown: final for the receipt, never printable again', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'delivered');
      const deadline = T0 + 3 * SEC + h.config.printTimeoutMs;
      assert.equal(await sweep(h, deadline - 1), 0);
      assert.equal(await sweep(h, deadline), 1);
      assert.equal(await attemptStatus(h, issuanceId), 'outcome_unknown');
      assert.equal(await appStatus(h, app.applicationId), 'outcome_unknown');
      // the paper may exist: no kiosk gets the receipt again, and the verification code stays valid
      await refusedCode(() => start(h, h.kioskB, app.receiptNumber, deadline + SEC), 'receipt_not_found');
      assert.ok(await h.ctx.store.read(async (tx) => (await tx.applications.unsettled()).some((u) => u.id === issuanceId)));
      // a sweep long after changes nothing, even past the receipt's validity
      const before = await snapshot(h, app.applicationId);
      await sweep(h, T0 + 2 * h.config.receiptValidityMs);
      assert.deepEqual((await snapshot(h, app.applicationId)).attempts, before.attempts);
      assert.equal(await appStatus(h, app.applicationId), 'outcome_unknown');
    });

    for (const outcome of ['printed', 'failed'] as const) {
      it(`outcome_unknown → ${outcome === 'printed' ? 'printed' : 'print_failed'} when the kiosk reports late what its printer did`, async () => {
        const h = await setup();
        const { app, issuanceId } = await reach(h, 'delivered');
        const deadline = T0 + 3 * SEC + h.config.printTimeoutMs;
        await sweep(h, deadline);
        assert.equal(await report(h, h.kioskA, issuanceId, { outcome }, deadline + MIN), outcome === 'printed' ? 'printed' : 'print_failed');
        assert.equal(await appStatus(h, app.applicationId), outcome === 'printed' ? 'printed' : 'submitted');
        // another kiosk cannot settle it
        await refusedCode(() => report(h, h.kioskB, issuanceId, { outcome: 'printed' }, deadline + 2 * MIN), 'not_found');
      });
    }

    it('a result for a delivered attempt just past its deadline still counts (the report is the truth)', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'delivered');
      const late = T0 + 3 * SEC + h.config.printTimeoutMs + 10;
      assert.equal(await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, late), 'printed');
      assert.equal(await appStatus(h, app.applicationId), 'printed');
    });

    it('staff settle an unknown outcome: not-printed returns the receipt, printed makes it final; both audited', async () => {
      for (const outcome of ['printed', 'not-printed'] as const) {
        const h = await setup();
        const { app, issuanceId } = await reach(h, 'delivered');
        await sweep(h, T0 + 3 * SEC + h.config.printTimeoutMs);
        await refusedAdmin(() => h.ctx.admin.settleIssuance('no-such-id', outcome));
        const r = await h.ctx.admin.settleIssuance(issuanceId, outcome, 'checked with the store');
        assert.equal(r.status, outcome === 'printed' ? 'printed' : 'print_failed');
        assert.equal(await appStatus(h, app.applicationId), outcome === 'printed' ? 'printed' : 'submitted');
        assert.deepEqual(await h.ctx.admin.unsettledIssuances(), []);
        const audit = await rows<{ actor: string; event: string }>(h, `SELECT actor, event FROM audit_log WHERE subject = ? ORDER BY seq DESC LIMIT 2`, [issuanceId]);
        assert.deepEqual(audit.map((a) => `${a.actor} ${a.event}`).sort(), ['admin admin.issuance.settle', 'admin issuance.status']);
        await refusedAdmin(() => h.ctx.admin.settleIssuance(issuanceId, outcome));
      }
    });

    it('ending an attempt after the receipt expired → application expired (abandon, decline, timeout)', async () => {
      const validity = 60 * SEC;
      for (const ending of ['abandon', 'decline', 'timeout', 'print_failed'] as const) {
        const h = await setup({ receiptValidityMs: validity, confirmationTimeoutMs: 5 * MIN });
        const app = await apply(h, T0);
        const started = await start(h, h.kioskA, app.receiptNumber, T0 + 50 * SEC);
        const after = T0 + validity + 10 * SEC;
        if (ending === 'abandon') await abandon(h, h.kioskA, started.issuanceId, after);
        if (ending === 'decline') await answer(h, started.issuanceId, false, after);
        if (ending === 'timeout') await sweep(h, T0 + 50 * SEC + 5 * MIN);
        if (ending === 'print_failed') {
          await answer(h, started.issuanceId, true, T0 + 55 * SEC);
          await report(h, h.kioskA, started.issuanceId, { outcome: 'failed' }, after);
        }
        assert.equal(await appStatus(h, app.applicationId), 'expired', ending);
        await refusedCode(() => start(h, h.kioskB, app.receiptNumber, after + SEC), 'receipt_not_found');
      }
    });

    it('submitted past its expiry → expired (exactly at expiresAt)', async () => {
      const h = await setup();
      const app = await apply(h);
      const expiry = T0 + h.config.receiptValidityMs;
      assert.equal(await sweep(h, expiry - 1), 0);
      assert.equal(await appStatus(h, app.applicationId), 'submitted');
      assert.equal(await sweep(h, expiry), 1);
      assert.equal(await appStatus(h, app.applicationId), 'expired');
      assert.equal(await sweep(h, expiry + 1), 0);
    });

    it('an expired receipt looks exactly like an unknown one to a kiosk, even before a sweep', async () => {
      const h = await setup();
      const app = await apply(h);
      const expiry = T0 + h.config.receiptValidityMs;
      const unknown = await refusedCode(() => start(h, h.kioskA, '000000000000', expiry), 'receipt_not_found');
      const expired = await refusedCode(() => start(h, h.kioskA, app.receiptNumber, expiry), 'receipt_not_found');
      assert.equal(expired.message, unknown.message);
      await refusedCode(() => start(h, h.kioskA, '123456789012', expiry), 'receipt_malformed');
    });

    it('an attempt left behind past its deadline does not block its receipt until the next sweep', async () => {
      const h = await setup();
      const { app, issuanceId } = await reach(h, 'confirmation_pending');
      const later = T0 + SEC + h.config.confirmationTimeoutMs + SEC;
      const again = await start(h, h.kioskB, app.receiptNumber, later);
      assert.equal(await attemptStatus(h, issuanceId), 'expired');
      assert.equal(await attemptStatus(h, again.issuanceId), 'confirmation_pending');
    });
  });

  describe('the data decides, at the claim and again at delivery', () => {
    for (const [change, code] of [
      [{ status: 'moved_out' }, 'moved_out'],
      [{ status: 'deceased' }, 'deceased'],
      [{ supportMeasure: true }, 'support_measure'],
    ] as const) {
      it(`${JSON.stringify(change)} after the application: the claim is refused with ${code}`, async () => {
        const h = await setup();
        const app = await apply(h);
        await changeResident(h, change);
        await refusedCode(() => start(h, h.kioskA, app.receiptNumber, T0 + SEC), code);
        assert.equal(await appStatus(h, app.applicationId), 'submitted', 'nothing was claimed');
      });

      it(`${JSON.stringify(change)} after the approval: no document; the attempt ends refused (${code}) and the kiosk and device are told`, async () => {
        const h = await setup();
        const heard: AttemptChanged[] = [];
        h.ctx.store.changes.on('attempt', (c) => heard.push(c));
        const { app, issuanceId } = await reach(h, 'approved');
        await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
        await changeResident(h, change);
        await refusedCode(() => fetchDocument(h, h.kioskA, issuanceId, T0 + 4 * SEC), code);
        const a = await attempt(h, issuanceId);
        assert.equal(a.status, 'refused');
        assert.equal(a.refusalCode, code);
        assert.equal(await appStatus(h, app.applicationId), 'submitted', 'the receipt waits for the data to allow it');
        assert.equal(await count(h, 'SELECT COUNT(*) AS n FROM issued_documents'), 0, 'no document was issued');
        assert.equal(await h.ctx.store.read((tx) => tx.applications.document(issuanceId)), null, 'the rendered document is dropped');
        assert.equal(heard.at(-1)?.status, 'refused');
        assert.equal(await h.ctx.issuance.refusalOf(issuanceId), code);
        const view = await at(h, T0 + 5 * SEC, () => h.ctx.issuance.status(h.kioskA, issuanceId, 0, undefined, new AbortController().signal));
        assert.deepEqual(view, { status: 'refused', reason: code });
        // the same receipt is refused until the data allows it again, then it prints
        await refusedCode(() => start(h, h.kioskB, app.receiptNumber, T0 + 6 * SEC), code);
        await changeResident(h, {});
        assert.equal((await start(h, h.kioskB, app.receiptNumber, T0 + 7 * SEC)).status, 'confirmation_pending');
      });
    }

    it('a record changed after the approval but still allowed: the document is rendered again from the current data', async () => {
      const h = await setup();
      const { issuanceId } = await reach(h, 'approved');
      await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
      const first = (await attempt(h, issuanceId)).documentSha256;
      await changeResident(h, { address: 'テスト市緑町二丁目5番8号' });
      const pdf = await fetchDocument(h, h.kioskA, issuanceId, T0 + 4 * SEC);
      const delivered = await attempt(h, issuanceId);
      assert.notEqual(delivered.documentSha256, first, 'not the document made from the old record');
      assert.equal(delivered.documentSha256, (await import('node:crypto')).createHash('sha256').update(pdf).digest('hex'));
      assert.equal(await count(h, 'SELECT COUNT(*) AS n FROM issued_documents WHERE attempt_id = ?', [issuanceId]), 1);
    });

    it('a name the font cannot draw is refused when the kiosk claims, before anyone is asked to approve', async () => {
      const h = await setup();
      const app = await apply(h);
      const heard: AttemptChanged[] = [];
      h.ctx.store.changes.on('attempt', (c) => heard.push(c));
      // Imports refuse such names; this one reached the database behind their back (say, before
      // the font was changed): U+E000 is a private-use 外字 that no font of ours draws.
      await changeResident(h, { name: '山\uE000 太郎' });
      const e = await refusedCode(() => start(h, h.kioskA, app.receiptNumber, T0 + SEC), 'glyph_missing');
      assert.doesNotMatch(e.message, /\uE000|E000/, 'no part of a name in the answer');
      assert.deepEqual(heard, [], 'no confirmation request went out');
    });
  });

  describe('events', () => {
    it('are emitted only after commit, and listeners see the committed state', async () => {
      const h = await setup();
      const seen: Promise<{ kind: string; status: string; stored: string | undefined }>[] = [];
      h.ctx.store.changes.on('application', (e: ApplicationChanged) => {
        seen.push(h.ctx.store.read(async (tx) => ({ kind: 'application', status: e.status, stored: (await tx.applications.get(e.applicationId))?.status })));
      });
      h.ctx.store.changes.on('attempt', (e: AttemptChanged) => {
        seen.push(h.ctx.store.read(async (tx) => ({ kind: 'attempt', status: e.status, stored: (await tx.applications.attempt(e.attemptId))?.status })));
      });
      const { app, issuanceId, now } = await reach(h, 'delivered');
      await report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now + SEC);
      const all = await Promise.all(seen);
      assert.ok(all.length >= 6, JSON.stringify(all));
      // the final events match what is stored
      assert.deepEqual(all.slice(-2).map((s) => [s.kind, s.status, s.stored]), [
        ['attempt', 'printed', 'printed'],
        ['application', 'printed', 'printed'],
      ]);
      assert.deepEqual(
        all.filter((s) => s.kind === 'attempt').map((s) => s.status),
        ['confirmation_pending', 'approved', 'delivered', 'printed'],
      );
      assert.equal(await appStatus(h, app.applicationId), 'printed');
    });

    it('a refused transition emits nothing', async () => {
      const h = await setup();
      const { app, issuanceId, now } = await reach(h, 'approved');
      await waitFor(async () => (await attempt(h, issuanceId)).documentSha256 !== null);
      let events = 0;
      h.ctx.store.changes.on('application', () => events++);
      h.ctx.store.changes.on('attempt', () => events++);
      await refused(h, app.applicationId, 'invalid_state', () => report(h, h.kioskA, issuanceId, { outcome: 'printed' }, now));
      await h.ctx.store.db.write((x) => x.run(`UPDATE applications SET status = 'cancelled' WHERE id = ?`, [app.applicationId]));
      await refused(h, app.applicationId, 'invalid_state', () => abandon(h, h.kioskA, issuanceId, now));
      assert.equal(events, 0);
    });

    it('a throwing listener neither undoes a committed transition nor fails the caller', async () => {
      const h = await setup();
      const app = await apply(h);
      h.ctx.store.changes.on('application', () => {
        throw new Error('listener bug');
      });
      const heard: string[] = [];
      h.ctx.store.changes.on('attempt', (e) => heard.push(e.status));
      // The kiosk must learn that its attempt opened: it holds the receipt now.
      const started = await start(h, h.kioskA, app.receiptNumber, T0 + SEC);
      assert.equal(started.status, 'confirmation_pending');
      assert.equal(await appStatus(h, app.applicationId), 'in_issuance');
      assert.deepEqual(heard, ['confirmation_pending']);
      // and the sweep goes on past a failing listener
      const other = await apply(h, T0);
      assert.equal(await sweep(h, T0 + h.config.receiptValidityMs), 2);
      assert.equal(await appStatus(h, other.applicationId), 'expired');
      assert.equal(await attemptStatus(h, started.issuanceId), 'expired');
    });
  });
});

async function refusedCode(fn: () => Promise<unknown>, code: string): Promise<ServiceError> {
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

async function refusedAdmin(fn: () => Promise<unknown>): Promise<void> {
  await assert.rejects(fn, (e: unknown) => (e as Error).name === 'Error' && (e as Error).constructor.name === 'AdminError');
}

/** Polls a condition the test cannot await directly (a render started in the background). */
async function waitFor(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
