// Payments at the kiosk and their settlement, through the wire contract: the kiosk reports the
// money of each attempt with its result or abandon, the server records it once, in the same
// transaction as the outcome, and the settlement service's report adds up to the yen what the
// kiosks reported. Runs on SQLite here and on PostgreSQL through server-suites-on-postgres.
import assert from 'node:assert/strict';
import { countPieces, type Application, type CreateIssuanceResponse, type PaymentReport } from '@cert/common';
import { settlementCsv, settlementTotals, type SettlementRow } from '../../src/services/settlement-service.ts';
import { ServiceError } from '../../src/services/service-error.ts';
import type { PaymentRecord } from '../../src/store/payment-store.ts';
import { assertError, TestServer, type Applicant, type HttpResult } from './harness.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a cash unit did in one attempt, as coins and notes (each a value in yen). */
interface Cash {
  due: number;
  credits: number[];
  change?: number[];
  refunded?: number[];
  owed?: number;
  slipCode?: string;
}

const sum = (pieces: readonly number[]) => pieces.reduce((a, b) => a + b, 0);

/** The report a kiosk sends for `cash`, its totals derived from the pieces as the kiosk derives them. */
function payment(c: Cash): PaymentReport {
  const change = c.change ?? [];
  const refunded = c.refunded ?? [];
  return {
    device: 'cctalk-cash',
    due: c.due,
    inserted: sum(c.credits),
    change: sum(change),
    refunded: sum(refunded),
    refundOwed: c.owed ?? 0,
    ...(c.slipCode ? { slipCode: c.slipCode } : {}),
    credits: countPieces(c.credits),
    payouts: countPieces([...change, ...refunded]),
  };
}

/** A refund slip code unique to this run (the table keeps slip codes unique). */
function slipCode(): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  const part = () => Array.from({ length: 4 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
  return `R-${part()}-${part()}`;
}

/** Applies as `who`, has kiosk `kiosk` claim the receipt, approves it on the device and fetches the document. */
async function delivered(ts: TestServer, who: Applicant, kiosk: number, body?: Record<string, unknown>): Promise<{ app: Application; issuance: CreateIssuanceResponse }> {
  const sock = await ts.deviceSocket(who.device);
  try {
    const app = await ts.apply(who, body);
    const issuance = await ts.claimAndApprove(kiosk, app, who.device, sock);
    const doc = await ts.kioskDocument(kiosk, issuance.issuanceId);
    assert.equal(doc.status, 200, doc.text);
    return { app, issuance };
  } finally {
    sock.terminate();
  }
}

/** The payment recorded for an attempt, if any. */
function recorded(ts: TestServer, issuanceId: string): Promise<PaymentRecord | null> {
  return ts.server.context.store.read((tx) => tx.payments.get(issuanceId));
}

/** The `payment.recorded` audit rows of an attempt. */
async function paymentAudits(ts: TestServer, issuanceId: string): Promise<Record<string, unknown>[]> {
  const rows = await ts.query<{ details: string }>("SELECT details FROM audit_log WHERE event = 'payment.recorded' AND subject = ? ORDER BY seq", [issuanceId]);
  return rows.map((r) => JSON.parse(r.details) as Record<string, unknown>);
}

/** `DELETE /api/v1/kiosk/issuances/{id}` with a JSON body, as a paid kiosk abandons. */
function abandonWith(ts: TestServer, kiosk: number, issuanceId: string, body: unknown): Promise<HttpResult> {
  return ts.http('DELETE', `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}`, { json: body, bearer: ts.kiosk(kiosk).credential });
}

describe('integration: kiosk payments', () => {
  let ts: TestServer;
  let taro: Applicant;
  before(async () => {
    ts = await TestServer.start();
    taro = await ts.login('R0001');
  });
  afterEach(() => ts.closeSockets());
  after(async () => {
    await ts?.close();
  });

  it('a printed result with the exact fee, and one with change, are recorded with the outcome (audited)', async () => {
    const exact = await delivered(ts, taro, 0);
    const exactPay = payment({ due: 200, credits: [100, 100] });
    const res = await ts.kioskResult(0, exact.issuance.issuanceId, { outcome: 'printed', payment: exactPay });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'printed' });
    const stored = await recorded(ts, exact.issuance.issuanceId);
    assert.ok(stored);
    assert.deepEqual({ kioskId: stored.kioskId, outcome: stored.outcome, report: stored.report, collected: stored.collected, settled: stored.refundSettledAt }, {
      kioskId: ts.kiosk(0).id,
      outcome: 'printed',
      report: exactPay,
      collected: 200,
      settled: null,
    });
    assert.deepEqual(await paymentAudits(ts, exact.issuance.issuanceId), [{ outcome: 'printed', device: 'cctalk-cash', due: 200, inserted: 200, change: 0, refunded: 0, refundOwed: 0 }]);

    // Two copies (¥400) paid with a ¥1,000 note: ¥600 change in coins.
    const withChange = await delivered(ts, taro, 1, { certificateType: 'juminhyo', options: {}, copies: 2 });
    assert.equal(withChange.issuance.fee, 400);
    const changePay = payment({ due: 400, credits: [1000], change: [500, 100] });
    const res2 = await ts.kioskResult(1, withChange.issuance.issuanceId, { outcome: 'printed', payment: changePay });
    assert.equal(res2.status, 200, res2.text);
    const stored2 = await recorded(ts, withChange.issuance.issuanceId);
    assert.deepEqual(stored2?.report, changePay);
    assert.equal(stored2?.collected, 400);
    assert.equal(stored2?.kioskId, ts.kiosk(1).id);
    assert.deepEqual(stored2?.report.payouts, [
      { yen: 500, count: 1 },
      { yen: 100, count: 1 },
    ]);
    assert.equal((await ts.application(taro, withChange.app.applicationId)).status, 'printed');
  });

  it('a retried identical report counts once; a different second report is refused with 409 invalid_state', async () => {
    const { issuance } = await delivered(ts, taro, 0);
    const pay = payment({ due: 200, credits: [500], change: [100, 100, 100] });
    for (let i = 0; i < 3; i++) {
      const res = await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed', payment: pay });
      assert.equal(res.status, 200, `report ${i + 1}: ${res.text}`);
      assert.deepEqual(res.json, { status: 'printed' });
    }
    assert.equal((await ts.query('SELECT issuance_id FROM payments WHERE issuance_id = ?', [issuance.issuanceId])).length, 1);
    assert.equal((await paymentAudits(ts, issuance.issuanceId)).length, 1, 'audited once');

    // The same attempt with other money: the first report stands, the kiosk is told.
    const other = payment({ due: 200, credits: [100, 100] });
    assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed', payment: other }), 409, 'invalid_state', 'other money');
    // Another outcome with money: the attempt is printed; refused, not a server error.
    const refund = payment({ due: 200, credits: [500], refunded: [500] });
    assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'failed', payment: refund }), 409, 'invalid_state', 'failed after printed');
    assertError(await abandonWith(ts, 0, issuance.issuanceId, { payment: refund }), 409, 'invalid_state', 'abandon after printed');
    assert.deepEqual((await recorded(ts, issuance.issuanceId))?.report, pay);
    assert.equal((await paymentAudits(ts, issuance.issuanceId)).length, 1);
    // Free of money, a retry of the printed result is still just an answer.
    assert.equal((await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' })).status, 200);
  });

  it('copies of one report sent at once (a kiosk retrying a slow answer) all succeed and count once', async () => {
    const printed = await delivered(ts, taro, 0);
    const pay = payment({ due: 200, credits: [1000], change: [500, 100, 100, 100] });
    const results = await Promise.all(Array.from({ length: 4 }, () => ts.kioskResult(0, printed.issuance.issuanceId, { outcome: 'printed', payment: pay })));
    assert.deepEqual(
      results.map((r) => [r.status, r.json]),
      results.map(() => [200, { status: 'printed' }]),
      results.map((r) => r.text).join(' | '),
    );
    assert.equal((await paymentAudits(ts, printed.issuance.issuanceId)).length, 1);

    const abandoned = await delivered(ts, taro, 1);
    const back = payment({ due: 200, credits: [100, 100], refunded: [100, 100] });
    const answers = await Promise.all(Array.from({ length: 4 }, () => abandonWith(ts, 1, abandoned.issuance.issuanceId, { payment: back })));
    assert.deepEqual(
      answers.map((r) => [r.status, r.json]),
      answers.map(() => [200, { status: 'abandoned' }]),
      answers.map((r) => r.text).join(' | '),
    );
    assert.deepEqual((await recorded(ts, abandoned.issuance.issuanceId))?.report, back);
    assert.equal((await paymentAudits(ts, abandoned.issuance.issuanceId)).length, 1);
  });

  it('a slip code another attempt already holds is refused with a contract error, not 5xx', async () => {
    const slip = slipCode();
    const first = await delivered(ts, taro, 0);
    const firstPay = payment({ due: 200, credits: [500], change: [100, 100], owed: 100, slipCode: slip });
    assert.equal((await ts.kioskResult(0, first.issuance.issuanceId, { outcome: 'printed', payment: firstPay })).status, 200);
    const second = await delivered(ts, taro, 0);
    const res = await ts.kioskResult(0, second.issuance.issuanceId, { outcome: 'failed', payment: payment({ due: 200, credits: [500], owed: 500, slipCode: slip }) });
    assertError(res, 409, 'invalid_state', 'duplicate slip code');
    assert.equal(await recorded(ts, second.issuance.issuanceId), null);
    assert.equal((await ts.kioskStatus(0, second.issuance.issuanceId)).json.status, 'delivered', 'nothing changed');
    assert.equal((await ts.kioskResult(0, second.issuance.issuanceId, { outcome: 'failed', payment: payment({ due: 200, credits: [500], refunded: [500] }) })).status, 200);
  });

  it('a payment that does not add up, or whose due is not fee × copies, is 400 invalid_request and records nothing', async () => {
    const { app, issuance } = await delivered(ts, taro, 0, { certificateType: 'juminhyo', options: {}, copies: 2 });
    assert.equal(app.fee, 400);
    const good = payment({ due: 400, credits: [500], change: [100] });
    const bad: [string, unknown][] = [
      ['inserted is not the credits', { ...good, inserted: 1000 }],
      ['change is not the payouts', { ...good, change: 50 }],
      ['more paid out than inserted', { ...payment({ due: 400, credits: [100], change: [100] }), refundOwed: 100, slipCode: slipCode() }],
      ['a refund owed without a slip code', { ...good, change: 0, payouts: [], refundOwed: 100 }],
      ['a slip code without a refund owed', { ...good, slipCode: slipCode() }],
      ['due is the fee of one copy', payment({ due: 200, credits: [100, 100] })],
      ['due is not the fee', payment({ due: 500, credits: [500] })],
      ['a printed attempt kept less than the fee', payment({ due: 400, credits: [500], change: [100, 100] })],
      ['a printed attempt kept more than the fee', payment({ due: 400, credits: [500] })],
      ['fractional yen', { ...good, inserted: 500.5 }],
      ['negative change', { ...good, change: -100 }],
      ['an unknown coin', { ...good, credits: [{ yen: 5, count: 100 }] }],
      ['an unknown field', { ...good, tip: 0 }],
    ];
    for (const [what, p] of bad) assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed', payment: p }), 400, 'invalid_request', what);
    // An unprinted attempt keeps nothing.
    assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'failed', payment: good }), 400, 'invalid_request', 'failed but kept the fee');
    assertError(await abandonWith(ts, 0, issuance.issuanceId, { payment: good }), 400, 'invalid_request', 'abandoned but kept the fee');
    assertError(await abandonWith(ts, 0, issuance.issuanceId, { payment: good, extra: 1 }), 400, 'invalid_request', 'an unknown field in the abandon body');

    assert.equal(await recorded(ts, issuance.issuanceId), null);
    assert.deepEqual(await paymentAudits(ts, issuance.issuanceId), []);
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'delivered', 'the outcome was not recorded either');
    const ok = await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed', payment: good });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await recorded(ts, issuance.issuanceId))?.collected, 400);
  });

  it('print_failed with the fee paid back in full', async () => {
    const { app, issuance } = await delivered(ts, taro, 1);
    const pay = payment({ due: 200, credits: [100, 50, 50], refunded: [100, 100] });
    const res = await ts.kioskResult(1, issuance.issuanceId, { outcome: 'failed', detail: 'paper out', payment: pay });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'print_failed' });
    const stored = await recorded(ts, issuance.issuanceId);
    assert.deepEqual({ outcome: stored?.outcome, collected: stored?.collected, report: stored?.report }, { outcome: 'failed', collected: 0, report: pay });
    assert.deepEqual(await paymentAudits(ts, issuance.issuanceId), [{ outcome: 'failed', device: 'cctalk-cash', due: 200, inserted: 200, change: 0, refunded: 200, refundOwed: 0 }]);
    assert.deepEqual(await ts.server.context.settlement.refunds(false).then((rs) => rs.filter((r) => r.issuanceId === issuance.issuanceId)), [], 'nothing owed');
    // The receipt stays printable.
    const again = await ts.claim(0, app.receiptNumber);
    assert.equal((await ts.kioskAbandon(0, again.issuanceId)).status, 200);
  });

  it('print_failed with a refund owed: a slip code, open until settled through the settlement service (audited, once)', async () => {
    const { issuance } = await delivered(ts, taro, 0, { certificateType: 'koseki_zenbu', options: {}, copies: 1 });
    assert.equal(issuance.fee, 350);
    const slip = slipCode();
    // A ¥1,000 note; the hoppers paid ¥600 back and ran dry: ¥400 is owed.
    const pay = payment({ due: 350, credits: [1000], refunded: [500, 100], owed: 400, slipCode: slip });
    const res = await ts.kioskResult(0, issuance.issuanceId, { outcome: 'failed', detail: 'printer jam', payment: pay });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'print_failed' });
    const settlement = ts.server.context.settlement;

    const open = (await settlement.refunds(true)).find((r) => r.report.slipCode === slip);
    assert.ok(open, 'listed as open');
    assert.deepEqual(
      { issuanceId: open.issuanceId, kioskId: open.kioskId, type: open.certificateType, owed: open.report.refundOwed, settledAt: open.refundSettledAt },
      { issuanceId: issuance.issuanceId, kioskId: ts.kiosk(0).id, type: 'koseki_zenbu', owed: 400, settledAt: null },
    );
    assert.equal(open.kioskName, ts.kiosk(0).name);

    const settled = await settlement.settleRefund(slip, 'paid at the counter');
    assert.equal(settled.issuanceId, issuance.issuanceId);
    assert.equal(typeof settled.refundSettledAt, 'number');
    assert.equal(settled.refundSettledNote, 'paid at the counter');
    assert.equal((await settlement.refunds(true)).find((r) => r.report.slipCode === slip), undefined, 'no longer open');
    assert.equal((await settlement.refunds(false)).find((r) => r.report.slipCode === slip)?.refundSettledAt, settled.refundSettledAt, 'still listed with --all');

    const audits = await ts.query<{ actor: string; details: string }>("SELECT actor, details FROM audit_log WHERE event = 'admin.refund.settle' AND subject = ?", [issuance.issuanceId]);
    assert.deepEqual(
      audits.map((a) => ({ actor: a.actor, details: JSON.parse(a.details) as unknown })),
      [{ actor: 'admin', details: { slipCode: slip, yen: 400, note: 'paid at the counter' } }],
    );

    await assert.rejects(settlement.settleRefund(slip, null), (e) => e instanceof ServiceError && e.code === 'invalid_state', 'a second settle is refused');
    await assert.rejects(settlement.settleRefund(slipCode(), null), (e) => e instanceof ServiceError && e.code === 'not_found', 'an unknown slip');
    assert.equal((await recorded(ts, issuance.issuanceId))?.refundSettledNote, 'paid at the counter', 'the first settlement stands');
    assert.equal((await ts.query("SELECT seq FROM audit_log WHERE event = 'admin.refund.settle' AND subject = ?", [issuance.issuanceId])).length, 1);
  });

  it('abandon with the money paid back is recorded (once), before and after the document', async () => {
    // The resident walked away while paying: the attempt never fetched its document.
    const sock = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const approved = await ts.claimAndApprove(1, app, taro.device, sock);
    const pay = payment({ due: 200, credits: [100], refunded: [100] });
    for (let i = 0; i < 2; i++) {
      const res = await abandonWith(ts, 1, approved.issuanceId, { payment: pay });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { status: 'abandoned' });
    }
    const stored = await recorded(ts, approved.issuanceId);
    assert.deepEqual({ outcome: stored?.outcome, collected: stored?.collected, report: stored?.report, kioskId: stored?.kioskId }, { outcome: 'abandoned', collected: 0, report: pay, kioskId: ts.kiosk(1).id });
    assert.equal((await paymentAudits(ts, approved.issuanceId)).length, 1);
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted', 'the receipt stays printable');

    // With the document fetched and part of the refund owed.
    const { issuance } = await delivered(ts, taro, 0);
    const slip = slipCode();
    const owed = payment({ due: 200, credits: [500], refunded: [100, 100, 100], owed: 200, slipCode: slip });
    const res = await abandonWith(ts, 0, issuance.issuanceId, { payment: owed });
    assert.equal(res.status, 200, res.text);
    assert.equal((await recorded(ts, issuance.issuanceId))?.report.slipCode, slip);
    assert.ok((await ts.server.context.settlement.refunds(true)).some((r) => r.issuanceId === issuance.issuanceId && r.report.refundOwed === 200));
    // Two staff settling the same slip at once: one wins, the other is told, one audit row.
    const settles = await Promise.allSettled([ts.server.context.settlement.settleRefund(slip, 'till 1'), ts.server.context.settlement.settleRefund(slip, 'till 2')]);
    assert.equal(settles.filter((s) => s.status === 'fulfilled').length, 1, JSON.stringify(settles));
    const lost = settles.find((s) => s.status === 'rejected');
    assert.ok(lost?.reason instanceof ServiceError && lost.reason.code === 'invalid_state', String(lost?.reason));
    assert.equal((await ts.query("SELECT seq FROM audit_log WHERE event = 'admin.refund.settle' AND subject = ?", [issuance.issuanceId])).length, 1);
    // An empty body and no body still abandon (a kiosk that took no money).
    const plain = await ts.claim(0, app.receiptNumber);
    assert.equal((await abandonWith(ts, 0, plain.issuanceId, {})).status, 200);
    assert.equal(await recorded(ts, plain.issuanceId), null);
  });

  it('a kiosk in free mode reports results without payment, as before', async () => {
    const printed = await delivered(ts, taro, 0);
    const res = await ts.kioskResult(0, printed.issuance.issuanceId, { outcome: 'printed' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { status: 'printed' });
    const failed = await delivered(ts, taro, 1);
    assert.deepEqual((await ts.kioskResult(1, failed.issuance.issuanceId, { outcome: 'failed', detail: 'paper out' })).json, { status: 'print_failed' });
    for (const id of [printed.issuance.issuanceId, failed.issuance.issuanceId]) {
      assert.equal(await recorded(ts, id), null);
      assert.deepEqual(await paymentAudits(ts, id), []);
    }
  });

  it('the audit log verifies, with one payment.recorded row per recorded payment', async () => {
    const check = await ts.server.context.admin.verifyAudit();
    assert.equal(check.firstBad, null, JSON.stringify(check.firstBad));
    const payments = await ts.query<{ issuance_id: string }>('SELECT issuance_id FROM payments ORDER BY issuance_id');
    const audited = await ts.query<{ subject: string }>("SELECT subject FROM audit_log WHERE event = 'payment.recorded' ORDER BY subject");
    assert.ok(payments.length >= 8, `payments recorded (${payments.length})`);
    assert.deepEqual(
      audited.map((a) => a.subject),
      payments.map((p) => p.issuance_id),
    );
  });
});

/** One flow of the settlement test: when its outcome is reported, where, what and with which money. */
interface Flow {
  at: number;
  kiosk: 0 | 1;
  type: 'juminhyo' | 'koseki_zenbu';
  copies: number;
  outcome: 'printed' | 'failed' | 'abandoned';
  cash: Omit<Cash, 'due'> | null;
}

describe('integration: settlement report', () => {
  let ts: TestServer;
  /** The server's clock: frozen at a chosen instant while a flow runs, so that every step is at that instant. */
  let frozenAt: number | null = null;
  // The period: two whole Japan days, starting at a JST midnight two days ahead.
  const jstDay = new Date(Date.now() + 2 * DAY_MS + 9 * 60 * 60 * 1000).toISOString().slice(0, 10);
  const from = Date.parse(`${jstDay}T00:00:00+09:00`);
  const to = from + 2 * DAY_MS;
  const settledSlip = slipCode();
  const FLOWS: Flow[] = [
    // Just before the period (23:59:59.999 JST the day before): outside.
    { at: from - 1, kiosk: 0, type: 'juminhyo', copies: 1, outcome: 'printed', cash: { credits: [100, 100] } },
    // At 00:00 JST: inside.
    { at: from, kiosk: 0, type: 'juminhyo', copies: 2, outcome: 'printed', cash: { credits: [500], change: [100] } },
    { at: from + 10 * 3_600_000, kiosk: 1, type: 'koseki_zenbu', copies: 1, outcome: 'printed', cash: { credits: [1000], change: [500, 100, 50] } },
    { at: from + 20 * 3_600_000, kiosk: 0, type: 'koseki_zenbu', copies: 1, outcome: 'failed', cash: { credits: [500], refunded: [100, 50], owed: 350, slipCode: settledSlip } },
    { at: from + 30 * 3_600_000, kiosk: 1, type: 'juminhyo', copies: 1, outcome: 'abandoned', cash: { credits: [100], refunded: [100] } },
    // A kiosk in free mode: an issuance and its fee due, nothing collected.
    { at: from + 40 * 3_600_000, kiosk: 1, type: 'juminhyo', copies: 1, outcome: 'printed', cash: null },
    // The last millisecond of the period (23:59:59.999 JST): inside.
    { at: to - 1, kiosk: 1, type: 'juminhyo', copies: 3, outcome: 'printed', cash: { credits: [1000], change: [100, 100, 100, 100] } },
    // At 00:00 JST the day after: outside.
    { at: to, kiosk: 0, type: 'juminhyo', copies: 1, outcome: 'printed', cash: { credits: [500], change: [100, 100, 100] } },
  ];
  const FEES = { juminhyo: 200, koseki_zenbu: 350 };

  before(async () => {
    ts = await TestServer.start({ clock: () => frozenAt ?? Date.now() });
    for (const f of FLOWS) {
      frozenAt = f.at;
      const who = await ts.login('R0001');
      const body = { certificateType: f.type, options: {}, copies: f.copies };
      const { issuance } = await delivered(ts, who, f.kiosk, body);
      assert.equal(issuance.fee, FEES[f.type] * f.copies);
      const pay = f.cash ? { payment: payment({ due: issuance.fee, ...f.cash }) } : {};
      const res = f.outcome === 'abandoned' ? await abandonWith(ts, f.kiosk, issuance.issuanceId, pay) : await ts.kioskResult(f.kiosk, issuance.issuanceId, { outcome: f.outcome, ...pay });
      assert.equal(res.status, 200, `${new Date(f.at).toISOString()}: ${res.text}`);
      ts.closeSockets();
    }
    frozenAt = to + 60_000;
    await ts.server.context.settlement.settleRefund(settledSlip, null);
  });
  after(async () => {
    await ts?.close();
  });

  /** The rows the flows in [a, b) should give, by `kioskId/type`, computed from the flows themselves. */
  function expected(a: number, b: number, kiosk: 0 | 1 | null): Record<string, Omit<SettlementRow, 'store' | 'location'>> {
    const rows: Record<string, Omit<SettlementRow, 'store' | 'location'>> = {};
    for (const f of FLOWS.filter((x) => x.at >= a && x.at < b && (kiosk === null || x.kiosk === kiosk))) {
      const kioskId = ts.kiosk(f.kiosk).id;
      const r = (rows[`${kioskId}/${f.type}`] ??= { kioskId, certificateType: f.type, issuances: 0, copies: 0, feesDue: 0, feesCollected: 0, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 });
      const fee = FEES[f.type] * f.copies;
      if (f.outcome === 'printed') {
        r.issuances++;
        r.copies += f.copies;
        r.feesDue += fee;
      }
      if (f.cash) {
        r.feesCollected += f.outcome === 'printed' ? fee : 0;
        r.refundsPaid += sum(f.cash.refunded ?? []);
        r.refundsOwed += f.cash.owed ?? 0;
        // The only slip of these flows was settled before the reports.
        r.refundsOwedSettled += f.cash.owed ?? 0;
      }
    }
    return rows;
  }

  /** The report of [a, b) by `kioskId/type`, without the store columns. */
  async function reported(a: number, b: number, kiosk: 0 | 1 | null): Promise<Record<string, Omit<SettlementRow, 'store' | 'location'>>> {
    const report = await ts.server.context.settlement.report(a, b, kiosk === null ? null : ts.kiosk(kiosk).id);
    assert.deepEqual({ from: report.from, to: report.to, kioskId: report.kioskId }, { from: a, to: b, kioskId: kiosk === null ? null : ts.kiosk(kiosk).id });
    return Object.fromEntries(report.rows.map(({ store, location, ...r }) => {
      assert.equal(store, r.kioskId === ts.kiosk(0).id ? ts.kiosk(0).name : ts.kiosk(1).name);
      assert.ok(location.length > 0);
      return [`${r.kioskId}/${r.certificateType}`, r];
    }));
  }

  it('the report of a period equals the payments made, by kiosk and certificate type, to the yen', async () => {
    const got = await reported(from, to, null);
    assert.deepEqual(got, expected(from, to, null));
    // The same by hand, so that a slip in expected() cannot hide one in the report.
    const k0 = ts.kiosk(0).id;
    const k1 = ts.kiosk(1).id;
    assert.deepEqual(got[`${k0}/juminhyo`], { kioskId: k0, certificateType: 'juminhyo', issuances: 1, copies: 2, feesDue: 400, feesCollected: 400, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 });
    assert.deepEqual(got[`${k0}/koseki_zenbu`], { kioskId: k0, certificateType: 'koseki_zenbu', issuances: 0, copies: 0, feesDue: 0, feesCollected: 0, refundsPaid: 150, refundsOwed: 350, refundsOwedSettled: 350 });
    assert.deepEqual(got[`${k1}/juminhyo`], { kioskId: k1, certificateType: 'juminhyo', issuances: 2, copies: 4, feesDue: 800, feesCollected: 600, refundsPaid: 100, refundsOwed: 0, refundsOwedSettled: 0 });
    assert.deepEqual(got[`${k1}/koseki_zenbu`], { kioskId: k1, certificateType: 'koseki_zenbu', issuances: 1, copies: 1, feesDue: 350, feesCollected: 350, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 });
    assert.equal(Object.keys(got).length, 4);

    const report = await ts.server.context.settlement.report(from, to, null);
    assert.deepEqual(settlementTotals(report.rows), { issuances: 4, copies: 7, feesDue: 1550, feesCollected: 1350, refundsPaid: 250, refundsOwed: 350, refundsOwedSettled: 350 });
    const csv = settlementCsv(report).trimEnd().split('\r\n');
    assert.equal(csv.length, 1 + 4 + 1, 'header, four lines, TOTAL');
    assert.deepEqual(csv.at(-1)!.split(',').slice(2), ['TOTAL', '', '', '', '', '4', '7', '1550', '1350', '250', '350', '350']);
  });

  it('period boundaries are Japan midnights: the first millisecond is in, the one before and the end are out', async () => {
    assert.equal(new Date(from).toISOString().slice(11), '15:00:00.000Z', 'a JST midnight');
    const before = await reported(from - DAY_MS, from, null);
    assert.deepEqual(before, expected(from - DAY_MS, from, null));
    assert.deepEqual(Object.values(before).map((r) => [r.issuances, r.feesCollected]), [[1, 200]], 'only the flow at 23:59:59.999 the day before');
    const after = await reported(to, to + DAY_MS, null);
    assert.deepEqual(after, expected(to, to + DAY_MS, null));
    assert.deepEqual(Object.values(after).map((r) => [r.issuances, r.feesCollected]), [[1, 200]], 'only the flow at 00:00 the day after');
    // One JST day each: the first day has the 00:00 flow, the second the 23:59:59.999 one.
    assert.deepEqual(await reported(from, from + DAY_MS, null), expected(from, from + DAY_MS, null));
    assert.deepEqual(await reported(from + DAY_MS, to, null), expected(from + DAY_MS, to, null));
    assert.equal(settlementTotals(Object.values(await reported(from + DAY_MS, to, null)) as SettlementRow[]).copies, 4);
  });

  it('--kiosk keeps one kiosk; an unknown kiosk or an empty period is refused', async () => {
    for (const k of [0, 1] as const) {
      const got = await reported(from, to, k);
      assert.deepEqual(got, expected(from, to, k));
      assert.ok(Object.values(got).every((r) => r.kioskId === ts.kiosk(k).id));
      assert.equal(Object.keys(got).length, 2);
    }
    const settlement = ts.server.context.settlement;
    await assert.rejects(settlement.report(from, to, 'no-such-kiosk'), (e) => e instanceof ServiceError && e.code === 'not_found');
    await assert.rejects(settlement.report(to, from, null), (e) => e instanceof ServiceError && e.code === 'invalid_request');
  });

  it('the audit log verifies after the flows and the settlement', async () => {
    const check = await ts.server.context.admin.verifyAudit();
    assert.equal(check.firstBad, null, JSON.stringify(check.firstBad));
    const paid = FLOWS.filter((f) => f.cash).length;
    assert.equal((await ts.query("SELECT seq FROM audit_log WHERE event = 'payment.recorded'")).length, paid);
    assert.equal((await ts.query("SELECT seq FROM audit_log WHERE event = 'admin.refund.settle'")).length, 1);
  });
});
