import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { CardError, cardErrorFromPcsc, pcscCode } from './card-errors.ts';

// pcsclite is a CommonJS native addon; load it lazily so that importing the core never touches pcscd.
const require = createRequire(import.meta.url);

// pcsclite's typings declare these interfaces without exporting them; name what we use.
type PCSCLite = ReturnType<typeof import('pcsclite')>;
type CardReader = Parameters<Extract<Parameters<PCSCLite['on']>, ['reader', unknown]>[1]>[0];

/** One reader as the UI shows it. */
export interface ReaderSnapshot {
  name: string;
  cardPresent: boolean;
  atr: string | null;
}

/** An open connection to the card in one reader. */
export interface CardConnection {
  readonly readerName: string;
  /** Sends one command APDU; `maxResponse` is the largest expected data length. */
  transmit(apdu: Uint8Array, maxResponse: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Events of the PC/SC monitor. */
export interface PcscMonitorEvents {
  readers: [ReaderSnapshot[]];
  'service-state': ['available' | 'unavailable'];
}

const SERVICE_GONE = new Set([0x80100013, 0x8010001d, 0x8010001e, 0x80100003]);

/** A pcsclite object to close, with when it last delivered an event. */
interface Watched {
  seen: boolean;
  lastEventAt: number;
  closed: boolean;
  close(): void;
}

/** One PC/SC context: the pcsclite instance and every reader object it created. */
interface PcscContext {
  gen: number;
  self: Watched;
  readers: Watched[];
}

const watched = (close: () => void): Watched => ({ seen: false, lastEventAt: performance.now(), closed: false, close });
const touch = (w: Watched) => {
  w.seen = true;
  w.lastEventAt = performance.now();
};

/** How long a pcsclite object must have been silent before it is closed. */
const QUIET_MS = 150;
/** Close anyway after this long (a reader that never reported anything). */
const CLOSE_DEADLINE_MS = 3000;

/**
 * Closes a context's readers, then the context, each once it has been quiet for QUIET_MS, from
 * timers. pcsclite 1.0.1 has two races in close(): a reader whose status thread is between two
 * SCardGetStatusChange calls (it was just created, or just delivered an event) exits without
 * closing its uv handle, so the process never exits; and close() from inside one of the reader's
 * own status/error callbacks takes a mutex that callback holds, a deadlock. A silent reader's
 * thread is blocked in SCardGetStatusChange, where close() cancels it cleanly.
 */
function closeWhenQuiet(context: PcscContext): void {
  const deadline = performance.now() + CLOSE_DEADLINE_MS;
  const quiet = (w: Watched, now: number) => (w.seen && now - w.lastEventAt >= QUIET_MS) || now >= deadline;
  const tryClose = (w: Watched) => {
    w.closed = true;
    try {
      w.close();
    } catch {
      /* already dead with its context */
    }
  };
  const tick = () => {
    const now = performance.now();
    for (const r of context.readers) if (!r.closed && quiet(r, now)) tryClose(r);
    // The context last: a reader it lists meanwhile must be closed too.
    if (context.readers.every((r) => r.closed) && quiet(context.self, now)) return tryClose(context.self);
    setTimeout(tick, 50);
  };
  setTimeout(tick, 0);
}

/**
 * Watches PC/SC readers and cards through pcsclite. When pcscd is missing or restarts, every
 * reader errors out and the context is dead: the monitor drops it and recreates it until the
 * service is back, so the UI sees "no reader" instead of a crashed process.
 */
export class PcscMonitor extends EventEmitter<PcscMonitorEvents> {
  private pcsc: PCSCLite | null = null;
  /** The open context's pcsclite objects, for closing them safely (see closeWhenQuiet). */
  private context: PcscContext | null = null;
  private readonly readers = new Map<string, { reader: CardReader; snapshot: ReaderSnapshot }>();
  private retryTimer: NodeJS.Timeout | null = null;
  private running = false;
  private generation = 0;
  /** Disconnects still in flight, per reader: pcsclite has one connection per reader object. */
  private readonly closing = new Map<string, Promise<void>>();

  constructor(private readonly retryMs = 1000) {
    super();
  }

  /** Starts watching (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.open();
  }

  /** Stops watching and releases the PC/SC context. */
  stop(): void {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.drop();
  }

  /** True while a PC/SC context is open. */
  get serviceAvailable(): boolean {
    return this.pcsc !== null;
  }

  /** The readers currently known. */
  snapshot(): ReaderSnapshot[] {
    return [...this.readers.values()].map((r) => ({ ...r.snapshot }));
  }

  private open(): void {
    if (!this.running || this.pcsc) return;
    let pcsc: PCSCLite;
    try {
      pcsc = (require('pcsclite') as () => PCSCLite)();
    } catch {
      // pcscd not running: report and try again later.
      this.emit('service-state', 'unavailable');
      this.scheduleReopen();
      return;
    }
    const gen = ++this.generation;
    this.pcsc = pcsc;
    const context: PcscContext = { gen, self: watched(() => pcsc.close()), readers: [] };
    context.self.seen = true; // its thread lists the readers at once; quiet after the last 'reader'
    this.context = context;
    this.emit('service-state', 'available');
    pcsc.on('error', (err: unknown) => {
      touch(context.self);
      this.onServiceError(gen, err);
    });
    pcsc.on('reader', (reader) => {
      touch(context.self);
      this.addReader(context, reader);
    });
  }

  private scheduleReopen(): void {
    if (!this.running || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private drop(): void {
    const context = this.context;
    this.pcsc = null;
    this.context = null;
    this.generation++;
    const hadReaders = this.readers.size > 0;
    this.readers.clear();
    this.closing.clear();
    if (context) closeWhenQuiet(context);
    if (hadReaders) this.emit('readers', []);
  }

  private onServiceError(gen: number, err: unknown): void {
    if (gen !== this.generation) return;
    const code = pcscCode(err);
    if (code === undefined || SERVICE_GONE.has(code)) {
      this.drop();
      this.emit('service-state', 'unavailable');
      this.scheduleReopen();
    }
  }

  private addReader(context: PcscContext, reader: CardReader): void {
    const gen = context.gen;
    const life = watched(() => reader.close());
    context.readers.push(life);
    // A reader without an error listener would crash the process when pcscd restarts (RIG.md).
    reader.on('error', (err: unknown) => {
      touch(life);
      this.onServiceError(gen, err);
    });
    if (gen !== this.generation) {
      // Listed by a context being dropped: only watch it until it is closed.
      reader.on('status', () => touch(life));
      return;
    }
    const entry = { reader, snapshot: { name: reader.name, cardPresent: false, atr: null as string | null } };
    this.readers.set(reader.name, entry);
    reader.on('end', () => {
      if (gen === this.generation && this.readers.get(reader.name)?.reader === reader) {
        this.readers.delete(reader.name);
        this.emit('readers', this.snapshot());
      }
    });
    reader.on('status', (status) => {
      touch(life);
      if (gen !== this.generation) return;
      const present = (status.state & reader.SCARD_STATE_PRESENT) !== 0 && (status.state & reader.SCARD_STATE_MUTE) === 0;
      const atr = present && status.atr?.length ? status.atr.toString('hex').toUpperCase() : null;
      if (present !== entry.snapshot.cardPresent || atr !== entry.snapshot.atr) {
        entry.snapshot = { name: reader.name, cardPresent: present, atr };
        this.emit('readers', this.snapshot());
      }
    });
    this.emit('readers', this.snapshot());
  }

  /** Resolves when some reader holds a card (or rejects after `timeoutMs`). */
  waitForCard(timeoutMs: number, readerName?: string): Promise<ReaderSnapshot> {
    const pick = () => this.snapshot().find((r) => r.cardPresent && (!readerName || r.name === readerName));
    const found = pick();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('readers', on);
        reject(new CardError(this.readers.size ? 'no_card' : 'no_reader', this.readers.size ? 'no card was inserted in time' : 'no card reader is connected'));
      }, timeoutMs);
      const on = () => {
        const r = pick();
        if (r) {
          clearTimeout(timer);
          this.off('readers', on);
          resolve(r);
        }
      };
      this.on('readers', on);
    });
  }

  /** Connects to the card in a reader (shared mode, T=1 or T=0). */
  connect(readerName: string): Promise<CardConnection> {
    // A pcsclite reader holds one connection; connecting while the last one is still closing
    // would "succeed" without a protocol and every transmit would fail. Wait for the close.
    const closing = this.closing.get(readerName);
    if (closing) return closing.then(() => this.connect(readerName));
    const entry = this.readers.get(readerName);
    if (!this.pcsc) return Promise.reject(new CardError('pcsc_unavailable', 'the smart-card service (pcscd) is not running'));
    if (!entry) return Promise.reject(new CardError('no_reader', `reader "${readerName}" is not connected`));
    if (!entry.snapshot.cardPresent) return Promise.reject(new CardError('no_card', 'there is no card in the reader'));
    const { reader } = entry;
    const gen = this.generation;
    return new Promise((resolve, reject) => {
      reader.connect({ share_mode: reader.SCARD_SHARE_SHARED, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 }, (err, protocol) => {
        if (err) return reject(cardErrorFromPcsc(err, 'connecting to the card'));
        // No protocol: pcsclite found the reader already connected (another connection is open).
        if (typeof protocol !== 'number') return reject(new CardError('card_busy', 'connecting to the card: the card is already in use by this application'));
        let open = true;
        resolve({
          readerName,
          transmit: (apdu, maxResponse) =>
            new Promise((res, rej) => {
              if (!open) return rej(new CardError('card_error', 'the card connection is closed'));
              if (gen !== this.generation) return rej(new CardError('pcsc_restarted', 'the smart-card service restarted; try again'));
              // pcsclite needs room for the status word too (RIG.md: else 0x80100008).
              reader.transmit(Buffer.from(apdu), maxResponse + 2, protocol, (e, data) => (e ? rej(cardErrorFromPcsc(e, 'talking to the card')) : res(new Uint8Array(data))));
            }),
          close: () => {
            if (!open) return this.closing.get(readerName) ?? Promise.resolve();
            open = false;
            if (gen !== this.generation) return Promise.resolve();
            const done = new Promise<void>((res) => reader.disconnect(reader.SCARD_LEAVE_CARD, () => res())).finally(() => {
              if (this.closing.get(readerName) === done) this.closing.delete(readerName);
            });
            this.closing.set(readerName, done);
            return done;
          },
        });
      });
    });
  }
}
