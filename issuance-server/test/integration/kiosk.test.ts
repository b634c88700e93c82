import assert from 'node:assert/strict';
import {
  createIssuanceResponseSchema,
  formatReceiptNumber,
  generateReceiptNumber,
  issuanceStatusOnlySchema,
  issuanceStatusResponseSchema,
} from '@cert/common';
import { randomUUID } from 'node:crypto';
import { assertError, breakCheckDigit, eventually, TestServer, type Applicant, type TestSocket } from './harness.ts';

describe('integration: kiosk issuance', () => {
  let ts: TestServer;
  let taro: Applicant;
  let sock: TestSocket;
  before(async () => {
    ts = await TestServer.start();
    taro = await ts.login('R0001');
  });
  beforeEach(async () => {
    sock = await ts.deviceSocket(taro.device);
  });
  afterEach(() => ts.closeSockets());
  after(async () => {
    await ts?.close();
  });

  /** Approves the pending request of `applicationId` from taro's socket. */
  async function approve(applicationId: string, approved = true): Promise<void> {
    const req = await sock.next('print-confirmation-request', (m) => m.applicationId === applicationId);
    sock.send(taro.device.response(req.requestId, approved));
  }

  it('every kiosk endpoint without a valid credential is 401 kiosk_unauthorized', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const { id } = ts.kiosk(0);
    const paths: [string, string, unknown?][] = [
      ['POST', '/api/v1/kiosk/issuances', { receiptNumber: app.receiptNumber }],
      ['GET', `/api/v1/kiosk/issuances/${issuance.issuanceId}?waitMs=0`],
      ['GET', `/api/v1/kiosk/issuances/${issuance.issuanceId}/document`],
      ['POST', `/api/v1/kiosk/issuances/${issuance.issuanceId}/result`, { outcome: 'printed' }],
      ['DELETE', `/api/v1/kiosk/issuances/${issuance.issuanceId}`],
    ];
    const creds: (string | undefined)[] = [undefined, 'nonsense', `${id}.wrong-secret`, `${id}`, taro.token, `${ts.kiosk(0).credential}x`];
    for (const [method, path, json] of paths) {
      for (const c of creds) {
        const res = await ts.http(method, path, { ...(json ? { json } : {}), ...(c !== undefined ? { bearer: c } : {}) });
        assertError(res, 401, 'kiosk_unauthorized', `${method} ${path} ${c?.slice(0, 20)}`);
      }
    }
    // None of those touched the issuance.
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'confirmation_pending');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('a receipt number with a wrong check digit (or not 12 digits) is 400 receipt_malformed', async () => {
    const app = await ts.apply(taro);
    for (const bad of [breakCheckDigit(app.receiptNumber), app.receiptNumber.slice(0, 11), app.receiptNumber + '0', 'abcdefghijkl', '']) {
      assertError(await ts.claimRaw(0, bad), 400, 'receipt_malformed', bad);
    }
    // Swapping two neighbouring digits is caught by the check digit too.
    const r = app.receiptNumber;
    const i = [...r].findIndex((c, k) => k < 10 && c !== r[k + 1]);
    const swapped = r.slice(0, i) + r[i + 1] + r[i] + r.slice(i + 2);
    assertError(await ts.claimRaw(0, swapped), 400, 'receipt_malformed', swapped);
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
  });

  it('unknown, cancelled, printed receipts all get the same 404 receipt_not_found', async () => {
    const unknown = generateReceiptNumber();
    const unknownRes = await ts.claimRaw(0, unknown);
    assertError(unknownRes, 404, 'receipt_not_found', 'unknown');

    const cancelled = await ts.apply(taro);
    assert.equal((await ts.http('DELETE', `/api/v1/applications/${cancelled.applicationId}`, { bearer: taro.token })).status, 200);
    const cancelledRes = await ts.claimRaw(1, cancelled.receiptNumber);
    assertError(cancelledRes, 404, 'receipt_not_found', 'cancelled');

    const printed = await ts.apply(taro);
    const issuance = await ts.claimAndApprove(0, printed, taro.device, sock);
    assert.equal((await ts.kioskDocument(0, issuance.issuanceId)).status, 200);
    assert.equal((await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' })).status, 200);
    for (const k of [0, 1]) {
      const printedRes = await ts.claimRaw(k, printed.receiptNumber);
      assertError(printedRes, 404, 'receipt_not_found', `printed, kiosk ${k}`);
      assert.deepEqual(printedRes.json, unknownRes.json, 'the kiosk cannot tell printed from unknown');
    }
    assert.deepEqual(cancelledRes.json, unknownRes.json, 'the kiosk cannot tell cancelled from unknown');
  });

  it('accepts receipt numbers typed with hyphens and spaces anywhere', async () => {
    for (const shape of [(r: string) => formatReceiptNumber(r), (r: string) => r.split('').join(' '), (r: string) => ` ${r.slice(0, 3)}-${r.slice(3, 5)}  ${r.slice(5)}- `]) {
      const app = await ts.apply(taro);
      const typed = shape(app.receiptNumber);
      const issuance = await ts.claim(0, typed);
      assert.equal(issuance.status, 'confirmation_pending', typed);
      assert.equal((await ts.application(taro, app.applicationId)).status, 'in_issuance');
      assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
    }
  });

  it('full flow: confirmation_pending → approved → document → delivered → printed', async () => {
    const app = await ts.apply(taro, { certificateType: 'juminhyo', options: { scope: 'household' }, copies: 2 });
    const before = Date.now();
    const res = await ts.claimRaw(0, app.receiptNumber);
    assert.equal(res.status, 201, res.text);
    const issuance = createIssuanceResponseSchema.parse(res.json);
    assert.deepEqual(Object.keys(res.json).sort(), ['certificateType', 'copies', 'expiresAt', 'fee', 'issuanceId', 'status']);
    assert.deepEqual(
      { status: issuance.status, certificateType: issuance.certificateType, copies: issuance.copies, fee: issuance.fee },
      { status: 'confirmation_pending', certificateType: 'juminhyo', copies: 2, fee: 400 },
    );
    const ttl = Date.parse(issuance.expiresAt) - before;
    assert.ok(ttl > 100_000 && ttl <= 121_000, `confirmation deadline ≈ 120 s (${ttl})`);
    assert.equal((await ts.application(taro, app.applicationId)).status, 'in_issuance');

    const st = await ts.kioskStatus(0, issuance.issuanceId);
    assert.equal(st.status, 200);
    assert.deepEqual(issuanceStatusResponseSchema.parse(st.json), { issuanceId: issuance.issuanceId, status: 'confirmation_pending' });
    assert.deepEqual(Object.keys(st.json).sort(), ['issuanceId', 'status']);

    await approve(app.applicationId);
    const approved = await ts.kioskStatus(0, issuance.issuanceId, 5000);
    assert.deepEqual(approved.json, { issuanceId: issuance.issuanceId, status: 'approved' });

    const doc = await ts.kioskDocument(0, issuance.issuanceId);
    assert.equal(doc.status, 200);
    assert.match(doc.contentType, /^application\/pdf/);
    assert.equal(doc.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(doc.bytes.length > 1000);
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'delivered');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'in_issuance');

    const result = await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(issuanceStatusOnlySchema.parse(result.json), { status: 'printed' });
    assert.deepEqual(result.json, { status: 'printed' });
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'printed');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'printed');

    // A printed issuance hands out nothing more and cannot be abandoned.
    assertError(await ts.kioskDocument(0, issuance.issuanceId), 409, 'invalid_state', 'document after print');
    assertError(await ts.kioskAbandon(0, issuance.issuanceId), 409, 'invalid_state', 'abandon after print');
  });

  it('long-poll answers as soon as the status changes', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const t0 = Date.now();
    const waiting = ts.server.context.store.changes.listenerCount('attempt');
    const poll = ts.kioskStatus(0, issuance.issuanceId, 10_000);
    // The long-poll is parked once it listens for changes; only then does the resident answer.
    await eventually(() => ts.server.context.store.changes.listenerCount('attempt') > waiting);
    await approve(app.applicationId);
    const res = await poll;
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'approved');
    assert.ok(elapsed < 3000, `answered promptly after the change (${elapsed} ms)`);
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('long-poll without a change answers the unchanged status after about waitMs', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const t0 = Date.now();
    const res = await ts.kioskStatus(0, issuance.issuanceId, 700);
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { issuanceId: issuance.issuanceId, status: 'confirmation_pending' });
    assert.ok(elapsed >= 650 && elapsed < 2500, `waited about waitMs (${elapsed} ms)`);
    // A status the kiosk has not seen yet is answered at once, even with a long wait.
    await approve(app.applicationId);
    await eventually(async () => (await ts.query<{ status: string }>('SELECT status FROM issuance_attempts WHERE id = ?', [issuance.issuanceId]))[0]?.status === 'approved');
    const t1 = Date.now();
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId, 10_000)).json.status, 'approved');
    assert.ok(Date.now() - t1 < 1500, 'unseen change answered at once');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('waitMs above 30000 (or not a number) is 400 invalid_request', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    for (const q of ['waitMs=30001', 'waitMs=-1', 'waitMs=abc', 'waitMs=100&bogus=1']) {
      const res = await ts.http('GET', `/api/v1/kiosk/issuances/${issuance.issuanceId}?${q}`, { bearer: ts.kiosk(0).credential });
      assertError(res, 400, 'invalid_request', q);
    }
    const ok = await ts.http('GET', `/api/v1/kiosk/issuances/${issuance.issuanceId}?waitMs=30000&since=approved`, { bearer: ts.kiosk(0).credential });
    assert.equal(ok.status, 200, 'waitMs=30000 is allowed');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('the document before approval is 409 invalid_state, and printed before delivery is refused', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    assertError(await ts.kioskDocument(0, issuance.issuanceId), 409, 'invalid_state');
    assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' }), 409, 'invalid_state');
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'confirmation_pending');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('the same kiosk can fetch the document again while delivered (identical bytes); another kiosk sees 404 not_found', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claimAndApprove(0, app, taro.device, sock);
    const first = await ts.kioskDocument(0, issuance.issuanceId);
    assert.equal(first.status, 200);
    const again = await ts.kioskDocument(0, issuance.issuanceId);
    assert.equal(again.status, 200);
    assert.match(again.contentType, /^application\/pdf/);
    assert.ok(again.bytes.equals(first.bytes), 'the resumed download is the same document');

    const id = issuance.issuanceId;
    assertError(await ts.kioskStatus(1, id), 404, 'not_found', 'other kiosk status');
    assertError(await ts.kioskDocument(1, id), 404, 'not_found', 'other kiosk document');
    assertError(await ts.kioskResult(1, id, { outcome: 'printed' }), 404, 'not_found', 'other kiosk result');
    assertError(await ts.kioskAbandon(1, id), 404, 'not_found', 'other kiosk abandon');
    assertError(await ts.kioskStatus(0, randomUUID()), 404, 'not_found', 'unknown id');
    assert.equal((await ts.kioskStatus(0, id)).json.status, 'delivered');
    assert.equal((await ts.kioskResult(0, id, { outcome: 'printed' })).json.status, 'printed');
  });

  it('two concurrent document fetches by the same kiosk get the same single document', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claimAndApprove(0, app, taro.device, sock);
    const [a, b] = await Promise.all([ts.kioskDocument(0, issuance.issuanceId), ts.kioskDocument(0, issuance.issuanceId)]);
    assert.deepEqual([a.status, b.status], [200, 200], `${a.text.slice(0, 100)} / ${b.text.slice(0, 100)}`);
    assert.ok(a.bytes.equals(b.bytes), 'one document, not two with different verification codes');
    const [registered] = await ts.query<{ n: number }>('SELECT COUNT(*) AS n FROM issued_documents WHERE attempt_id = ?', [issuance.issuanceId]);
    assert.equal(registered!.n, 1);
    assert.equal((await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' })).status, 200);
  });

  it('DELETE abandons: status abandoned, application submitted, receipt claimable again', async () => {
    const app = await ts.apply(taro);
    const first = await ts.claimAndApprove(0, app, taro.device, sock);
    assert.equal((await ts.kioskDocument(0, first.issuanceId)).status, 200);
    const res = await ts.kioskAbandon(0, first.issuanceId);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'abandoned' });
    assert.equal((await ts.kioskStatus(0, first.issuanceId)).json.status, 'abandoned');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
    assertError(await ts.kioskDocument(0, first.issuanceId), 409, 'invalid_state', 'no document after abandon');

    const second = await ts.claim(1, app.receiptNumber);
    assert.notEqual(second.issuanceId, first.issuanceId);
    assert.equal((await ts.application(taro, app.applicationId)).status, 'in_issuance');
    assert.equal((await ts.kioskAbandon(1, second.issuanceId)).status, 200);
  });

  it('result failed → print_failed, application submitted, receipt claimable again', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claimAndApprove(0, app, taro.device, sock);
    assert.equal((await ts.kioskDocument(0, issuance.issuanceId)).status, 200);
    const res = await ts.kioskResult(0, issuance.issuanceId, { outcome: 'failed', detail: 'media-empty' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'print_failed' });
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'print_failed');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
    assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' }), 409, 'invalid_state', 'printed after failed');
    const again = await ts.claim(0, app.receiptNumber);
    assert.equal(again.status, 'confirmation_pending');
    assert.equal((await ts.kioskAbandon(0, again.issuanceId)).status, 200);
  });

  it('a bad result body is 400 invalid_request', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    for (const body of [{ outcome: 'jammed' }, {}, { outcome: 'printed', pages: 2 }, { outcome: 'failed', detail: 'x'.repeat(501) }]) {
      assertError(await ts.kioskResult(0, issuance.issuanceId, body), 400, 'invalid_request', JSON.stringify(body).slice(0, 60));
    }
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('two kiosks racing for one receipt: exactly one 201, the other 409 issuance_in_progress', async () => {
    for (let round = 0; round < 3; round++) {
      const app = await ts.apply(taro);
      const [a, b] = await Promise.all([ts.claimRaw(0, app.receiptNumber), ts.claimRaw(1, app.receiptNumber)]);
      const statuses = [a.status, b.status].sort();
      assert.deepEqual(statuses, [201, 409], `round ${round}: ${a.text} / ${b.text}`);
      const loser = a.status === 409 ? a : b;
      const winner = a.status === 201 ? a : b;
      assertError(loser, 409, 'issuance_in_progress');
      // Only one confirmation request reached the device.
      const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
      assert.equal(req.kiosk.id, ts.kiosk(a.status === 201 ? 0 : 1).id);
      await sock.assertNone(taro.device, 'print-confirmation-request', (m) => m.applicationId === app.applicationId);
      assert.equal((await ts.kioskAbandon(a.status === 201 ? 0 : 1, winner.json.issuanceId)).status, 200);
    }
  });
});

describe('integration: kiosk rate limits', () => {
  let ts: TestServer;
  before(async () => {
    ts = await TestServer.start({ kioskRateLimit: { burst: 3, perMinute: 6 }, globalRateLimit: { burst: 5, perMinute: 6 } });
  });
  after(async () => {
    await ts?.close();
  });

  it('past the per-kiosk burst, lookups are 429 rate_limited with Retry-After; the global limit caps all kiosks', async () => {
    const numbers = () => generateReceiptNumber();
    for (let i = 0; i < 3; i++) assertError(await ts.claimRaw(0, numbers()), 404, 'receipt_not_found', `kiosk 0 lookup ${i}`);
    const limited = await ts.claimRaw(0, numbers());
    assertError(limited, 429, 'rate_limited', 'kiosk 0 over its burst');
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After is whole seconds (${limited.headers.get('retry-after')})`);
    // Malformed numbers count as lookups too (no free guessing of check digits).
    assertError(await ts.claimRaw(0, '000000000000'), 429, 'rate_limited', 'malformed while limited');

    // Kiosk 1 has its own bucket, but the global bucket (5) only has 2 left.
    for (let i = 0; i < 2; i++) assertError(await ts.claimRaw(1, numbers()), 404, 'receipt_not_found', `kiosk 1 lookup ${i}`);
    const global = await ts.claimRaw(1, numbers());
    assertError(global, 429, 'rate_limited', 'global limit');
    assert.ok(Number(global.headers.get('retry-after')) >= 1);
  });
});

describe('integration: receipt expiry', () => {
  let ts: TestServer;
  before(async () => {
    ts = await TestServer.start({ receiptValidityMs: 400, sweepIntervalMs: 50 });
  });
  after(async () => {
    await ts?.close();
  });

  it('an expired receipt is 404 receipt_not_found at the kiosk and the application is expired', async () => {
    const taro = await ts.login('R0001');
    const app = await ts.apply(taro);
    assert.ok(Date.parse(app.expiresAt) - Date.now() <= 400);
    const unknown = await ts.claimRaw(0, generateReceiptNumber());
    ts.advance(600);
    const res = await ts.claimRaw(0, app.receiptNumber);
    assertError(res, 404, 'receipt_not_found');
    assert.deepEqual(res.json, unknown.json, 'the kiosk cannot tell expired from unknown');
    await eventually(async () => (await ts.application(taro, app.applicationId)).status === 'expired');
  });
});
