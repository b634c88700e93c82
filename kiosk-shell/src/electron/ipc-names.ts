/** Electron IPC channel of every kiosk call (the kiosk channel name travels as the first argument). */
export const KIOSK_INVOKE_CHANNEL = 'kiosk-ipc';
/** Electron IPC channel of every kiosk event pushed main → renderer (`{event, payload}`). */
export const KIOSK_EVENT_CHANNEL = 'kiosk-event';
