// A small promise wrapper over npm `pcsclite`, used the way an application uses it (test helper, not a test file).
import pcsclite from 'pcsclite';

type PCSCLite = ReturnType<typeof pcsclite>;
type CardReader = Parameters<Parameters<PCSCLite['on']>[1]>[0]; // the last `on` overload is ('reader', (reader: CardReader) => void)

export interface ReaderStatus {
  state: number;
  atr?: Buffer;
  at: number;
}

export const SCARD_STATE_EMPTY = 0x10;
export const SCARD_STATE_PRESENT = 0x20;

export class PcscHarness {
  private readonly pcsc: PCSCLite;
  readonly readers = new Map<string, CardReader>();
  readonly statuses = new Map<string, ReaderStatus>();
  readonly errors: unknown[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor() {
    this.pcsc = pcsclite(); // throws if pcscd is not running
    this.pcsc.on('error', (err) => this.errors.push(err));
    this.pcsc.on('reader', (reader) => {
      const r = reader as unknown as CardReader;
      this.readers.set(r.name, r);
      r.on('error', (err: unknown) => this.errors.push(err)); // a reader without an error handler crashes the process
      r.on('status', (s: { state: number; atr?: Buffer }) => {
        this.statuses.set(r.name, { state: s.state, ...(s.atr ? { atr: s.atr } : {}), at: performance.now() });
        this.notify();
      });
      r.on('end', () => {
        this.readers.delete(r.name);
        this.notify();
      });
      this.notify();
    });
  }

  static open(): PcscHarness {
    return new PcscHarness();
  }

  private lastEventAt = 0;

  private notify(): void {
    this.lastEventAt = performance.now();
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when `test()` returns a value other than undefined (checked on every reader/status event). */
  private waitFor<T>(test: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = test();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  waitForReader(name: string, timeoutMs = 5000): Promise<CardReader> {
    return this.waitFor(() => this.readers.get(name), `reader ${name}`, timeoutMs);
  }

  /** Waits until the reader reports a card (present = true) or no card. */
  waitForCard(name: string, present: boolean, timeoutMs = 5000): Promise<ReaderStatus> {
    return this.waitFor(
      () => {
        const s = this.statuses.get(name);
        if (!s) return undefined;
        const has = (s.state & SCARD_STATE_PRESENT) !== 0;
        return has === present ? s : undefined;
      },
      `${present ? 'card in' : 'no card in'} ${name}`,
      timeoutMs,
    );
  }

  connect(name: string, shareMode: 'shared' | 'exclusive' = 'shared'): Promise<number> {
    const r = this.reader(name);
    return new Promise((resolve, reject) =>
      r.connect(
        { share_mode: shareMode === 'shared' ? r.SCARD_SHARE_SHARED : r.SCARD_SHARE_EXCLUSIVE, protocol: r.SCARD_PROTOCOL_T1 },
        (err, protocol) => (err ? reject(err) : resolve(protocol)),
      ),
    );
  }

  transmit(name: string, apdu: Uint8Array, maxResponse = 258): Promise<Uint8Array> {
    const r = this.reader(name);
    return new Promise((resolve, reject) =>
      r.transmit(Buffer.from(apdu), maxResponse, r.SCARD_PROTOCOL_T1, (err, data) => (err ? reject(err) : resolve(new Uint8Array(data)))),
    );
  }

  disconnect(name: string, disposition: 'leave' | 'reset' | 'unpower' = 'leave'): Promise<void> {
    const r = this.reader(name);
    const d = { leave: r.SCARD_LEAVE_CARD, reset: r.SCARD_RESET_CARD, unpower: r.SCARD_UNPOWER_CARD }[disposition];
    return new Promise((resolve, reject) => r.disconnect(d, (err) => (err ? reject(err) : resolve())));
  }

  isConnected(name: string): boolean {
    return this.readers.get(name)?.connected ?? false;
  }

  reader(name: string): CardReader {
    const r = this.readers.get(name);
    if (!r) throw new Error(`no reader ${name}`);
    return r;
  }

  /**
   * Closes the PC/SC context and the readers' watcher threads. npm pcsclite 1.0.1 has a race: a reader closed
   * while its watcher thread is between two SCardGetStatusChange calls (i.e. right after a status event) exits
   * without closing its uv_async handle, and the process never exits (seen in ~1 of 6 runs). Waiting until
   * no event has arrived for a moment lets the threads park in SCardGetStatusChange, where close() cancels them
   * cleanly (0 hangs in 16 runs).
   */
  async close(): Promise<void> {
    for (;;) {
      const quietFor = performance.now() - this.lastEventAt;
      if (quietFor >= 150) break;
      await new Promise((r) => setTimeout(r, 150 - quietFor));
    }
    for (const r of this.readers.values()) {
      try {
        r.close();
      } catch {
        /* closing */
      }
    }
    this.pcsc.close();
  }
}
