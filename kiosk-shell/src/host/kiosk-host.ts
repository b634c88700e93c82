// The kiosk core behind the renderer's API: one set of IPC handlers and one event feed, used by
// the Electron main process and by the web-mode host alike (the renderer cannot tell them apart).
import { kioskChannels, type ChannelHandlers, type IpcError, type kioskEvents } from '@cert/common';
import { IppPrinter, type KioskPrinter } from '../core/ipp-printer.ts';
import { KioskApi } from '../core/kiosk-api.ts';
import { CashPayment } from '../core/cash-payment.ts';
import { KioskBusyError, KioskSession, type KioskOutcome, type KioskProgress, type KioskServer } from '../core/kiosk-session.ts';
import type { PaymentPort } from '../core/payment-port.ts';
import { describeReconcile, PrintReconciler } from '../core/print-reconciler.ts';
import { openStateDir, StateDirError, type KioskState } from '../state/state-dir.ts';
import { AdminExitError, AdminGate } from './admin-gate.ts';
import { KioskConfigError, type KioskHostConfig, type PaymentConfig } from './kiosk-config.ts';

/** The kiosk's IPC handlers, typed from the contract. */
export type KioskHandlers = ChannelHandlers<typeof kioskChannels>;

/** Pushes one event to the renderer(s). */
export type KioskEmit = <K extends keyof typeof kioskEvents & string>(event: K, payload: unknown) => void;

/** The core wired for a renderer. */
export interface KioskHost {
  handlers: KioskHandlers;
  /** Forwards the session's progress through `emit`; returns an unhook function. */
  subscribe(emit: KioskEmit): () => void;
  /** Cancels a running issuance (abandoning it on the server, so the receipt stays printable), waits for its end, stops the journal and releases the state directory. */
  close(): Promise<void>;
}

/** What the adapter provides besides the configuration. */
export interface KioskHostDeps {
  /** Leaves the shell after a correct admin code; without it admin exit is disabled. */
  onAdminExit?: () => void;
  /** Replaces the IPP printer (the printer of a test, or another transport). */
  printer?: KioskPrinter;
  /** Replaces the HTTP client of the issuance server. */
  server?: KioskServer;
  /** Where the journal's findings go (staff read them there). */
  log?: (line: string) => void;
  /** Replaces the configured payment device (a test's). */
  paymentDevice?: PaymentPort;
}

// How long close() waits for the abandon call of a cancelled issuance (its retries included).
const CLOSE_WAIT_MS = 15_000;

/** Opens the configured payment device; null for a free kiosk. A paid kiosk whose device cannot be opened does not start ({@link KioskConfigError}). */
export async function openPaymentDevice(p: PaymentConfig, state: KioskState, log: (line: string) => void): Promise<PaymentPort | null> {
  if (p.mode === 'free') return null;
  try {
    const cash = await CashPayment.open(p.serialPath, { counters: state.cashCounters, ...(p.hoppers ? { hoppers: p.hoppers } : {}) });
    if (cash.unit.missed.length > 0) log(`cash unit: ${cash.unit.missed.length} credit(s) taken while the kiosk was not running; the journal accounts for them`);
    return cash;
  } catch (e) {
    throw new KioskConfigError(`the kiosk is configured to take the fee, but its cash unit on ${p.serialPath} cannot be used: ${(e as Error).message}. Connect it, or configure payment {"mode": "free"} for a kiosk that prints without payment`);
  }
}

/**
 * Builds the session, printer, payment device, journal and handlers from a configuration; the
 * journal's first pass starts at once (new receipts wait for it). Throws {@link StateDirError}
 * when the state directory cannot be used, {@link KioskConfigError} when a paid kiosk has no
 * working payment device.
 */
export async function createKioskHost(config: KioskHostConfig, deps: KioskHostDeps = {}): Promise<KioskHost> {
  const ipp = new IppPrinter(config.printerUri);
  const printer = deps.printer ?? ipp;
  const server = deps.server ?? new KioskApi(config.endpoint, config.credential);
  const log = deps.log ?? (() => {});
  const state = openStateDir(config.stateDir, log);
  let payment: PaymentPort | null;
  try {
    payment = deps.paymentDevice ?? (await openPaymentDevice(config.payment, state, log));
  } catch (e) {
    state.release();
    throw e;
  }
  // The journal always asks the configured printer itself: it must see the jobs as they really are.
  const journal = new PrintReconciler(state.journal, server, ipp, {
    printTimeoutMs: config.printTimeoutMs,
    ...(config.session?.printerFaultToleranceMs !== undefined ? { faultToleranceMs: config.session.printerFaultToleranceMs } : {}),
    ...(config.session?.jobPollIntervalMs !== undefined ? { pollIntervalMs: config.session.jobPollIntervalMs } : {}),
    ...(config.session?.retryDelayMs !== undefined ? { retryDelayMs: config.session.retryDelayMs } : {}),
    ...config.recovery,
    ...(payment ? { payment } : {}),
  });
  journal.on('event', (e) => log(describeReconcile(e)));
  const session = new KioskSession(server, printer, {
    decisionTimeoutMs: config.decisionTimeoutMs,
    printTimeoutMs: config.printTimeoutMs,
    ...(config.payment.mode === 'cash' ? { paymentIdleTimeoutMs: config.payment.idleTimeoutSeconds * 1000 } : {}),
    ...config.session,
    journal,
    ...(payment ? { payment } : {}),
  });
  journal.start();
  const gate = new AdminGate(deps.onAdminExit ? config.adminCode : null);
  let running: Promise<KioskOutcome> | null = null;

  const handlers: KioskHandlers = {
    'kiosk.info': () => ({
      storeName: config.storeName,
      location: config.location,
      inactivityMs: config.inactivityMs,
      decisionTimeoutMs: config.decisionTimeoutMs,
      payment: payment ? 'cash' : 'free',
    }),
    'kiosk.issue': async (input) => {
      const issuing = session.issue(input);
      running = issuing;
      try {
        return await issuing;
      } finally {
        if (running === issuing) running = null;
      }
    },
    'kiosk.cancel': () => {
      session.cancel();
      return null;
    },
    'printer.status': () => printer.status(),
    'kiosk.journal': () => journal.view(),
    'kiosk.adminExit': (code) => {
      gate.check(code);
      // After the reply is on its way: the renderer shows "closing" before the shell goes.
      setImmediate(() => deps.onAdminExit?.());
      return null;
    },
  };

  return {
    handlers,
    subscribe(emit) {
      const forward = (p: KioskProgress) => emit('progress', p);
      session.on('progress', forward);
      return () => session.off('progress', forward);
    },
    async close() {
      session.cancel();
      if (running) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([running.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
        clearTimeout(timer);
      }
      await journal.stop();
      await payment?.close();
      state.release();
    },
  };
}

/** Maps what a kiosk handler threw to the error the renderer translates (stable codes). */
export function kioskIpcError(err: unknown): IpcError {
  if (err instanceof KioskBusyError) return { code: 'kiosk_busy', message: err.message };
  if (err instanceof AdminExitError) return { code: err.code, message: err.message, ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}) };
  if (err instanceof KioskConfigError || err instanceof StateDirError) return { code: 'config_invalid', message: err.message };
  return { code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
}
