// One running instance, and a renderer that comes back by itself after a crash or a hang.
import type { App, BrowserWindow } from 'electron';
import { realSchedule, type Schedule } from '../core/schedule.ts';

/** Takes the single-instance lock; a second launch quits and focuses the first one's window. */
export function claimSingleInstance(app: Pick<App, 'requestSingleInstanceLock' | 'quit' | 'on'>, focusExisting: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => focusExisting());
  return true;
}

/** How long a hung renderer gets before it is restarted (a long card operation never blocks it). */
export const UNRESPONSIVE_GRACE_MS = 10_000;

/**
 * Reloads the renderer when its process dies, and kills (then, through the same path, reloads)
 * a renderer that stays unresponsive past the grace period. The core's state lives in the main
 * process, so a reload loses nothing the resident entered that the core holds.
 */
export function recoverRenderer(win: Pick<BrowserWindow, 'on' | 'webContents' | 'isDestroyed'>, log: (msg: string) => void, graceMs = UNRESPONSIVE_GRACE_MS, schedule: Schedule = realSchedule): void {
  let cancelHang: (() => void) | null = null;
  const clearHang = () => {
    cancelHang?.();
    cancelHang = null;
  };
  win.webContents.on('render-process-gone', (_event, details) => {
    clearHang();
    log(`renderer gone (${details.reason}, exit code ${details.exitCode})`);
    if (details.reason !== 'clean-exit' && !win.isDestroyed()) win.webContents.reload();
  });
  win.on('unresponsive', () => {
    cancelHang ??= schedule(() => {
      cancelHang = null;
      log(`renderer unresponsive for ${graceMs} ms: restarting it`);
      if (!win.isDestroyed()) win.webContents.forcefullyCrashRenderer();
    }, graceMs);
  });
  win.on('responsive', clearHang);
  win.on('closed', clearHang);
}
