// IPC in the main process: one invoke channel, arguments validated against the kiosk contract
// (dispatchIpc) and answered only for the kiosk window's own main frame on the kiosk:// origin.
import { kioskChannels, type IpcOutcome } from '@cert/common';
import { dispatchIpc } from '@cert/common/node';
import type * as Electron from 'electron';
import { kioskIpcError, type KioskHandlers } from '../host/kiosk-host.ts';
import { KIOSK_EVENT_CHANNEL, KIOSK_INVOKE_CHANNEL } from './ipc-names.ts';
import { KIOSK_ORIGIN } from './kiosk-protocol.ts';

/** True when a call comes from the kiosk window's top frame showing our renderer. */
export function isTrustedSender(event: Pick<Electron.IpcMainInvokeEvent, 'sender' | 'senderFrame'>, win: Electron.BrowserWindow | null): boolean {
  const frame = event.senderFrame;
  return !!win && !win.isDestroyed() && event.sender.id === win.webContents.id && !!frame && frame.parent === null && frame.url.startsWith(`${KIOSK_ORIGIN}/`);
}

/** Handles kiosk calls; calls from anywhere else are dropped and logged. */
export function registerKioskIpc(ipcMain: Pick<Electron.IpcMain, 'handle'>, handlers: KioskHandlers, trusted: (event: Electron.IpcMainInvokeEvent) => boolean, log: (line: string) => void): void {
  ipcMain.handle(KIOSK_INVOKE_CHANNEL, async (event, channel: unknown, args: unknown): Promise<IpcOutcome<unknown>> => {
    if (!trusted(event)) {
      log(`dropped an IPC call from an untrusted sender (${event.senderFrame?.url.slice(0, 200) ?? 'no frame'})`);
      return { ok: false, error: { code: 'untrusted_sender', message: 'this window may not call the kiosk' } };
    }
    return dispatchIpc(kioskChannels, handlers, channel, args, kioskIpcError, log);
  });
}

/** Pushes one kiosk event to the window, if it is still there. */
export function sendKioskEvent(win: Electron.BrowserWindow | null, event: string, payload: unknown): void {
  if (win && !win.isDestroyed()) win.webContents.send(KIOSK_EVENT_CHANNEL, { event, payload });
}
