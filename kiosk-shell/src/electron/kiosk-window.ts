// The kiosk window and its guards: fullscreen kiosk mode, a sandboxed renderer without Node and
// devtools, no keyboard way out, no closing without an admin exit, reload after a crash.
import { secureWebPreferences } from '@cert/common/node';
import type * as Electron from 'electron';
import { KIOSK_URL } from './kiosk-protocol.ts';

/** Options of the one kiosk window. */
export function kioskWindowOptions(preloadPath: string): Electron.BrowserWindowConstructorOptions {
  return {
    kiosk: true,
    fullscreen: true,
    frame: false,
    show: false,
    autoHideMenuBar: true,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      ...secureWebPreferences(preloadPath),
      devTools: false,
      disableDialogs: true,
      enableWebSQL: false,
      experimentalFeatures: false,
    },
  };
}

// Keys a resident may use: typing (digits, a scanner's characters), Enter, Tab, Backspace,
// Space and the arrows. Everything else can reload, close, zoom, print, open devtools, go back
// or leave fullscreen somewhere, so it is swallowed rather than listed key by key.
const NAMED_KEYS_ALLOWED = new Set(['Enter', 'Tab', 'Backspace', 'Delete', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'Shift', 'CapsLock']);

/** True when a key event may reach the renderer (Ctrl/Alt/Meta combinations, F-keys, Escape and browser keys may not). */
export function isAllowedKey(input: Pick<Electron.Input, 'key' | 'control' | 'alt' | 'meta'>): boolean {
  if (input.control || input.alt || input.meta) return false;
  return input.key.length === 1 || NAMED_KEYS_ALLOWED.has(input.key);
}

/** What the window guards need from the app. */
export interface WindowGuardOptions {
  /** True only during an admin exit. */
  allowClose: () => boolean;
  log: (line: string) => void;
  /** Pause before reloading a crashed renderer (default 1 s, so a crash loop does not spin). */
  reloadDelayMs?: number;
}

/** Installs the window's guards and shows it once its first paint is ready. */
export function guardKioskWindow(win: Electron.BrowserWindow, options: WindowGuardOptions): void {
  const wc = win.webContents;
  wc.on('before-input-event', (event, input) => {
    if (!isAllowedKey(input)) event.preventDefault();
  });
  win.on('close', (event) => {
    if (!options.allowClose()) {
      event.preventDefault();
      options.log('refused to close the kiosk window (only an admin exit closes it)');
    }
  });
  // devTools:false already refuses; this is the second lock should anything open them.
  wc.on('devtools-opened', () => wc.closeDevTools());
  wc.on('render-process-gone', (_event, details) => {
    options.log(`renderer gone (${details.reason}, exit code ${details.exitCode}); reloading`);
    setTimeout(() => {
      if (!win.isDestroyed()) void win.loadURL(KIOSK_URL);
    }, options.reloadDelayMs ?? 1000);
  });
  // A hung renderer is crashed on purpose, so that the reload above brings it back.
  win.on('unresponsive', () => {
    options.log('renderer unresponsive; restarting it');
    wc.forcefullyCrashRenderer();
  });
  wc.on('did-finish-load', () => void wc.setVisualZoomLevelLimits(1, 1));
  win.once('ready-to-show', () => win.show());
}
