// The ccTalk driver and the cash payment through a real pseudo-terminal pair (socat) with the
// virtual cash unit on the other end: every credit counted once, change paid, faults survived.
import type { PaymentProgressView } from '@cert/common';
import { startVirtualCashUnit, untilEvent, type VirtualCashUnit } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { CashPayment, CCTALK, MemoryCounterStore, type Collected, type Credit } from 'kiosk-shell';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('cash unit over ccTalk (pty + virtual cash unit)', function () {
  this.timeout(20_000);
  let vcu: VirtualCashUnit;
  let cash: CashPayment;
  let counters: MemoryCounterStore;

  beforeEach(async () => {
    vcu = await startVirtualCashUnit();
    counters = new MemoryCounterStore();
    cash = await CashPayment.open(vcu.serialPath, { pollIntervalMs: 20, counters, payoutPollMs: 10 });
  });
  afterEach(async () => {
    await cash?.close();
    await vcu?.stop();
  });

  /** Collects `due` while `act` inserts money once the acceptors are open; resolves with the result, the journaled credits and the progress seen. */
  async function collect(due: number, act: () => void | Promise<void>, opts: { idleTimeoutMs?: number; signal?: AbortSignal } = {}) {
    const credits: Credit[] = [];
    const progress: PaymentProgressView[] = [];
    const result: Promise<Collected> = cash.collect(due, 0, {
      signal: opts.signal ?? new AbortController().signal,
      idleTimeoutMs: opts.idleTimeoutMs ?? 10_000,
      onCredit: (c) => {
        credits.push(c);
        return true;
      },
      onProgress: (p) => progress.push(p),
    });
    await untilEvent(vcu, 'change', () => vcu.accepting().coin && vcu.accepting().bill, 'the acceptors to open');
    await act();
    return { result: await result, credits, progress };
  }

  it('identifies the devices: coin ids (both ¥500 coins), the ¥1,000 note, three hoppers; everything inhibited', () => {
    assert.deepEqual(cash.unit.values, [1000, 500, 100, 50, 10]);
    assert.equal(cash.unit.largestNote, 1000);
    assert.deepEqual(vcu.accepting(), { coin: false, bill: false });
  });

  it('exact payment: ¥300 in coins (one of them the bicolour ¥500 later) and nothing more is accepted', async () => {
    const { result, credits } = await collect(300, () => {
      vcu.insertCoin(100);
      vcu.insertCoin(100);
      vcu.insertCoin(50);
      vcu.insertCoin(50);
    });
    assert.equal(result.kind, 'paid');
    assert.deepEqual(credits.map((c) => c.yen), [100, 100, 50, 50]);
    assert.deepEqual(vcu.accepting(), { coin: false, bill: false });
    // A coin after the fee is covered is refused by the acceptor and comes straight back.
    vcu.insertCoin('500-bicolour');
    assert.deepEqual(vcu.returned, [500]);
  });

  it('overpayment: a bicolour ¥500 pays ¥450 and ¥50 change comes out', async () => {
    const { result, credits } = await collect(450, async () => {
      vcu.insertCoin('500-bicolour');
    });
    assert.equal(result.kind, 'paid');
    assert.equal(sum(credits.map((c) => c.yen)), 500);
    const out = await cash.payOut(50);
    assert.deepEqual(out, { pieces: [50], short: 0 });
    assert.deepEqual(vcu.paidOut, [50]);
  });

  it('a ¥1,000 note is stacked when its change can be paid, and the change comes out in the fewest coins', async () => {
    const { result, credits } = await collect(300, () => vcu.insertNote());
    assert.equal(result.kind, 'paid');
    assert.deepEqual(credits.map((c) => c.yen), [1000]);
    const out = await cash.payOut(700);
    assert.deepEqual(out.pieces, [100, 100, 100, 100, 100, 100, 100]);
    assert.equal(out.short, 0);
  });

  it('a note is handed back when the change cannot be paid (hoppers low); coins still pay', async () => {
    for (const a of [3, 4, 5]) vcu.setHopperCoins(a, 2);
    const { result, credits, progress } = await collect(300, async () => {
      vcu.insertNote();
      await untilEvent(vcu, 'change', () => vcu.returned.includes(1000), 'the note to come back');
      vcu.insertCoin(100);
      vcu.insertCoin(100);
      vcu.insertCoin(100);
    });
    assert.equal(result.kind, 'paid');
    assert.deepEqual(credits.map((c) => c.yen), [100, 100, 100]);
    assert.ok(progress.some((p) => p.notice === 'note_returned_no_change'), 'the resident is told why the note came back');
  });

  it('a note the validator does not recognise comes back and is not credited', async () => {
    vcu.rejectNextNote();
    const { result, credits, progress } = await collect(100, async () => {
      vcu.insertNote();
      await untilEvent(vcu, 'change', () => vcu.returned.length === 1, 'the rejected note');
      vcu.insertCoin(100);
    });
    assert.equal(result.kind, 'paid');
    assert.deepEqual(credits.map((c) => c.yen), [100]);
    assert.ok(progress.some((p) => p.notice === 'money_returned'));
  });

  it('cancel with coins inserted: stops, everything journaled, and all of it can be paid back', async () => {
    const ac = new AbortController();
    const { result, credits } = await collect(
      400,
      async () => {
        vcu.insertCoin(100);
        vcu.insertCoin(50);
        await untilEvent(vcu, 'change', () => vcu.taken.length === 2, 'two coins taken');
        // Let the kiosk see them before the resident presses Cancel.
        await new Promise((r) => setTimeout(r, 100));
        ac.abort();
      },
      { signal: ac.signal },
    );
    assert.equal(result.kind, 'cancelled');
    assert.equal(sum(credits.map((c) => c.yen)), 150);
    const back = await cash.payOut(150);
    assert.equal(back.short, 0);
    assert.equal(sum(vcu.paidOut), 150);
    assert.deepEqual(vcu.accepting(), { coin: false, bill: false });
  });

  it('timeout: no money for the idle time ends the collection; a coin restarts the clock', async () => {
    const started = Date.now();
    const { result, credits } = await collect(300, () => vcu.insertCoin(10), { idleTimeoutMs: 600 });
    assert.equal(result.kind, 'timeout');
    assert.deepEqual(credits.map((c) => c.yen), [10]);
    assert.ok(Date.now() - started >= 600);
  });

  it('coin jam mid-payment: the collection stops as a fault with what was inserted journaled', async () => {
    const { result, credits } = await collect(300, async () => {
      vcu.insertCoin(100);
      await untilEvent(vcu, 'change', () => vcu.taken.length === 1, 'a coin');
      vcu.jamCoins(true);
      vcu.insertCoin(100);
    });
    assert.equal(result.kind, 'fault');
    assert.equal(result.notice, 'coin_jam');
    assert.deepEqual(credits.map((c) => c.yen), [100]);
  });

  it('hopper empty mid-payout: smaller hoppers pay on, and what nobody can pay is reported short', async () => {
    vcu.hopperDryAfter(3, 2);
    const a = await cash.payOut(400);
    // ¥100 hopper ran dry after two coins: the ¥50 hopper paid the rest.
    assert.equal(sum(a.pieces), 400);
    assert.deepEqual(vcu.paidOut.slice(0, 2), [100, 100]);
    for (const x of [3, 4, 5]) vcu.setHopperCoins(x, 0);
    const b = await cash.payOut(250);
    assert.deepEqual(b, { pieces: [], short: 250, problem: 'hopper_empty' });
  });

  it('a payout whose acknowledgement is lost on the line is counted, never paid a second time by another hopper', async () => {
    vcu.loseNextReply(CCTALK.dispenseHopperCoins);
    const out = await cash.payOut(300);
    assert.deepEqual(out, { pieces: [100, 100, 100], short: 0 });
    assert.deepEqual(vcu.paidOut, [100, 100, 100]);
  });

  it('a device reset mid-payment restarts its event counter: no credit is counted twice and the acceptor takes coins again', async () => {
    const { result, credits } = await collect(300, async () => {
      vcu.insertCoin(100);
      vcu.insertCoin(100);
      await untilEvent(vcu, 'change', () => vcu.taken.length === 2, 'two coins');
      await new Promise((r) => setTimeout(r, 100));
      vcu.resetDevice(2);
      // The driver sees counter 0 and re-enables the acceptor; the next coin is event 1 again.
      await untilEvent(vcu, 'change', () => vcu.accepting().coin, 'the acceptor re-enabled after its reset');
      vcu.insertCoin(100);
    });
    assert.equal(result.kind, 'paid');
    assert.deepEqual(credits.map((c) => c.yen), [100, 100, 100]);
    assert.deepEqual(credits.map((c) => c.counter), [1, 2, 1]);
  });

  it('an unplugged acceptor ends the payment as a fault; a restarted kiosk finds credits it missed and none twice', async () => {
    const { result } = await collect(300, () => vcu.unplug(2));
    assert.equal(result.kind, 'fault');
    assert.equal(result.notice, 'device_unavailable');
    vcu.plug();
    // The kiosk dies while accepting: two coins go in; a new driver on the saved counters finds them.
    await cash.unit.setAccepting([100]);
    vcu.insertCoin(100);
    vcu.insertCoin(100);
    await cash.close();
    cash = await CashPayment.open(vcu.serialPath, { pollIntervalMs: 20, counters });
    assert.deepEqual(cash.takeMissed().map((c) => c.yen), [100, 100]);
    assert.deepEqual(cash.takeMissed(), [], 'handed out once');
    await cash.close();
    cash = await CashPayment.open(vcu.serialPath, { pollIntervalMs: 20, counters });
    assert.deepEqual(cash.takeMissed(), [], 'counters saved: nothing is found twice');
  });
});
