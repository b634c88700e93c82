// The main-process end of the applicant IPC: one invoke channel, senders checked, arguments
// validated by the channel's zod schema (dispatchIpc) before any handler runs; core events go to
// the window with webContents.send.
import { applicantChannels, type IpcOutcome } from '@cert/common';
import { dispatchIpc } from '@cert/common/node';
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import type { ApplicantCore } from '../core/applicant-core.ts';
import { applicantHandlers, forwardCoreEvents, loggedErrorMapper } from '../host/applicant-handlers.ts';
import { APPLICANT_EVENT, APPLICANT_IPC } from './ipc-names.ts';
import { isAppUrl } from './security.ts';

/** True when a call comes from our window's top frame showing our renderer (not a sub-frame, not another page). */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, win: BrowserWindow | null): boolean {
  const frame = event.senderFrame;
  if (!win || win.isDestroyed() || !frame || event.sender !== win.webContents) return false;
  const top = win.webContents.mainFrame;
  return frame.processId === top.processId && frame.routingId === top.routingId && isAppUrl(frame.url);
}

const UNTRUSTED: IpcOutcome<never> = { ok: false, error: { code: 'untrusted_sender', message: 'this call did not come from the applicant window' } };

/** Registers the IPC handler and the event forwarding; returns the function that undoes both. */
export function registerApplicantIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, core: ApplicantCore, window: () => BrowserWindow | null, log: (msg: string) => void): () => void {
  const handlers = applicantHandlers(core);
  const toIpcError = loggedErrorMapper(log);
  ipcMain.handle(APPLICANT_IPC, (event, channel: unknown, args: unknown) => {
    if (!isTrustedSender(event, window())) {
      log(`dropped IPC call from an untrusted sender (${event.senderFrame?.url.slice(0, 200) ?? 'no frame'})`);
      return UNTRUSTED;
    }
    return dispatchIpc(applicantChannels, handlers, channel, args, toIpcError, log);
  });
  const unhook = forwardCoreEvents(core, (name, payload) => {
    const win = window();
    if (win && !win.isDestroyed()) win.webContents.send(APPLICANT_EVENT, name, payload);
  });
  return () => {
    ipcMain.removeHandler(APPLICANT_IPC);
    unhook();
  };
}
