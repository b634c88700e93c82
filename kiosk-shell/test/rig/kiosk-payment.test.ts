// The kiosk takes the fee (issue 11): sessions against a real server and ippeveprinter, paying
// through the pseudo-terminal into the virtual cash unit. Every yen is accounted for: what the
// resident put in equals what the kiosk kept plus what came back out plus what is owed, and the
// server recorded exactly that, once.
import { type Application, type PaymentReport } from '@cert/common';
import { SERVER_BIN, startVirtualCashUnit, startVirtualPrinter, untilEvent, type VirtualCashUnit, type VirtualPrinter } from '@cert/scripts/rig';
import { ContractError } from '@cert/common/node';
import { SettlementService } from 'issuance-server';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CashPayment } from '../../src/core/cash-payment.ts';
import { IppPrinter } from '../../src/core/ipp-printer.ts';
import { KioskApi } from '../../src/core/kiosk-api.ts';
import { KioskSession, type KioskOutcome, type KioskProgress } from '../../src/core/kiosk-session.ts';
import { startHeadlessKiosk, type HeadlessKiosk } from './helpers/headless-kiosk.ts';
import { startIssuanceRig, type IssuanceRig } from './helpers/issuance-rig.ts';
import { startServerGate, type ServerGate } from './helpers/server-gate.ts';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const paidBack = (p: PaymentReport) => p.change + p.refunded;

describe('kiosk payment: sessions with the virtual cash unit, a real server and ippeveprinter', function () {
  this.timeout(60_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let vcu: VirtualCashUnit;
  let cash: CashPayment;
  let printer: IppPrinter;
  let api: KioskApi;

  const session = (idleMs = 10_000) => new KioskSession(api, printer, { payment: cash, jobPollIntervalMs: 50, retryDelayMs: 100, printerFaultToleranceMs: 1500, paymentIdleTimeoutMs: idleMs });
  /** Runs one receipt; `pay` acts once the kiosk asks for money (with the fee due). */
  async function run(app: Application, pay: (due: number, s: KioskSession) => void | Promise<void>, idleMs?: number): Promise<{ outcome: KioskOutcome; events: KioskProgress[] }> {
    const s = session(idleMs);
    const events: KioskProgress[] = [];
    let asked = false;
    s.on('progress', (p) => {
      events.push(p);
      if (p.kind === 'payment' && p.payment.state === 'inserting' && !asked) {
        asked = true;
        void untilEvent(vcu, 'change', () => vcu.accepting().coin && vcu.accepting().bill, 'the acceptors to open').then(() => pay(p.payment.due, s));
      }
    });
    return { outcome: await s.issue(app.receiptNumber), events };
  }
  const stored = (issuanceId: string) => rig.server.context.store.read((tx) => tx.payments.get(issuanceId));

  before(async () => {
    [rig, vp, vcu] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Payment Test' }), startVirtualCashUnit({ msPerCoin: 2 })]);
    cash = await CashPayment.open(vcu.serialPath, { pollIntervalMs: 20, payoutPollMs: 10 });
    printer = new IppPrinter(vp.uri, { requestTimeoutMs: 5000 });
    api = new KioskApi(rig.endpoint, rig.kiosks[0]!.credential);
  });
  after(async () => {
    await cash?.close();
    await Promise.allSettled([rig?.close(), vp?.stop(), vcu?.stop()]);
  });
  afterEach(async () => {
    await vp.clearFaults();
    vcu.jamCoins(false);
    for (const a of [3, 4, 5]) {
      vcu.setHopperCoins(a, 100);
      vcu.hopperDryAfter(a, null);
    }
  });

  it('exact payment: printed, the fee kept, the server has the payment with the outcome', async () => {
    const app = await rig.apply();
    const { outcome } = await run(app, (due) => {
      for (let left = due; left > 0; left -= 100) vcu.insertCoin(100);
    });
    assert.equal(outcome.status, 'printed', outcome.error);
    const p = outcome.payment!;
    assert.deepEqual({ due: p.due, inserted: p.inserted, change: p.change, refunded: p.refunded, refundOwed: p.refundOwed }, { due: app.fee, inserted: app.fee, change: 0, refunded: 0, refundOwed: 0 });
    const row = await stored(outcome.issuanceId!);
    assert.equal(row?.outcome, 'printed');
    assert.equal(row?.collected, app.fee);
    assert.deepEqual(row?.report, p);
    // A payment that does not match the application is refused with a 400, never stored.
    await assert.rejects(api.result(outcome.issuanceId!, 'printed', undefined, { ...p, due: p.due + 10 }), (e: unknown) => e instanceof ContractError && e.status === 400 && /due ¥\d+ is not the fee/.test(e.message));
  });

  it('overpayment with change: a ¥1,000 note, the change out of the hoppers, a retried report counts once', async () => {
    const app = await rig.apply();
    const before = sum(vcu.paidOut);
    const { outcome, events } = await run(app, () => vcu.insertNote());
    assert.equal(outcome.status, 'printed', outcome.error);
    const p = outcome.payment!;
    assert.equal(p.inserted, 1000);
    assert.equal(p.change, 1000 - app.fee);
    assert.equal(sum(vcu.paidOut) - before, 1000 - app.fee, 'the change came out of the hoppers');
    assert.ok(events.some((e) => e.kind === 'payment' && e.payment.state === 'paying_change'));
    // The kiosk's retry of the same report (a lost answer) changes nothing.
    assert.equal(await api.result(outcome.issuanceId!, 'printed', 'retry', p), 'printed');
    assert.deepEqual((await stored(outcome.issuanceId!))?.report, p);
  });

  it('cancel with coins inserted: everything paid back, the attempt abandoned, the receipt still printable', async () => {
    const app = await rig.apply();
    const before = sum(vcu.paidOut);
    const { outcome } = await run(app, async (_due, s) => {
      vcu.insertCoin(10);
      vcu.insertCoin(50);
      await untilEvent(vcu, 'change', () => vcu.taken.length >= 2, 'two coins');
      await new Promise((r) => setTimeout(r, 100));
      s.cancel();
    });
    assert.equal(outcome.status, 'abandoned', outcome.error);
    assert.equal(outcome.paymentEnd, 'cancelled');
    assert.deepEqual([outcome.payment!.inserted, outcome.payment!.refunded, outcome.payment!.refundOwed], [60, 60, 0]);
    assert.equal(sum(vcu.paidOut) - before, 60);
    assert.equal((await stored(outcome.issuanceId!))?.outcome, 'abandoned');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('timeout: nothing more inserted, the coin paid back', async () => {
    const app = await rig.apply();
    const { outcome } = await run(app, () => vcu.insertCoin(100), 700);
    assert.equal(outcome.paymentEnd, 'timeout');
    assert.equal(outcome.payment!.refunded, 100);
  });

  it('coin jam mid-payment: the payment stops, what was taken comes back', async () => {
    const app = await rig.apply();
    const { outcome } = await run(app, async () => {
      vcu.insertCoin(100);
      await untilEvent(vcu, 'change', () => vcu.taken.length > 0 && vcu.taken.at(-1) === 100, 'the coin');
      await new Promise((r) => setTimeout(r, 100));
      vcu.jamCoins(true);
      vcu.insertCoin(100);
    });
    assert.equal(outcome.paymentEnd, 'fault');
    assert.equal(outcome.paymentNotice, 'coin_jam');
    assert.equal(outcome.payment!.refunded, 100);
  });

  it('hopper empty mid-payment: the certificate prints, the change short is owed against a slip code', async () => {
    const app = await rig.apply();
    // The note's change looks payable (no hopper's low-level sensor has tripped), but mid-payout
    // the ¥100 hopper runs dry after one coin and the others pay nothing.
    vcu.hopperDryAfter(3, 1);
    vcu.hopperDryAfter(4, 0);
    vcu.hopperDryAfter(5, 0);
    const { outcome } = await run(app, () => vcu.insertNote());
    assert.equal(outcome.status, 'printed', outcome.error);
    const p = outcome.payment!;
    assert.equal(p.change, 100);
    assert.equal(p.refundOwed, 1000 - app.fee - 100);
    assert.match(p.slipCode!, /^R-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.equal(p.inserted, p.due + p.change + p.refundOwed);
    assert.equal((await stored(outcome.issuanceId!))?.report.slipCode, p.slipCode);
  });

  it('printer out of paper after payment: nothing prints, the fee is paid back', async () => {
    const app = await rig.apply();
    vp.setMode('media-empty');
    const before = sum(vcu.paidOut);
    const { outcome } = await run(app, () => vcu.insertNote());
    assert.equal(outcome.status, 'print_failed', outcome.error);
    const p = outcome.payment!;
    assert.equal(paidBack(p), 1000, 'change and refund: the whole note');
    assert.equal(p.refunded, app.fee);
    assert.equal(sum(vcu.paidOut) - before, 1000);
    assert.equal((await stored(outcome.issuanceId!))?.collected, 0);
  });

  it('printer out of paper and the hoppers empty: a refund owed with a slip code, settled by staff (audited)', async () => {
    const app = await rig.apply();
    vp.setMode('media-empty');
    const { outcome } = await run(app, (due) => {
      for (let left = due; left > 0; left -= 100) vcu.insertCoin(100);
      for (const a of [3, 4, 5]) vcu.setHopperCoins(a, 0);
    });
    assert.equal(outcome.status, 'print_failed', outcome.error);
    const p = outcome.payment!;
    assert.deepEqual([p.refunded, p.refundOwed], [0, app.fee]);
    const settlement = new SettlementService(rig.server.context.store, Date.now);
    assert.ok((await settlement.refunds(true)).some((r) => r.report.slipCode === p.slipCode));
    await settlement.settleRefund(p.slipCode!, 'paid at the counter');
    assert.ok(!(await settlement.refunds(true)).some((r) => r.report.slipCode === p.slipCode));
    await assert.rejects(settlement.settleRefund(p.slipCode!, null), /already settled/);
    const audit = await rig.server.context.store.read((tx) => tx.sql.all<{ event: string }>("SELECT event FROM audit_log WHERE event IN ('payment.recorded', 'admin.refund.settle')"));
    assert.ok(audit.some((a) => a.event === 'admin.refund.settle'));
  });

  it('a storm of flows: the settlement report reconciles with every payment made', async () => {
    const settlement = new SettlementService(rig.server.context.store, Date.now);
    const from = Date.now();
    const outcomes: KioskOutcome[] = [];
    const plans: ((due: number, s: KioskSession) => void | Promise<void>)[] = [
      (due) => {
        for (let left = due; left > 0; left -= 50) vcu.insertCoin(50);
      },
      () => vcu.insertNote(),
      async (_due, s) => {
        // Cancel only once the session has counted the coin (its payment screen shows ¥10 in),
        // so the cancel is one that must pay money back, not one that races the credit.
        let credited = false;
        const watch = (p: KioskProgress) => (credited ||= p.kind === 'payment' && p.payment.state === 'inserting' && p.payment.inserted >= 10);
        s.on('progress', watch);
        vcu.insertCoin(10);
        await untilEvent(s, 'progress', () => credited, 'the session to credit the ¥10 coin');
        s.off('progress', watch);
        s.cancel();
      },
      () => vcu.insertCoin('500-bicolour'),
    ];
    for (let i = 0; i < 8; i++) {
      const app = await rig.apply();
      if (i === 5) vp.setMode('media-empty');
      const { outcome } = await run(app, plans[i % plans.length]!);
      if (i === 5) await vp.clearFaults();
      outcomes.push(outcome);
    }
    const report = await settlement.report(from, Date.now() + 1, rig.kiosks[0]!.id);
    const t = report.rows.reduce((a, r) => ({ issuances: a.issuances + r.issuances, collected: a.collected + r.feesCollected, refunded: a.refunded + r.refundsPaid, owed: a.owed + r.refundsOwed }), { issuances: 0, collected: 0, refunded: 0, owed: 0 });
    const printed = outcomes.filter((o) => o.status === 'printed');
    const payments = outcomes.map((o) => o.payment).filter((p): p is PaymentReport => p !== undefined);
    assert.equal(t.issuances, printed.length);
    assert.equal(t.collected, sum(printed.map((o) => o.payment!.due)));
    assert.equal(t.collected, sum(payments.map((p) => p.inserted - p.change - p.refunded - p.refundOwed)));
    assert.equal(t.refunded, sum(payments.map((p) => p.refunded)));
    assert.equal(t.owed, sum(payments.map((p) => p.refundOwed)));
    assert.ok(outcomes.some((o) => o.status === 'print_failed') && outcomes.some((o) => o.paymentEnd === 'cancelled'), `the storm had failures and cancels: ${outcomes.map((o) => o.status).join(', ')}`);
    // Each cancel came after its coin was counted: the ¥10 went back out (or is owed), none kept.
    for (const o of outcomes.filter((x) => x.paymentEnd === 'cancelled')) {
      assert.deepEqual([o.payment?.inserted, o.payment?.change, (o.payment?.refunded ?? 0) + (o.payment?.refundOwed ?? 0)], [10, 0, 10], JSON.stringify(o.payment));
    }

    // The admin CLI's CSV has the same totals, and its PDF is one page per store.
    const out = mkdtempSync(join(tmpdir(), 'settlement-'));
    try {
      const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());
      const cli = spawnSync(SERVER_BIN, ['admin', '--data-dir', rig.dataDir, 'settlement', 'report', '--from', day, '--to', day, '--kiosk', rig.kiosks[0]!.id, '--csv', join(out, 'report.csv'), '--pdf', out], { encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stderr);
      const total = readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\r\n').at(-1)!.split(',');
      const all = await settlement.report(Date.parse(`${day}T00:00:00+09:00`), Date.parse(`${day}T00:00:00+09:00`) + 86_400_000, rig.kiosks[0]!.id);
      const sums = all.rows.reduce((a, r) => [a[0]! + r.issuances, a[1]! + r.feesCollected, a[2]! + r.refundsPaid], [0, 0, 0]);
      assert.deepEqual([total[2], Number(total[7]), Number(total[10]), Number(total[11])], ['TOTAL', sums[0], sums[1], sums[2]]);
      const pdf = readdirSync(out).filter((f) => f.endsWith('.pdf'));
      assert.equal(pdf.length, 1, 'one store, one PDF');
      const info = spawnSync('pdfinfo', [join(out, pdf[0]!)], { encoding: 'utf8' }).stdout;
      assert.match(info, /Pages:\s+1\n/);
      const text = spawnSync('pdftotext', ['-enc', 'UTF-8', join(out, pdf[0]!), '-'], { encoding: 'utf8' }).stdout;
      assert.ok(text.includes(rig.kiosks[0]!.name) && text.includes('合計') && text.includes(`¥${sums[1]!.toLocaleString('ja-JP')}`), text);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('kiosk crash after payment, before printing (headless processes, virtual cash unit)', function () {
  this.timeout(90_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let vcu: VirtualCashUnit;
  let gate: ServerGate;
  let work: string;
  const kiosks: HeadlessKiosk[] = [];

  before(async () => {
    [rig, vp, vcu] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Payment Crash Test' }), startVirtualCashUnit({ msPerCoin: 2 })]);
    gate = await startServerGate(rig.endpoint.baseUrl);
    work = mkdtempSync(join(tmpdir(), 'kiosk-pay-crash-'));
    writeFileSync(join(work, 'credential'), `${rig.kiosks[0]!.credential}\n`, { mode: 0o600 });
  });
  after(async () => {
    for (const k of kiosks) k.child.kill('SIGKILL');
    await Promise.allSettled(kiosks.map((k) => k.exited));
    await Promise.allSettled([gate?.close(), rig?.close(), vp?.stop(), vcu?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  const start = (server: string) => {
    const k = startHeadlessKiosk(['--server', server, '--credential-file', join(work, 'credential'), '--printer', vp.uri, '--payment', 'cash', '--cash-serial', vcu.serialPath, '--state-dir', join(work, 'state')]);
    kiosks.push(k);
    return k;
  };

  it('the credit is not lost: on restart the kiosk pays it back and reports the payment', async () => {
    const app = await rig.apply();
    gate.rule = (_m, path) => (path.endsWith('/document') ? 'hold' : 'pass');
    const first = start(gate.url);
    first.send(app.receiptNumber);
    await first.log(/payment inserting: ¥0 of/);
    vcu.insertNote();
    await gate.whenHeld();
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    gate.rule = () => 'pass';
    gate.release();
    const before = sum(vcu.paidOut);
    // The change was paid before the crash; the fee is what the kiosk still held.
    assert.equal(before, 1000 - app.fee);
    const second = start(rig.endpoint.baseUrl);
    const line = await second.line((l) => l.reconciled === true, 'the journal to settle the paid entry');
    assert.equal(line.status, 'print_failed');
    assert.deepEqual([line.payment?.inserted, line.payment?.change, line.payment?.refunded, line.payment?.refundOwed], [1000, 1000 - app.fee, app.fee, 0]);
    assert.equal(sum(vcu.paidOut) - before, app.fee, 'the fee came back out of the hoppers');
    const row = await rig.server.context.store.read((tx) => tx.payments.get(line.issuanceId!));
    assert.equal(row?.collected, 0);
    second.child.stdin!.end();
    assert.equal(await second.exited, 0, second.stderr());
  });
});
