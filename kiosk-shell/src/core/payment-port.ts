// The kiosk session's view of a payment device. The session asks for the fee, pays change and
// refunds through this port only, so another device (an e-money terminal) plugs in without
// touching the session: it implements the same four calls.
import type { PaymentNotice, PaymentProgressView } from '@cert/common';

/** One piece of money taken, with the device's event number (the journal knows a credit by it). */
export interface Credit {
  yen: number;
  source: string;
  counter: number;
}

/** How a collection ended; `notice` says why it stopped early. */
export interface Collected {
  kind: 'paid' | 'cancelled' | 'timeout' | 'fault';
  notice?: PaymentNotice;
  detail?: string;
}

/** What the session hands to a collection. */
export interface CollectHooks {
  /** Aborts when the resident presses Cancel (or the kiosk shuts down). */
  signal: AbortSignal;
  /** Gives up when no money came in for this long (restarted by every credit). */
  idleTimeoutMs: number;
  /**
   * Called for every credit before the port acts on it (counts it, asks for more, gives
   * change); the session journals it durably and returns false when it could not, which stops
   * the collection (a credit the kiosk cannot remember is never acted upon).
   */
  onCredit(credit: Credit): boolean;
  /** Progress for the resident (amounts inserted, what is accepted, notices). */
  onProgress(p: PaymentProgressView): void;
}

/** What a payout paid: the pieces (values in yen) and what it could not pay. */
export interface PaidOut {
  pieces: number[];
  short: number;
  problem?: string;
}

/** A payment device as the kiosk session uses it. */
export interface PaymentPort {
  /** The device's name in reports (`cctalk-cash`). */
  readonly device: string;
  /** Null when it can take money now; otherwise why not (shown to staff, and the receipt is not claimed). */
  check(): Promise<string | null>;
  /** Takes `due` yen: resolves once it is covered (credits ≥ due; change is the session's), or the resident cancels, or it times out or fails. */
  collect(due: number, already: number, hooks: CollectHooks): Promise<Collected>;
  /** Pays `yen` out (change or a refund). */
  payOut(yen: number): Promise<PaidOut>;
  /** Credits the device took while the kiosk was not running (found at start; handed out once). */
  takeMissed(): Credit[];
  close(): Promise<void>;
}
