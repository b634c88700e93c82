// The virtual cash unit of the test rig and the demo (beside the virtual card and printer): a
// ccTalk coin acceptor (address 2), bill validator (address 40) and three change hoppers (¥100 at
// 3, ¥50 at 4, ¥10 at 5) answering on one end of a pseudo-terminal pair that Debian's `socat`
// makes; the kiosk's driver opens the other end as it would a USB serial adapter. Tests insert
// money and inject faults through the methods here (coin jam, hopper empty, a rejected note, a
// device unplugged, a reset that restarts the event counters). See CCTALK in kiosk-shell for the
// headers answered.
import { CCTalkParser } from '@serialport/parser-cctalk';
import { CCTALK, CCTALK_HOST, decodeCctalk, encodeCctalk } from 'kiosk-shell';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

/** Coin positions of the acceptor: both ¥500 coins (the 2000 nickel-brass and the 2021 bicolour). */
const COIN_IDS = ['JP010A', 'JP050A', 'JP100A', 'JP500A', 'JP500B'];
const BILL_IDS = ['JP1000A'];

/** A coin as the resident inserts it: its value, and for ¥500 which of the two coins. */
export type CoinSpec = 10 | 50 | 100 | 500 | '500-bicolour';

/** One device's event buffer: [A, B] pairs, newest first, and the 1…255 counter (0 after reset). */
class EventBuffer {
  counter = 0;
  pairs: [number, number][] = [];
  push(a: number, b: number): void {
    this.counter = this.counter === 255 ? 1 : this.counter + 1;
    this.pairs.unshift([a, b]);
    this.pairs.length = Math.min(this.pairs.length, 5);
  }
  reply(): number[] {
    const out = [this.counter];
    for (let i = 0; i < 5; i++) out.push(...(this.pairs[i] ?? [0, 0]));
    return out;
  }
  reset(): void {
    this.counter = 0;
    this.pairs = [];
  }
}

interface Acceptor {
  address: number;
  category: string;
  master: boolean;
  mask: number;
  events: EventBuffer;
}

interface Hopper {
  address: number;
  yen: number;
  coins: number;
  serial: [number, number, number];
  enabled: boolean;
  counter: number;
  remaining: number;
  paid: number;
  unpaid: number;
  /** Coins it pays before it runs dry mid-payout (a fault), null: pays while it has coins. */
  dryAfter: number | null;
}

/** Options of {@link startVirtualCashUnit}. */
export interface VirtualCashUnitOptions {
  /** Coins in each hopper at start (default 100). */
  hopperCoins?: number;
  /** Below this many coins a hopper's low-level sensor trips (default 10). */
  lowLevel?: number;
  /** Time per coin paid out (default 5 ms). */
  msPerCoin?: number;
}

/** A running virtual cash unit. */
export interface VirtualCashUnit extends EventEmitter<{ change: [] }> {
  /** The kiosk's end of the pseudo-terminal pair (give it to the kiosk as its serial port). */
  readonly serialPath: string;
  /** A coin into the acceptor (refused, returned or credited as the acceptor's state says). */
  insertCoin(coin: CoinSpec): void;
  /** A ¥1,000 note into the validator (held in escrow until the kiosk routes it). */
  insertNote(yen?: 1000): void;
  /** Coins paid out so far (values in yen), and money handed back (coins refused, notes returned). */
  readonly paidOut: number[];
  readonly returned: number[];
  /** Credits the acceptors took (values in yen). */
  readonly taken: number[];
  /** Whether the acceptors take money now (master inhibit off and some type enabled). */
  accepting(): { coin: boolean; bill: boolean };
  /** Coins left in the hopper at `address`. */
  hopperCoins(address: number): number;
  setHopperCoins(address: number, coins: number): void;
  /** The hopper at `address` runs dry after paying `coins` more (mid-payout). */
  hopperDryAfter(address: number, coins: number | null): void;
  /** The coin path jams: every coin reports error 14 (credit sensor blocked) until cleared. */
  jamCoins(jammed: boolean): void;
  /** The next note is not recognised and comes straight back (status 2, invalid bill). */
  rejectNextNote(): void;
  /** The device at `address` (or every device) stops answering / answers again. */
  unplug(address?: number): void;
  plug(): void;
  /** The next reply to `header` is lost on the line (the device still acts on the request). */
  loseNextReply(header: number): void;
  /** The device at `address` restarts: event counter 0, inhibited, buffer lost. */
  resetDevice(address: number): void;
  /** Requests answered so far, by header (for tests that look at what the driver asked). */
  readonly requests: Map<number, number>;
  stop(): Promise<void>;
}

/** Starts socat and the devices; resolves once the kiosk's end of the pair exists. */
export async function startVirtualCashUnit(options: VirtualCashUnitOptions = {}): Promise<VirtualCashUnit> {
  const dir = mkdtempSync(join(tmpdir(), 'virtual-cash-'));
  const kioskEnd = join(dir, 'kiosk');
  const deviceEnd = join(dir, 'device');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${kioskEnd}`, `pty,raw,echo=0,link=${deviceEnd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let socatLog = '';
  socat.stderr?.on('data', (d: Buffer) => (socatLog += d.toString()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(kioskEnd) && existsSync(deviceEnd))) {
    if (socat.exitCode !== null || Date.now() > deadline) {
      socat.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`socat did not make the pseudo-terminal pair (is it installed? scripts/system/install-packages.sh): ${socatLog}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p: SerialPort = new SerialPort({ path: deviceEnd, baudRate: 9600 }, (e) => (e ? reject(e) : resolve(p)));
  });
  const lowLevel = options.lowLevel ?? 10;
  const msPerCoin = options.msPerCoin ?? 5;
  const coinAcceptor: Acceptor = { address: 2, category: 'Coin Acceptor', master: false, mask: 0, events: new EventBuffer() };
  const billValidator: Acceptor = { address: 40, category: 'Bill Validator', master: false, mask: 0, events: new EventBuffer() };
  const hoppers: Hopper[] = [
    [3, 100],
    [4, 50],
    [5, 10],
  ].map(([address, yen]) => ({ address: address!, yen: yen!, coins: options.hopperCoins ?? 100, serial: [address!, 0x11, 0x22], enabled: false, counter: 0, remaining: 0, paid: 0, unpaid: 0, dryAfter: null }));
  const unplugged = new Set<number>();
  let jammed = false;
  let rejectNote = false;
  let escrow: number | null = null;
  const lostReplies = new Set<number>();
  const unit = new EventEmitter<{ change: [] }>() as VirtualCashUnit;
  const paidOut: number[] = [];
  const returned: number[] = [];
  const taken: number[] = [];
  const requests = new Map<number, number>();
  const changed = () => unit.emit('change');
  const hopperAt = (address: number) => hoppers.find((h) => h.address === address);
  const enabled = (a: Acceptor, type: number) => a.master && (a.mask & (1 << (type - 1))) !== 0;

  const payOut = (h: Hopper, n: number) => {
    h.counter = h.counter === 255 ? 1 : h.counter + 1;
    h.remaining = n;
    h.paid = 0;
    h.unpaid = 0;
    const tick = () => {
      if (h.remaining === 0) return;
      const dry = h.coins === 0 || h.dryAfter === 0;
      if (dry) {
        h.unpaid = h.remaining;
        h.remaining = 0;
        changed();
        return;
      }
      h.coins--;
      if (h.dryAfter !== null) h.dryAfter--;
      h.paid++;
      h.remaining--;
      paidOut.push(h.yen);
      changed();
      setTimeout(tick, msPerCoin);
    };
    setTimeout(tick, msPerCoin);
  };

  const answer = (address: number, header: number, data: Buffer): number[] | 'nak' | null => {
    const acceptor = address === 2 ? coinAcceptor : address === 40 ? billValidator : null;
    const hopper = hopperAt(address);
    if (header === CCTALK.simplePoll) return [];
    if (header === CCTALK.requestEquipmentCategory) return [...Buffer.from(acceptor?.category ?? 'Payout', 'latin1')];
    if (header === CCTALK.resetDevice) {
      if (acceptor) resetAcceptor(acceptor);
      if (hopper) Object.assign(hopper, { counter: 0, enabled: false, remaining: 0 });
      return [];
    }
    if (acceptor) {
      switch (header) {
        case CCTALK.modifyMasterInhibit:
          acceptor.master = (data[0] ?? 0) & 1 ? true : false;
          changed();
          return [];
        case CCTALK.requestMasterInhibit:
          return [acceptor.master ? 1 : 0];
        case CCTALK.modifyInhibitStatus:
          acceptor.mask = (data[0] ?? 0) | ((data[1] ?? 0) << 8);
          changed();
          return [];
        case CCTALK.requestInhibitStatus:
          return [acceptor.mask & 0xff, acceptor.mask >> 8];
        case CCTALK.requestCoinId:
          return acceptor === coinAcceptor ? [...Buffer.from(COIN_IDS[(data[0] ?? 0) - 1] ?? '......', 'latin1')] : 'nak';
        case CCTALK.readBufferedCredit:
          return acceptor === coinAcceptor ? acceptor.events.reply() : 'nak';
        case CCTALK.requestBillId:
          return acceptor === billValidator ? [...Buffer.from(BILL_IDS[(data[0] ?? 0) - 1] ?? '.......', 'latin1')] : 'nak';
        case CCTALK.readBufferedBillEvents:
          return acceptor === billValidator ? acceptor.events.reply() : 'nak';
        case CCTALK.routeBill:
          if (acceptor !== billValidator || escrow === null) return 'nak';
          if (data[0] === 1) {
            billValidator.events.push(escrow, 0);
            taken.push(1000);
          } else {
            billValidator.events.push(0, 1);
            returned.push(1000);
          }
          escrow = null;
          changed();
          return [];
      }
      return 'nak';
    }
    if (hopper) {
      switch (header) {
        case CCTALK.requestSerialNumber:
          return hopper.serial;
        case CCTALK.enableHopper:
          hopper.enabled = data[0] === 165;
          return [];
        case CCTALK.dispenseHopperCoins: {
          const ok = hopper.enabled && data.length === 4 && hopper.serial.every((b, i) => data[i] === b) && hopper.remaining === 0;
          if (!ok) return 'nak';
          payOut(hopper, data[3]!);
          return [];
        }
        case CCTALK.requestHopperStatus:
          return [hopper.counter, hopper.remaining, hopper.paid, hopper.unpaid];
        case CCTALK.requestPayoutHighLowStatus:
          return [0x10 | (hopper.coins < lowLevel ? 1 : 0)];
        case CCTALK.emergencyStop: {
          const left = hopper.remaining;
          hopper.unpaid = left;
          hopper.remaining = 0;
          return [left];
        }
      }
    }
    return 'nak';
  };

  const resetAcceptor = (a: Acceptor) => {
    a.events.reset();
    a.master = false;
    a.mask = 0;
    if (a === billValidator && escrow !== null) {
      returned.push(1000);
      escrow = null;
    }
    changed();
  };

  const parser = port.pipe(new CCTalkParser(20));
  parser.on('data', (frame: Buffer) => {
    const p = decodeCctalk(frame);
    if (!p || p.source !== CCTALK_HOST || unplugged.has(p.destination) || unplugged.has(0)) return;
    const known = p.destination === 2 || p.destination === 40 || hopperAt(p.destination);
    if (!known) return;
    requests.set(p.header, (requests.get(p.header) ?? 0) + 1);
    const reply = answer(p.destination, p.header, p.data);
    if (reply === null || lostReplies.delete(p.header)) return;
    port.write(encodeCctalk({ destination: CCTALK_HOST, source: p.destination, header: reply === 'nak' ? CCTALK.nak : CCTALK.ack, data: reply === 'nak' ? [] : reply }));
  });

  Object.assign(unit, {
    serialPath: kioskEnd,
    paidOut,
    returned,
    taken,
    requests,
    insertCoin(coin: CoinSpec) {
      const position = coin === '500-bicolour' ? 5 : COIN_IDS.indexOf(`JP${String(coin).padStart(3, '0')}A`) + 1;
      const yen = coin === '500-bicolour' ? 500 : coin;
      if (unplugged.has(2) || unplugged.has(0)) returned.push(yen);
      else if (jammed) coinAcceptor.events.push(0, 14);
      else if (!enabled(coinAcceptor, position)) {
        coinAcceptor.events.push(0, 2);
        returned.push(yen);
      } else {
        coinAcceptor.events.push(position, 1);
        taken.push(yen);
      }
      changed();
    },
    insertNote() {
      if (unplugged.has(40) || unplugged.has(0) || escrow !== null) returned.push(1000);
      else if (rejectNote) {
        rejectNote = false;
        billValidator.events.push(0, 2);
        returned.push(1000);
      } else if (!enabled(billValidator, 1)) {
        billValidator.events.push(0, 4);
        returned.push(1000);
      } else {
        escrow = 1;
        billValidator.events.push(1, 1);
      }
      changed();
    },
    accepting: () => ({ coin: coinAcceptor.master && coinAcceptor.mask !== 0, bill: billValidator.master && billValidator.mask !== 0 }),
    hopperCoins: (address: number) => hopperAt(address)?.coins ?? 0,
    setHopperCoins(address: number, coins: number) {
      const h = hopperAt(address);
      if (h) h.coins = coins;
    },
    hopperDryAfter(address: number, coins: number | null) {
      const h = hopperAt(address);
      if (h) h.dryAfter = coins;
    },
    jamCoins(j: boolean) {
      jammed = j;
    },
    rejectNextNote() {
      rejectNote = true;
    },
    loseNextReply(header: number) {
      lostReplies.add(header);
    },
    unplug(address?: number) {
      unplugged.add(address ?? 0);
    },
    plug() {
      unplugged.clear();
    },
    resetDevice(address: number) {
      if (address === 2) resetAcceptor(coinAcceptor);
      else if (address === 40) resetAcceptor(billValidator);
      else {
        const h = hopperAt(address);
        if (h) Object.assign(h, { counter: 0, enabled: false, remaining: 0 });
      }
    },
    async stop() {
      await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
      if (socat.exitCode === null) {
        const gone = new Promise((r) => socat.once('exit', r));
        socat.kill();
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return unit;
}
