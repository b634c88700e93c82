// The kiosk core behind the renderer's API: one set of IPC handlers and one event feed, used by
// the Electron main process and by the web-mode host alike (the renderer cannot tell them apart).
import { kioskChannels, type ChannelHandlers, type IpcError, type kioskEvents } from '@cert/common';
import { IppPrinter, type KioskPrinter } from '../core/ipp-printer.ts';
import { KioskApi } from '../core/kiosk-api.ts';
import { KioskBusyError, KioskSession, type KioskOutcome, type KioskProgress, type KioskServer } from '../core/kiosk-session.ts';
import { describeReconcile, PrintReconciler } from '../core/print-reconciler.ts';
import { openStateDir, StateDirError } from '../state/state-dir.ts';
import { AdminExitError, AdminGate } from './admin-gate.ts';
import { KioskConfigError, type KioskHostConfig } from './kiosk-config.ts';

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
}

// How long close() waits for the abandon call of a cancelled issuance (its retries included).
const CLOSE_WAIT_MS = 15_000;

/**
 * Builds the session, printer, journal and handlers from a configuration; the journal's first
 * pass starts at once (new receipts wait for it). Throws {@link StateDirError} when the state
 * directory cannot be used.
 */
export function createKioskHost(config: KioskHostConfig, deps: KioskHostDeps = {}): KioskHost {
  const ipp = new IppPrinter(config.printerUri);
  const printer = deps.printer ?? ipp;
  const server = deps.server ?? new KioskApi(config.endpoint, config.credential);
  const log = deps.log ?? (() => {});
  const state = openStateDir(config.stateDir, log);
  // The journal always asks the configured printer itself: it must see the jobs as they really are.
  const journal = new PrintReconciler(state.journal, server, ipp, {
    printTimeoutMs: config.printTimeoutMs,
    ...(config.session?.printerFaultToleranceMs !== undefined ? { faultToleranceMs: config.session.printerFaultToleranceMs } : {}),
    ...(config.session?.jobPollIntervalMs !== undefined ? { pollIntervalMs: config.session.jobPollIntervalMs } : {}),
    ...(config.session?.retryDelayMs !== undefined ? { retryDelayMs: config.session.retryDelayMs } : {}),
    ...config.recovery,
  });
  journal.on('event', (e) => log(describeReconcile(e)));
  const session = new KioskSession(server, printer, {
    decisionTimeoutMs: config.decisionTimeoutMs,
    printTimeoutMs: config.printTimeoutMs,
    ...config.session,
    journal,
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
