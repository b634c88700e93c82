// The cash unit on the kiosk's ccTalk bus: a coin acceptor, a bill validator and change hoppers
// (one coin value each). It turns the devices' buffered events into credits exactly once: each
// device numbers its events (1…255, wrapping to 1; 0 right after power-up or a reset), and the
// unit remembers the last number it handed on, so a poll that repeats (a lost reply, a retried
// request, a kiosk restart) never yields the same credit twice, and a reset is seen as one.
import { abortableSleep } from './abortable-sleep.ts';
import { CCTALK, CCTALK_ADDRESS, type CctalkLink } from './cctalk.ts';

/** Which device an event came from. */
export type CashSource = 'coin' | 'bill';

/** What the unit saw since the last poll, oldest first. */
export type CashEvent =
  /** Money taken: counts now. `counter` is the device's event number (the journal keeps it). */
  | { kind: 'credit'; source: CashSource; yen: number; counter: number }
  /** A note is held in escrow: the host must stack or return it ({@link CashUnit.routeBill}). */
  | { kind: 'escrow'; yen: number }
  /** A coin or note came back to the resident (not recognised, inhibited, returned from escrow). */
  | { kind: 'returned'; source: CashSource; code: number }
  /** The device jammed: it takes nothing more until staff clear it. */
  | { kind: 'jam'; source: CashSource; code: number }
  /** The device restarted (its event counter is back at 0): it is inhibited again and its unread events are gone. */
  | { kind: 'reset'; source: CashSource }
  /** More events happened than the device buffers (5): some were not seen (a poll stalled). */
  | { kind: 'overflow'; source: CashSource; lost: number }
  /** The device stopped answering. */
  | { kind: 'unavailable'; source: CashSource; error: string };

/** The event counters last handed on, kept across kiosk restarts. */
export interface CashCounters {
  coin: number | null;
  bill: number | null;
}

/** Where the unit keeps its counters (a file in the state directory, or memory in tests). */
export interface CounterStore {
  load(): CashCounters;
  save(counters: CashCounters): void;
}

/** The memory-only counter store (tests, a demo without a state directory). */
export class MemoryCounterStore implements CounterStore {
  private counters: CashCounters = { coin: null, bill: null };
  load(): CashCounters {
    return { ...this.counters };
  }
  save(c: CashCounters): void {
    this.counters = { ...c };
  }
}

/** A change hopper: its address and the value of the coins it holds. */
export interface HopperConfig {
  address: number;
  yen: number;
}

/** Where the devices are and how the unit talks to them. */
export interface CashUnitOptions {
  coinAcceptor?: number;
  billValidator?: number;
  /** The change hoppers (default ¥100 at 3, ¥50 at 4, ¥10 at 5). */
  hoppers?: HopperConfig[];
  /** How many coins a hopper above its low-level sensor is trusted to hold when deciding whether change can be paid (default 30). */
  coinsAboveLowLevel?: number;
  /** Gap between hopper status polls during a payout (default 30 ms). */
  payoutPollMs?: number;
  counters?: CounterStore;
}

/** What a payout paid: the coins (values in yen) and what is still owed. */
export interface Payout {
  pieces: number[];
  /** Yen not paid (a hopper ran empty or stopped answering). */
  short: number;
  /** Why it fell short. */
  problem?: 'hopper_empty' | 'hopper_unavailable';
}

/** Default change hoppers. */
export const DEFAULT_HOPPERS: readonly HopperConfig[] = [
  { address: CCTALK_ADDRESS.hopper, yen: 100 },
  { address: 4, yen: 50 },
  { address: 5, yen: 10 },
];

// Coin and bill ids name their value after the country code: "JP500A", "JP1000A".
const valueOfId = (id: string): number | null => {
  const m = /^[A-Z]{2}(\d{3,4})[A-Z0-9]$/.exec(id.trim());
  return m ? Number(m[1]) : null;
};

// ccTalk coin acceptor error codes that mean the coin path is blocked (not just one coin refused).
const COIN_JAM_CODES = new Set([8, 12, 14, 15, 26]);
// Bill validator status codes: returned to the resident / jammed / nothing to tell.
const BILL_RETURNED = new Set([1, 2, 3, 4, 5, 8, 9]);
const BILL_JAM = new Set([6, 7]);

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Events since `last` of a buffered-events reply ([counter, (A, B) × 5], newest first), oldest first. */
function newEvents(reply: Buffer, last: number | null): { counter: number; pairs: [number, number][]; reset: boolean; lost: number } {
  const counter = reply[0] ?? 0;
  if (last !== null && counter === last) return { counter, pairs: [], reset: false, lost: 0 };
  if (counter === 0) return { counter, pairs: [], reset: last !== null && last !== 0, lost: 0 };
  // Counters run 1…255 and wrap to 1; from 0 (just reset) the count is the counter itself.
  const n = last === null ? 0 : last === 0 ? counter : (counter - last + 255) % 255;
  const take = Math.min(n, 5);
  const pairs: [number, number][] = [];
  for (let i = take - 1; i >= 0; i--) pairs.push([reply[1 + 2 * i] ?? 0, reply[2 + 2 * i] ?? 0]);
  return { counter, pairs, reset: false, lost: n - take };
}

/** The coin acceptor, bill validator and hoppers of one kiosk. */
export class CashUnit {
  private readonly coinAddress: number;
  private readonly billAddress: number;
  readonly hoppers: readonly HopperConfig[];
  private readonly counterStore: CounterStore;
  private counters: CashCounters;
  /** Coin position (1-based) → yen. */
  private coinValues = new Map<number, number>();
  /** Bill type (1-based) → yen. */
  private billValues = new Map<number, number>();
  private hopperSerials = new Map<number, number[]>();
  private accepting: number[] = [];
  /** Events that happened while nobody listened (the kiosk was down), found by {@link open}. */
  missed: CashEvent[] = [];

  private constructor(
    private readonly link: CctalkLink,
    private readonly options: CashUnitOptions,
  ) {
    this.coinAddress = options.coinAcceptor ?? CCTALK_ADDRESS.coinAcceptor;
    this.billAddress = options.billValidator ?? CCTALK_ADDRESS.billValidator;
    this.hoppers = [...(options.hoppers ?? DEFAULT_HOPPERS)].sort((a, b) => b.yen - a.yen);
    this.counterStore = options.counters ?? new MemoryCounterStore();
    this.counters = this.counterStore.load();
  }

  /**
   * Checks every device (category, coin and bill ids, hopper serial numbers), inhibits the
   * acceptors and enables the hoppers. Events the devices buffered since the counters last
   * saved (money inserted while the kiosk was down) are kept in {@link missed}.
   */
  static async open(link: CctalkLink, options: CashUnitOptions = {}): Promise<CashUnit> {
    const unit = new CashUnit(link, options);
    await unit.identify();
    await unit.setAccepting([]);
    const missed = await unit.poll();
    unit.missed = missed.filter((e) => e.kind === 'credit');
    unit.commit();
    return unit;
  }

  private async category(address: number): Promise<string> {
    return (await this.link.request(address, CCTALK.requestEquipmentCategory)).toString('latin1').trim();
  }

  private async identify(): Promise<void> {
    const expect = async (address: number, category: string) => {
      const c = await this.category(address);
      if (c !== category) throw new Error(`ccTalk address ${address} is a "${c}", not a "${category}"`);
    };
    await expect(this.coinAddress, 'Coin Acceptor');
    await expect(this.billAddress, 'Bill Validator');
    for (let pos = 1; pos <= 16; pos++) {
      const yen = valueOfId((await this.link.request(this.coinAddress, CCTALK.requestCoinId, [pos])).toString('latin1'));
      if (yen) this.coinValues.set(pos, yen);
    }
    for (let type = 1; type <= 16; type++) {
      const yen = valueOfId((await this.link.request(this.billAddress, CCTALK.requestBillId, [type])).toString('latin1'));
      if (yen) this.billValues.set(type, yen);
    }
    for (const h of this.hoppers) {
      await expect(h.address, 'Payout');
      this.hopperSerials.set(h.address, [...(await this.link.request(h.address, CCTALK.requestSerialNumber))]);
      await this.link.request(h.address, CCTALK.enableHopper, [165]);
    }
  }

  /** Every value the acceptors know, highest first. */
  get values(): number[] {
    return [...new Set([...this.coinValues.values(), ...this.billValues.values()])].sort((a, b) => b - a);
  }

  /** The largest note the validator takes (0 without one). */
  get largestNote(): number {
    return Math.max(0, ...this.billValues.values());
  }

  /** Whether a value is a note (taken by the bill validator). */
  isNote(yen: number): boolean {
    return [...this.billValues.values()].includes(yen);
  }

  /** Takes exactly these values from now on (none: both acceptors inhibited). */
  async setAccepting(values: readonly number[]): Promise<void> {
    this.accepting = [...values];
    const mask = (table: Map<number, number>) => {
      let m = 0;
      for (const [pos, yen] of table) if (values.includes(yen)) m |= 1 << (pos - 1);
      return [m & 0xff, (m >> 8) & 0xff];
    };
    const coinMask = mask(this.coinValues);
    const billMask = mask(this.billValues);
    // Inhibit first and enable last, so no coin slips in under a half-written mask.
    const apply = async (address: number, m: number[]) => {
      const on = m[0] !== 0 || m[1] !== 0;
      if (!on) await this.link.request(address, CCTALK.modifyMasterInhibit, [0]);
      await this.link.request(address, CCTALK.modifyInhibitStatus, m);
      if (on) await this.link.request(address, CCTALK.modifyMasterInhibit, [1]);
    };
    await apply(this.coinAddress, coinMask);
    await apply(this.billAddress, billMask);
  }

  /**
   * Reads both acceptors' event buffers once; returns the new events, oldest first. The
   * counters advance in memory only: {@link commit} saves them once the caller has journaled
   * the credits (a crash in between finds the events again, and the journal knows them by counter).
   */
  async poll(): Promise<CashEvent[]> {
    return [...(await this.pollDevice('coin')), ...(await this.pollDevice('bill'))];
  }

  /** Saves the event counters (after the credits of the last polls are journaled). */
  commit(): void {
    this.counterStore.save(this.counters);
  }

  private async pollDevice(source: CashSource): Promise<CashEvent[]> {
    const address = source === 'coin' ? this.coinAddress : this.billAddress;
    let reply: Buffer;
    try {
      reply = await this.link.request(address, source === 'coin' ? CCTALK.readBufferedCredit : CCTALK.readBufferedBillEvents);
    } catch (e) {
      return [{ kind: 'unavailable', source, error: errorText(e) }];
    }
    const last = this.counters[source];
    const { counter, pairs, reset, lost } = newEvents(reply, last);
    this.counters = { ...this.counters, [source]: counter };
    const out: CashEvent[] = [];
    if (reset) {
      out.push({ kind: 'reset', source });
      // A reset device comes back inhibited: give it back what it should take.
      await this.setAccepting(this.accepting).catch(() => undefined);
    }
    if (lost > 0) out.push({ kind: 'overflow', source, lost });
    // Each pair's own event number: the oldest of n new events is counter − n + 1 (wrapping within 1…255).
    pairs.forEach(([a, b], i) => {
      const number = ((counter - (pairs.length - 1 - i) - 1 + 255) % 255) + 1;
      out.push(...this.eventOf(source, a, b, number));
    });
    return out;
  }

  private eventOf(source: CashSource, a: number, b: number, counter: number): CashEvent[] {
    if (source === 'coin') {
      if (a === 0) return b === 0 ? [] : [COIN_JAM_CODES.has(b) ? { kind: 'jam', source, code: b } : { kind: 'returned', source, code: b }];
      const yen = this.coinValues.get(a);
      return yen ? [{ kind: 'credit', source, yen, counter }] : [];
    }
    if (a === 0) {
      if (BILL_JAM.has(b)) return [{ kind: 'jam', source, code: b }];
      return BILL_RETURNED.has(b) ? [{ kind: 'returned', source, code: b }] : [];
    }
    const yen = this.billValues.get(a);
    if (!yen) return [];
    return b === 1 ? [{ kind: 'escrow', yen }] : [{ kind: 'credit', source, yen, counter }];
  }

  /** Stacks the note held in escrow (it becomes a credit at the next poll) or hands it back. */
  async routeBill(stack: boolean): Promise<void> {
    await this.link.request(this.billAddress, CCTALK.routeBill, [stack ? 1 : 0]);
  }

  /** Hoppers that report coins above their low level. */
  private async stocked(): Promise<Map<number, number>> {
    const trust = this.options.coinsAboveLowLevel ?? 30;
    const out = new Map<number, number>();
    for (const h of this.hoppers) {
      try {
        const [status = 0] = await this.link.request(h.address, CCTALK.requestPayoutHighLowStatus);
        const low = (status & 0x10) !== 0 && (status & 0x01) !== 0;
        out.set(h.address, low ? 0 : trust);
      } catch {
        out.set(h.address, 0);
      }
    }
    return out;
  }

  /** Whether the hoppers can pay `yen` (judged by their level sensors, conservatively). */
  async canPay(yen: number): Promise<boolean> {
    if (yen === 0) return true;
    const stock = await this.stocked();
    let left = yen;
    for (const h of this.hoppers) {
      const n = Math.min(Math.floor(left / h.yen), stock.get(h.address) ?? 0);
      left -= n * h.yen;
    }
    return left === 0;
  }

  /** Pays `yen` from the hoppers, largest coins first; a hopper that runs empty leaves the rest to the smaller ones. */
  async payOut(yen: number): Promise<Payout> {
    const pieces: number[] = [];
    let left = yen;
    let problem: Payout['problem'];
    for (const h of this.hoppers) {
      const want = Math.floor(left / h.yen);
      if (want === 0) continue;
      const r = await this.dispense(h, want);
      for (let i = 0; i < r.paid; i++) pieces.push(h.yen);
      left -= r.paid * h.yen;
      if (r.problem) problem = r.problem;
    }
    return { pieces, short: left, ...(left > 0 ? { problem: problem ?? 'hopper_empty' } : {}) };
  }

  /** One hopper pays `count` coins; resolves with how many came out. */
  private async dispense(h: HopperConfig, count: number): Promise<{ paid: number; problem?: Payout['problem'] }> {
    const serial = this.hopperSerials.get(h.address) ?? [0, 0, 0];
    let paid = 0;
    // At most 255 coins per command.
    for (let left = count; left > 0; ) {
      const n = Math.min(left, 255);
      let before: Buffer;
      try {
        before = await this.link.request(h.address, CCTALK.requestHopperStatus);
      } catch {
        return { paid, problem: 'hopper_unavailable' };
      }
      const ev = before[0] ?? 0;
      try {
        await this.link.request(h.address, CCTALK.dispenseHopperCoins, [...serial, n]);
      } catch {
        // The reply may be what got lost: a hopper whose event counter moved took the command,
        // and its coins are counted like any others (never paid a second time by another hopper).
        const now = await this.link.request(h.address, CCTALK.requestHopperStatus).catch(() => null);
        if (!now || now[0] === ev) return { paid, problem: 'hopper_unavailable' };
      }
      const done = await this.waitPayout(h.address, ev, n);
      paid += done.paid;
      if (done.paid < n) return { paid, problem: done.answered ? 'hopper_empty' : 'hopper_unavailable' };
      left -= n;
    }
    return { paid };
  }

  /** Polls the hopper's status until the payout started after event `ev` has ended. */
  private async waitPayout(address: number, ev: number, n: number): Promise<{ paid: number; answered: boolean }> {
    const deadline = Date.now() + 5000 + n * 1000;
    let failures = 0;
    while (Date.now() < deadline) {
      await abortableSleep(this.options.payoutPollMs ?? 30);
      try {
        const [counter = 0, remaining = 0, paid = 0] = await this.link.request(address, CCTALK.requestHopperStatus);
        failures = 0;
        if (counter !== ev && remaining === 0) return { paid, answered: true };
      } catch {
        // Coins not counted are coins not paid: the resident is owed them rather than risk paying twice.
        if (++failures >= 10) return { paid: 0, answered: false };
      }
    }
    const unpaid = await this.link.request(address, CCTALK.emergencyStop).catch(() => null);
    return { paid: unpaid ? n - (unpaid[0] ?? n) : 0, answered: unpaid !== null };
  }

  /** Inhibits both acceptors and closes the link. */
  async close(): Promise<void> {
    await this.setAccepting([]).catch(() => undefined);
    await this.link.close();
  }
}
