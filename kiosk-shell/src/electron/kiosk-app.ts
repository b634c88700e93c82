// The Electron shell, wired: single instance, guards, renderer protocol, the appliance's
// configuration, the kiosk core behind IPC, the window, no display sleep, admin exit.
// Relaunching after a main-process crash is the systemd unit's job (packaging/).
import type * as Electron from 'electron';
import { join } from 'node:path';
import { KioskConfigError, loadKioskConfigFile } from '../host/kiosk-config.ts';
import { createKioskHost, type KioskHandlers, type KioskHost } from '../host/kiosk-host.ts';
import { StateDirError } from '../state/state-dir.ts';
import { guardAllContents, guardSession } from './content-guards.ts';
import type { ElectronModule } from './electron-api.ts';
import { isTrustedSender, registerKioskIpc, sendKioskEvent } from './kiosk-ipc-main.ts';
import { KIOSK_SCHEME_PRIVILEGES, KIOSK_URL, serveRenderer } from './kiosk-protocol.ts';
import { guardKioskWindow, kioskWindowOptions } from './kiosk-window.ts';

/** Name of the appliance's configuration file in `userData`. */
export const CONFIG_FILE_NAME = 'kiosk-config.json';

/** Where the shell's files are and how it logs. */
export interface KioskAppOptions {
  /** The built renderer (`dist/renderer`). */
  rendererDir: string;
  /** The built preload (`dist/electron/preload.cjs`). */
  preloadPath: string;
  /** `KIOSK_CONFIG` overrides the configuration file's path. */
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  reloadDelayMs?: number;
}

/** The running shell. */
export interface KioskApp {
  /** Resolves once the window exists (or at once when another instance owns the kiosk). */
  ready: Promise<void>;
  window(): Electron.BrowserWindow | null;
  /** Abandons a running issuance, then quits (admin exit, SIGTERM from the service manager). */
  exit(): Promise<void>;
}

/** Every call fails with the configuration problem, so the renderer can show it to staff. */
function configErrorHandlers(error: KioskConfigError): KioskHandlers {
  const fail = () => {
    throw error;
  };
  return { 'kiosk.info': fail, 'kiosk.issue': fail, 'kiosk.cancel': fail, 'printer.status': fail, 'kiosk.journal': fail, 'kiosk.adminExit': fail };
}

/** The configuration file's path: `KIOSK_CONFIG`, else `kiosk-config.json` in userData. */
export function configPath(app: Pick<Electron.App, 'getPath'>, env: Record<string, string | undefined>): string {
  return env['KIOSK_CONFIG'] || join(app.getPath('userData'), CONFIG_FILE_NAME);
}

/** Starts the kiosk shell on an `electron` module (the real one, or a test double). */
export function startKioskApp(electron: ElectronModule, options: KioskAppOptions): KioskApp {
  const { app, BrowserWindow, Menu, ipcMain, protocol, session, powerSaveBlocker } = electron;
  const log = options.log;
  let win: Electron.BrowserWindow | null = null;
  let host: KioskHost | null = null;
  let allowClose = false;
  let exiting: Promise<void> | null = null;

  const exit = () =>
    (exiting ??= (async () => {
      log('leaving the kiosk shell');
      await host?.close();
      allowClose = true;
      app.quit();
    })());

  if (!app.requestSingleInstanceLock()) {
    log('another kiosk shell is already running; quitting');
    app.quit();
    return { ready: Promise.resolve(), window: () => null, exit: async () => {} };
  }
  // Before ready: the scheme's privileges, and no pinch zoom or swipe-back on the touch panel.
  protocol.registerSchemesAsPrivileged([KIOSK_SCHEME_PRIVILEGES]);
  app.commandLine.appendSwitch('disable-pinch');
  app.commandLine.appendSwitch('overscroll-history-navigation', '0');
  guardAllContents(app, log);
  app.on('second-instance', () => win?.focus());
  app.on('window-all-closed', () => app.quit());

  const ready = app.whenReady().then(async () => {
    Menu.setApplicationMenu(null);
    guardSession(session.defaultSession, log);
    serveRenderer(protocol, options.rendererDir);
    powerSaveBlocker.start('prevent-display-sleep');

    const file = configPath(app, options.env);
    let handlers: KioskHandlers;
    try {
      host = await createKioskHost(loadKioskConfigFile(file), { onAdminExit: () => void exit(), log });
      handlers = host.handlers;
    } catch (e) {
      const error = e instanceof KioskConfigError ? e : new KioskConfigError(`${file}: ${(e as Error).message}`);
      const help = new KioskConfigError(
        e instanceof StateDirError
          ? `${e.message} (stateDir in ${file}); then restart the kiosk.`
          : `${error.message}. Write ${file} (or point KIOSK_CONFIG at a file) with serverUrl, credentialFile, printerUri, storeName and payment, then restart the kiosk.`,
      );
      log(`configuration: ${help.message}`);
      handlers = configErrorHandlers(help);
    }

    win = new BrowserWindow(kioskWindowOptions(options.preloadPath));
    guardKioskWindow(win, { allowClose: () => allowClose, log, ...(options.reloadDelayMs !== undefined ? { reloadDelayMs: options.reloadDelayMs } : {}) });
    registerKioskIpc(ipcMain, handlers, (event) => isTrustedSender(event, win), log);
    host?.subscribe((event, payload) => sendKioskEvent(win, event, payload));
    void win.loadURL(KIOSK_URL);
  });

  return { ready, window: () => win, exit };
}
