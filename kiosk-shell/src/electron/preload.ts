// The kiosk's preload: one raw transport exposed through contextBridge, nothing else. The
// renderer builds its typed API on it (rendererApi), exactly as over the web bridge.
import type { IpcOutcome, IpcTransport } from '@cert/common';
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { KIOSK_EVENT_CHANNEL, KIOSK_INVOKE_CHANNEL } from './ipc-names.ts';

/** The transport the renderer sees as `window.kioskBridge`. */
export const bridge: IpcTransport = {
  call: (channel, args) => ipcRenderer.invoke(KIOSK_INVOKE_CHANNEL, channel, args) as Promise<IpcOutcome<unknown>>,
  on: (event, listener) => {
    const forward = (_e: IpcRendererEvent, message: { event: string; payload: unknown }) => {
      if (message.event === event) listener(message.payload);
    };
    ipcRenderer.on(KIOSK_EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(KIOSK_EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('kioskBridge', bridge);
