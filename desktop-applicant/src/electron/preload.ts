// The preload (sandboxed, context-isolated): builds the one transport object the renderer gets
// and exposes it with contextBridge. No raw ipcRenderer and nothing else crosses the bridge.
import type { IpcOutcome, IpcTransport } from '@cert/common';
import { contextBridge, ipcRenderer } from 'electron';
import { APPLICANT_EVENT, APPLICANT_IPC } from './ipc-names.ts';

const listeners = new Map<string, Set<(payload: unknown) => void>>();
// One ipcRenderer listener for every event; renderer callbacks never see the IPC event object.
ipcRenderer.on(APPLICANT_EVENT, (_event, name: unknown, payload: unknown) => {
  if (typeof name === 'string') for (const l of listeners.get(name) ?? []) l(payload);
});

/** The transport the renderer builds its typed API on (`window.applicantBridge`). */
export const bridge: IpcTransport = {
  call: (channel, args) => ipcRenderer.invoke(APPLICANT_IPC, channel, args) as Promise<IpcOutcome<unknown>>,
  on: (event, listener) => {
    const set = listeners.get(event) ?? new Set();
    set.add(listener);
    listeners.set(event, set);
    return () => {
      set.delete(listener);
    };
  },
};

contextBridge.exposeInMainWorld('applicantBridge', bridge);
