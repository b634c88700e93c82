import { CardStatusError } from '@cert/common';
import { ContractError, NetworkError } from '@cert/common/node';
import { EventEmitter } from 'node:events';
import { CardError } from './card-errors.ts';
import { JpkiSession, type CardInfo, type JpkiSessionOptions } from './jpki-session.ts';
import type { CardConnection, PcscMonitor, ReaderSnapshot } from './pcsc-monitor.ts';

/** What the card area of the UI shows. */
export type CardStatus =
  | { state: 'pcsc_unavailable' }
  | { state: 'no_reader' }
  | { state: 'no_card'; readers: string[] }
  | { state: 'reading'; reader: string }
  | { state: 'card_ready'; reader: string; info: CardInfo }
  | { state: 'card_error'; reader: string; error: { kind: CardError['kind']; message: string } };

/** Turns anything a card operation threw into a CardError. */
export function asCardError(err: unknown): CardError {
  if (err instanceof CardError) return err;
  if (err instanceof CardStatusError) return new CardError('card_error', `the card refused a command: ${err.message}`);
  return new CardError('card_error', (err as Error)?.message ?? String(err));
}

/**
 * The resident's card as one live status: watches readers, opens a JPKI session on the first
 * card it sees (reading the tries left before any PIN is asked for) and runs PIN verification
 * for a login. A removed card or a restarted pcscd drops the session; the next operation opens a
 * fresh one.
 */
export class CardService extends EventEmitter<{ status: [CardStatus] }> {
  private current: CardStatus = { state: 'no_reader' };
  private session: { reader: string; atr: string | null; jpki: JpkiSession; connection: CardConnection } | null = null;
  private opening: Promise<void> | null = null;

  constructor(
    readonly monitor: PcscMonitor,
    private readonly options: JpkiSessionOptions = {},
  ) {
    super();
    monitor.on('readers', (readers) => this.onReaders(readers));
    monitor.on('service-state', (s) => {
      if (s === 'unavailable') {
        this.drop();
        this.set({ state: 'pcsc_unavailable' });
      } else this.onReaders(monitor.snapshot());
    });
  }

  /** The current status. */
  get status(): CardStatus {
    return this.current;
  }

  private set(s: CardStatus): void {
    this.current = s;
    this.emit('status', s);
  }

  private drop(): void {
    const s = this.session;
    this.session = null;
    void s?.connection.close().catch(() => undefined);
  }

  private onReaders(readers: ReaderSnapshot[]): void {
    if (!this.monitor.serviceAvailable) return;
    const withCard = readers.find((r) => r.cardPresent);
    if (this.session && !readers.some((r) => r.name === this.session!.reader && r.cardPresent && r.atr === this.session!.atr)) this.drop();
    if (!readers.length) return this.set({ state: 'no_reader' });
    if (!withCard) return this.set({ state: 'no_card', readers: readers.map((r) => r.name) });
    if (!this.session && !this.opening) void this.refresh().catch(() => undefined);
  }

  /** (Re)opens the JPKI session on the first card present and reports its tries left. */
  async refresh(): Promise<CardInfo> {
    if (this.opening) await this.opening.catch(() => undefined);
    const reader = this.monitor.snapshot().find((r) => r.cardPresent);
    if (!this.monitor.serviceAvailable) throw new CardError('pcsc_unavailable', 'the smart-card service (pcscd) is not running');
    if (!reader) throw new CardError(this.monitor.snapshot().length ? 'no_card' : 'no_reader', this.monitor.snapshot().length ? 'insert your My Number card' : 'connect a card reader');
    this.drop();
    this.set({ state: 'reading', reader: reader.name });
    let done!: () => void;
    this.opening = new Promise<void>((r) => (done = r));
    try {
      const connection = await this.monitor.connect(reader.name);
      const jpki = new JpkiSession(connection, this.options);
      this.session = { reader: reader.name, atr: reader.atr, jpki, connection };
      const info = await jpki.open();
      this.set({ state: 'card_ready', reader: reader.name, info: { ...info } });
      return info;
    } catch (e) {
      this.drop();
      const err = asCardError(e);
      this.set({ state: 'card_error', reader: reader.name, error: { kind: err.kind, message: err.message } });
      throw err;
    } finally {
      this.opening = null;
      done();
    }
  }

  /**
   * Verifies the PIN the resident just typed and hands the session to `use` (the login), which
   * reads the certificate and signs through it. Card errors come back as CardError.
   */
  async withVerifiedCard<T>(pin: string, confirmLastTry: boolean, use: (session: JpkiSession) => Promise<T>): Promise<T> {
    // A session still being opened (card just inserted, or re-read after the last login) is not
    // ready for a VERIFY: its APDUs would interleave with ours. Wait for it.
    if (this.opening) await this.opening.catch(() => undefined);
    if (!this.session) await this.refresh();
    const s = this.session!;
    try {
      await s.jpki.verifyPin(pin, confirmLastTry);
      return await use(s.jpki);
    } catch (e) {
      // The server's answer to the login (e.g. certificate_revoked) is not a card failure.
      if (e instanceof ContractError || e instanceof NetworkError) throw e;
      throw asCardError(e);
    } finally {
      // A fresh session per login keeps the card's security status from outliving the login.
      if (this.session === s) {
        this.drop();
        if (this.monitor.snapshot().some((r) => r.name === s.reader && r.cardPresent)) void this.refresh().catch(() => undefined);
      }
    }
  }
}
