// A virtual My Number card in a vsmartcard vpcd reader slot (jpki-card.md §10).
//
// vpcd (the PC/SC reader driver loaded by pcscd) listens on one TCP port per reader slot. The card connects as a
// TCP client: connecting = inserting the card, closing = removing it. Each message in either direction is a 2-byte
// big-endian length and that many payload bytes. A 1-byte payload from vpcd is a control code (00 power off,
// 01 power on, 02 warm reset, 04 get ATR — only 04 is answered, with the ATR); longer payloads are command APDUs,
// answered with `data ‖ SW1 SW2`. The card never sends anything unsolicited and never an empty frame (vpcd would
// treat it as removal).
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { toHex, fromHex, swHex } from '@cert/common';
import { JpkiCard, type JpkiCardOptions } from './jpki-card.ts';
import type { CardPersona } from './persona.ts';

export interface VirtualCardOptions extends JpkiCardOptions {
  /** Reconnect (re-insert) when vpcd drops the connection, e.g. when pcscd restarts (default true). */
  reconnect?: boolean;
  /** How long insert() keeps trying to reach vpcd and waits for its first poll (default 10 s; `Infinity` = forever). */
  connectTimeoutMs?: number;
  /** Entries kept in the APDU and control logs (default 10 000; oldest dropped). */
  logLimit?: number;
}

export interface ApduLogEntry {
  /** Epoch milliseconds when the command arrived. */
  at: number;
  /** Command APDU, hex. */
  command: string;
  /** Response APDU (data ‖ SW), hex. */
  response: string;
  /** Status word, 4 hex digits. */
  sw: string;
  /** Time spent in the card, ms. */
  ms: number;
}

export type VpcdControl = 'power-off' | 'power-on' | 'warm-reset' | 'get-atr';

export interface ControlLogEntry {
  at: number;
  control: VpcdControl | `unknown-${number}`;
}

export interface VirtualCardState {
  /** Connected to vpcd and polled at least once. */
  inserted: boolean;
  slot: { host: string; port: number } | undefined;
  powered: boolean;
  currentDf: 'mf' | 'jpki';
  currentEf: string | undefined;
  verified: { auth: boolean; sign: boolean };
  counters: { auth: { remaining: number; max: number; blocked: boolean }; sign: { remaining: number; max: number; blocked: boolean } };
  atr: string;
}

const CONTROL_NAMES: Record<number, VpcdControl> = { 0: 'power-off', 1: 'power-on', 2: 'warm-reset', 4: 'get-atr' };

/**
 * Events: `inserted` (vpcd accepted and polled the card), `disconnected` (vpcd dropped it; reconnecting if enabled),
 * `removed` (remove() finished), `apdu` (ApduLogEntry), `control` (ControlLogEntry), `error` is never emitted.
 */
export class VirtualMyNumberCard extends EventEmitter {
  readonly card: JpkiCard;
  readonly options: Readonly<VirtualCardOptions>;
  private readonly apdus: ApduLogEntry[] = [];
  private readonly controls: ControlLogEntry[] = [];
  private target: { host: string; port: number } | undefined;
  private socket: Socket | undefined;
  private accepted = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(persona: CardPersona, options: VirtualCardOptions = {}) {
    super();
    this.options = { ...options };
    this.card = new JpkiCard(persona, options);
  }

  // -------------------------------------------------------------------------------------------
  // Insertion and removal

  /** Inserts the card into the vpcd slot listening on host:port; resolves once vpcd has accepted and polled it. */
  insert(port: number, host = '127.0.0.1'): Promise<void> {
    if (this.target) return Promise.reject(new Error(`card already inserted in ${this.target.host}:${this.target.port}`));
    this.target = { host, port };
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? 10_000);
    return new Promise<void>((resolve, reject) => {
      const attempt = () => {
        if (!this.target) return reject(new Error('removed while inserting'));
        this.open(
          () => resolve(),
          (why) => {
            if (!this.target) return reject(new Error('removed while inserting'));
            if (Date.now() >= deadline) {
              this.target = undefined;
              return reject(new Error(`could not insert the card into vpcd at ${host}:${port}: ${why}`));
            }
            this.retryTimer = setTimeout(attempt, 100);
          },
          deadline,
        );
      };
      attempt();
    });
  }

  /** Removes the card (closes the connection); pcscd sees "card removed" at its next poll. Idempotent. */
  async remove(): Promise<void> {
    this.target = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.accepted = false;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
    this.card.powerOff(); // the card left the field
    this.emit('removed');
  }

  /** Whether vpcd currently holds the card. */
  get inserted(): boolean {
    return this.accepted;
  }

  private open(onAccepted: () => void, onFailed: (why: string) => void, deadline: number | undefined): void {
    const target = this.target!;
    const socket = connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    this.socket = socket;
    let pending: Buffer = Buffer.alloc(0);
    let settled = false;
    let acceptTimer: NodeJS.Timeout | undefined;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      if (acceptTimer) clearTimeout(acceptTimer);
      socket.destroy();
      if (this.socket === socket) this.socket = undefined;
      onFailed(why);
    };
    socket.on('connect', () => {
      // TCP completes in the kernel backlog before vpcd accept()s; we count as inserted at vpcd's first poll.
      if (deadline !== undefined && Number.isFinite(deadline)) {
        acceptTimer = setTimeout(() => fail('connected, but vpcd never polled the card (is another card in this slot?)'), Math.max(0, deadline - Date.now()));
      }
    });
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const payload = new Uint8Array(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
        if (!settled) {
          settled = true;
          if (acceptTimer) clearTimeout(acceptTimer);
          this.accepted = true;
          this.emit('inserted', { ...target });
          onAccepted();
        }
        this.onFrame(socket, payload);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.on('close', () => {
      if (!settled) return fail('connection closed before vpcd polled the card');
      if (this.socket !== socket) return; // remove() or a newer connection
      this.socket = undefined;
      this.accepted = false;
      this.card.powerOff();
      this.emit('disconnected', { ...target });
      if (this.target && (this.options.reconnect ?? true)) this.reconnect(250);
    });
  }

  private reconnect(delayMs: number): void {
    this.retryTimer = setTimeout(() => {
      if (!this.target) return;
      this.open(() => undefined, () => this.reconnect(Math.min(delayMs * 2, 2000)), undefined);
    }, delayMs);
  }

  private onFrame(socket: Socket, payload: Uint8Array): void {
    if (payload.length === 0) return;
    if (payload.length === 1) {
      const code = payload[0]!;
      const control = CONTROL_NAMES[code] ?? (`unknown-${code}` as const);
      this.pushLog(this.controls, { at: Date.now(), control });
      this.emit('control', control);
      if (code === 0) this.card.powerOff();
      else if (code === 1) this.card.powerOn();
      else if (code === 2) this.card.warmReset();
      else if (code === 4) writeFrame(socket, this.card.atr);
      return;
    }
    writeFrame(socket, this.transmit(payload));
  }

  // -------------------------------------------------------------------------------------------
  // Direct access (unit tests, no vpcd)

  /** Processes one command APDU as if it came from the reader; logged like one. */
  transmit(apdu: Uint8Array): Uint8Array {
    const at = Date.now();
    const t0 = performance.now();
    let response: Uint8Array;
    try {
      response = this.card.transmit(apdu);
    } catch {
      response = Uint8Array.of(0x6f, 0x00);
    }
    const entry: ApduLogEntry = {
      at, command: toHex(apdu), response: toHex(response),
      sw: swHex((response[response.length - 2]! << 8) | response[response.length - 1]!), ms: performance.now() - t0,
    };
    this.pushLog(this.apdus, entry);
    this.emit('apdu', entry);
    return response;
  }

  /** transmit() with hex in and out (spaces allowed). */
  transmitHex(apduHex: string): string {
    return toHex(this.transmit(fromHex(apduHex)));
  }

  powerOn(): void {
    this.card.powerOn();
  }

  powerOff(): void {
    this.card.powerOff();
  }

  warmReset(): void {
    this.card.warmReset();
  }

  // -------------------------------------------------------------------------------------------
  // Observation

  get apduLog(): readonly ApduLogEntry[] {
    return this.apdus;
  }

  get controlLog(): readonly ControlLogEntry[] {
    return this.controls;
  }

  clearLog(): void {
    this.apdus.length = 0;
    this.controls.length = 0;
  }

  get state(): VirtualCardState {
    const s = this.card.sessionState;
    const auth = this.card.pinStatus('auth');
    const sign = this.card.pinStatus('sign');
    return {
      inserted: this.accepted,
      slot: this.target ? { ...this.target } : undefined,
      powered: s.powered,
      currentDf: s.currentDf,
      currentEf: s.currentEf === undefined ? undefined : s.currentEf.toString(16).toUpperCase().padStart(4, '0'),
      verified: { auth: auth.verified, sign: sign.verified },
      counters: {
        auth: { remaining: auth.remaining, max: auth.max, blocked: auth.blocked },
        sign: { remaining: sign.remaining, max: sign.max, blocked: sign.blocked },
      },
      atr: toHex(this.card.atr),
    };
  }

  /** Resolves at the next control code of that kind from vpcd (e.g. `power-on` after insertion). */
  nextControl(control: VpcdControl, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const onControl = (c: string) => {
        if (c !== control) return;
        clearTimeout(timer);
        this.off('control', onControl);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('control', onControl);
        reject(new Error(`no ${control} from vpcd within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('control', onControl);
    });
  }

  private pushLog<T>(log: T[], entry: T): void {
    log.push(entry);
    const limit = this.options.logLimit ?? 10_000;
    if (log.length > limit) log.splice(0, log.length - limit);
  }
}

function writeFrame(socket: Socket, payload: Uint8Array): void {
  if (payload.length === 0 || payload.length > 0xffff) throw new Error(`vpcd frame of ${payload.length} bytes`);
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame.writeUInt16BE(payload.length, 0);
  frame.set(payload, 2);
  if (!socket.destroyed) socket.write(frame); // one write: no Nagle split between length and payload
}
