// ccTalk, the serial protocol of coin acceptors, bill validators and change hoppers: packet
// framing (simple 8-bit checksum) and a bus that sends one request at a time and waits for the
// addressed device's reply. The `serialport` package opens the port; its `CCTalkParser` cuts the
// byte stream into packets. The virtual cash unit of the test rig uses the same framing.
//
// A packet: [destination][data length][source][header][data …][checksum], where the checksum
// makes the sum of all bytes 0 modulo 256. The host is address 1; a reply has header 0 (ACK,
// with the answer as data) or 5 (NAK).
import { CCTalkParser } from '@serialport/parser-cctalk';
import { SerialPort } from 'serialport';

/** The host's (the kiosk's) ccTalk address. */
export const CCTALK_HOST = 1;

/** Standard addresses of the cash devices. */
export const CCTALK_ADDRESS = { coinAcceptor: 2, hopper: 3, billValidator: 40 } as const;

/**
 * The ccTalk headers the kiosk uses (ccTalk generic specification, part 3), with the data each
 * takes and answers:
 *
 *   254 simple poll                    → ACK
 *   245 request equipment category     → ASCII ("Coin Acceptor", "Payout", "Bill Validator")
 *   242 request serial number          → 3 bytes, LSB first
 *     1 reset device                   → ACK; the device restarts (event counter back to 0, inhibited)
 *   228 modify master inhibit status   [1 = accept, 0 = inhibit all]
 *   227 request master inhibit status  → [bit 0: 1 accepting]
 *   231 modify inhibit status          [mask lo, mask hi]: bit n enables coin/bill type n+1
 *   230 request inhibit status         → [mask lo, mask hi]
 *   184 request coin id [position]     → 6 ASCII chars, e.g. "JP500A" (country, value, issue)
 *   229 read buffered credit or error codes → [event counter, (A, B) × 5], newest first:
 *                                        A = coin position (credit, B = sorter path), or 0 with
 *                                        B an error code (1 reject coin, 2 inhibited coin,
 *                                        14 credit sensor blocked = coin jam, …)
 *   157 request bill id [type]         → 7 ASCII chars, e.g. "JP1000A"
 *   159 read buffered bill events      → [event counter, (A, B) × 5], newest first:
 *                                        A = bill type with B 0 (stacked: a credit) or 1 (held
 *                                        in escrow: the host routes it); A = 0: B a status
 *                                        (1 returned from escrow, 2 invalid bill, 3 transport
 *                                        problem, 6 jammed, …)
 *   154 route bill                     [1 = stack (accept), 0 = return]; NAK 254 escrow empty
 *   164 enable hopper                  [165 = enable, 0 = disable]
 *   167 dispense hopper coins          [serial number (3 bytes), coin count] (the plain,
 *                                        unencrypted variant: the serial number guards against
 *                                        a payout addressed to the wrong hopper)
 *   166 request hopper status          → [event counter, coins remaining, last payout: paid, last payout: unpaid]
 *   217 request payout high / low status → [bit 0: below the low level, bit 4: low sensor fitted]
 *   172 emergency stop                 → [coins remaining unpaid]
 */
export const CCTALK = {
  ack: 0,
  nak: 5,
  busy: 6,
  resetDevice: 1,
  routeBill: 154,
  requestBillId: 157,
  readBufferedBillEvents: 159,
  enableHopper: 164,
  requestHopperStatus: 166,
  dispenseHopperCoins: 167,
  emergencyStop: 172,
  requestCoinId: 184,
  requestPayoutHighLowStatus: 217,
  modifyMasterInhibit: 228,
  requestMasterInhibit: 227,
  readBufferedCredit: 229,
  modifyInhibitStatus: 231,
  requestInhibitStatus: 230,
  requestSerialNumber: 242,
  requestEquipmentCategory: 245,
  simplePoll: 254,
} as const;

/** One decoded ccTalk packet. */
export interface CctalkPacket {
  destination: number;
  source: number;
  header: number;
  data: Buffer;
}

/** The bytes of a packet, checksum included. */
export function encodeCctalk(p: { destination: number; source: number; header: number; data?: Uint8Array | readonly number[] }): Buffer {
  const data = Buffer.from(p.data ?? []);
  if (data.length > 252) throw new RangeError('a ccTalk packet carries at most 252 data bytes');
  const bytes = Buffer.concat([Buffer.from([p.destination, data.length, p.source, p.header]), data, Buffer.alloc(1)]);
  let sum = 0;
  for (let i = 0; i < bytes.length - 1; i++) sum += bytes[i]!;
  bytes[bytes.length - 1] = (256 - (sum % 256)) % 256;
  return bytes;
}

/** A packet from its bytes; null when the checksum or the length does not match. */
export function decodeCctalk(bytes: Buffer): CctalkPacket | null {
  if (bytes.length < 5 || bytes.length !== bytes[1]! + 5) return null;
  let sum = 0;
  for (const b of bytes) sum += b;
  if (sum % 256 !== 0) return null;
  return { destination: bytes[0]!, source: bytes[2]!, header: bytes[3]!, data: bytes.subarray(4, bytes.length - 1) };
}

/** A request got no valid reply in time (device unplugged, switched off, or the line is noisy). */
export class CctalkTimeout extends Error {
  constructor(
    readonly address: number,
    readonly header: number,
  ) {
    super(`no reply from ccTalk device ${address} to header ${header}`);
    this.name = 'CctalkTimeout';
  }
}

/** The device answered NAK (or busy). */
export class CctalkNak extends Error {
  constructor(
    readonly address: number,
    readonly header: number,
    readonly code: number,
  ) {
    super(`ccTalk device ${address} refused header ${header} (${code === CCTALK.busy ? 'busy' : 'NAK'})`);
    this.name = 'CctalkNak';
  }
}

/** Something the kiosk reads and writes ccTalk packets through (a serial port, or a test double). */
export interface CctalkLink {
  /** Sends a request and resolves with the reply's data. */
  request(address: number, header: number, data?: readonly number[], timeoutMs?: number): Promise<Buffer>;
  close(): Promise<void>;
}

type Waiting = { address: number; header: number; resolve: (data: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** A ccTalk bus on a serial port: one request at a time (the protocol is half-duplex, master/slave). */
export class CctalkBus implements CctalkLink {
  private waiting: Waiting | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly port: SerialPort,
    private readonly defaultTimeoutMs: number,
  ) {
    const parser = port.pipe(new CCTalkParser(20));
    parser.on('data', (frame: Buffer) => this.onFrame(frame));
    // A port that goes away (USB adapter pulled) fails the request in flight; the next ones time out.
    port.on('error', (e) => this.fail(e));
    port.on('close', () => this.fail(new Error('the serial port was closed')));
  }

  /** Opens `path` at 9600 8N1 (the ccTalk line speed). */
  static async open(path: string, options: { timeoutMs?: number } = {}): Promise<CctalkBus> {
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p: SerialPort = new SerialPort({ path, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: true }, (e) => (e ? reject(e) : resolve(p)));
    });
    return new CctalkBus(port, options.timeoutMs ?? 300);
  }

  private onFrame(frame: Buffer): void {
    const p = decodeCctalk(frame);
    // Our own request echoed on a single-wire bus, noise, or a late reply to a request that timed out.
    const w = this.waiting;
    if (!p || !w || p.destination !== CCTALK_HOST || p.source !== w.address) return;
    this.waiting = null;
    clearTimeout(w.timer);
    if (p.header === CCTALK.ack) w.resolve(Buffer.from(p.data));
    else w.reject(new CctalkNak(w.address, w.header, p.header));
  }

  private fail(e: Error): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    clearTimeout(w.timer);
    w.reject(e);
  }

  request(address: number, header: number, data: readonly number[] = [], timeoutMs = this.defaultTimeoutMs): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => this.fail(new CctalkTimeout(address, header)), timeoutMs);
        this.waiting = { address, header, resolve, reject, timer };
        this.port.write(encodeCctalk({ destination: address, source: CCTALK_HOST, header, data }), (e) => {
          if (e) this.fail(e);
        });
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}
