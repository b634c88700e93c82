// The two Electron IPC channel names of the applicant app: every call goes through one invoke
// channel (the call's name is its first argument), every event through one send channel.

/** ipcRenderer.invoke channel carrying (channel, args) to the main process. */
export const APPLICANT_IPC = 'applicant-ipc';
/** webContents.send channel carrying (event, payload) to the renderer. */
export const APPLICANT_EVENT = 'applicant-event';
