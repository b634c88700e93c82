/** The kiosk core: everything but the Electron and web-mode adapters. */
export * from './core/kiosk-api.ts';
export * from './core/ipp-printer.ts';
export * from './core/kiosk-session.ts';
export * from './core/print-journal.ts';
export * from './core/print-reconciler.ts';
