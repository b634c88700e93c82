/** The kiosk core: everything but the Electron and web-mode adapters. */
export * from './core/kiosk-api.ts';
