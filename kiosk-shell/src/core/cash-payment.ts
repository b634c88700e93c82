// The fee in coins and notes through the ccTalk cash unit ({@link PaymentPort}). While money is
// due, every coin and the ¥1,000 note are accepted; a note waits in escrow until the kiosk knows
// it can pay its change (otherwise it goes back); once the fee is covered both acceptors are
// inhibited. So a resident can insert at most the fee plus the largest note less ¥10.
import type { PaymentNotice, PaymentProgressView } from '@cert/common';
import { abortableSleep } from './abortable-sleep.ts';
import { CctalkBus } from './cctalk.ts';
import { CashUnit, type CashUnitOptions } from './cash-unit.ts';
import type { Collected, CollectHooks, Credit, PaidOut, PaymentPort } from './payment-port.ts';

/** Options of the cash payment. */
export interface CashPaymentOptions extends CashUnitOptions {
  /** Gap between event polls (default 100 ms; ccTalk devices buffer 5 events). */
  pollIntervalMs?: number;
  /** Failed polls in a row after which a device counts as gone (default 5). */
  unavailableAfter?: number;
}

/** The device name in payment reports. */
export const CASH_DEVICE = 'cctalk-cash';

/** The cash unit as a payment port. */
export class CashPayment implements PaymentPort {
  readonly device = CASH_DEVICE;
  private missed: Credit[];

  constructor(
    readonly unit: CashUnit,
    private readonly options: CashPaymentOptions = {},
  ) {
    this.missed = unit.missed.flatMap((e) => (e.kind === 'credit' ? [{ yen: e.yen, source: e.source, counter: e.counter }] : []));
  }

  /** Opens the serial port and the devices on it. */
  static async open(serialPath: string, options: CashPaymentOptions = {}): Promise<CashPayment> {
    const bus = await CctalkBus.open(serialPath);
    try {
      return new CashPayment(await CashUnit.open(bus, options), options);
    } catch (e) {
      await bus.close();
      throw e;
    }
  }

  async check(): Promise<string | null> {
    const events = await this.unit.poll();
    this.unit.commit();
    const gone = events.find((e) => e.kind === 'unavailable');
    return gone?.kind === 'unavailable' ? `the ${gone.source === 'coin' ? 'coin acceptor' : 'bill validator'} does not answer (${gone.error})` : null;
  }

  takeMissed(): Credit[] {
    const m = this.missed;
    this.missed = [];
    return m;
  }

  async collect(due: number, already: number, hooks: CollectHooks): Promise<Collected> {
    const pollMs = this.options.pollIntervalMs ?? 100;
    let inserted = already;
    let deadline = Date.now() + hooks.idleTimeoutMs;
    let notice: PaymentNotice | undefined;
    let failures = 0;
    const accepting = () => (inserted < due ? this.unit.values : []);
    const progress = () => {
      const p: PaymentProgressView = { state: 'inserting', due, inserted, remaining: Math.max(0, due - inserted), paidOut: 0, accepting: accepting(), deadline, ...(notice ? { notice } : {}) };
      hooks.onProgress(p);
    };
    // Whatever is in flight when the kiosk stops accepting still counts: one last poll after the inhibit.
    const stop = async (end: Collected): Promise<Collected> => {
      await this.unit.setAccepting([]).catch(() => undefined);
      const r = await this.drain(hooks, (yen) => (inserted += yen));
      return r ?? end;
    };
    try {
      await this.unit.setAccepting(accepting());
    } catch (e) {
      return { kind: 'fault', notice: 'device_unavailable', detail: (e as Error).message };
    }
    progress();
    while (inserted < due) {
      if (hooks.signal.aborted) return stop({ kind: 'cancelled' });
      if (Date.now() >= deadline) return stop({ kind: 'timeout' });
      await abortableSleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), hooks.signal);
      const events = await this.unit.poll();
      let changed = false;
      for (const e of events) {
        switch (e.kind) {
          case 'credit':
            if (!hooks.onCredit({ yen: e.yen, source: e.source, counter: e.counter })) return stop({ kind: 'fault', detail: 'the kiosk could not journal a credit' });
            inserted += e.yen;
            deadline = Date.now() + hooks.idleTimeoutMs;
            notice = undefined;
            changed = true;
            break;
          case 'escrow': {
            const change = e.yen - (due - inserted);
            const ok = inserted < due && (await this.unit.canPay(Math.max(0, change)).catch(() => false));
            await this.unit.routeBill(ok).catch(() => undefined);
            if (!ok) {
              notice = 'note_returned_no_change';
              changed = true;
            }
            break;
          }
          case 'returned':
            notice = 'money_returned';
            changed = true;
            break;
          case 'jam':
            this.unit.commit();
            return stop({ kind: 'fault', notice: 'coin_jam', detail: `the ${e.source === 'coin' ? 'coin acceptor' : 'bill validator'} jammed (code ${e.code})` });
          case 'unavailable':
            if (++failures >= (this.options.unavailableAfter ?? 5)) return stop({ kind: 'fault', notice: 'device_unavailable', detail: e.error });
            break;
          case 'reset':
          case 'overflow':
            break;
        }
      }
      if (!events.some((e) => e.kind === 'unavailable')) failures = 0;
      // Counters are saved only now that the credits are journaled.
      this.unit.commit();
      if (changed) {
        if (inserted >= due) await this.unit.setAccepting([]).catch(() => undefined);
        progress();
      }
    }
    return stop({ kind: 'paid' });
  }

  /** Polls until no more credits come (after an inhibit); a credit that cannot be journaled ends it as a fault. */
  private async drain(hooks: CollectHooks, add: (yen: number) => void): Promise<Collected | null> {
    for (let round = 0; round < 3; round++) {
      const events = await this.unit.poll();
      const credits = events.filter((e) => e.kind === 'credit');
      for (const e of credits) {
        if (e.kind !== 'credit') continue;
        if (!hooks.onCredit({ yen: e.yen, source: e.source, counter: e.counter })) return { kind: 'fault', detail: 'the kiosk could not journal a credit' };
        add(e.yen);
      }
      // A note that reached escrow after the fee was covered goes back.
      if (events.some((e) => e.kind === 'escrow')) await this.unit.routeBill(false).catch(() => undefined);
      this.unit.commit();
      if (credits.length === 0) return null;
    }
    return null;
  }

  payOut(yen: number): Promise<PaidOut> {
    return this.unit.payOut(yen);
  }

  close(): Promise<void> {
    return this.unit.close();
  }
}
