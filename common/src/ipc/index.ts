/** Typed IPC contracts of the two apps (Electron preload and web-mode bridge share them). */
export * from './ipc-contract.ts';
export * from './applicant-ipc.ts';
export * from './kiosk-ipc.ts';
