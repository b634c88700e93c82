/** The kiosk core: everything but the Electron and web-mode adapters. */
export * from './core/kiosk-api.ts';
export * from './core/ipp-printer.ts';
export * from './core/kiosk-session.ts';
export * from './core/print-journal.ts';
export * from './core/print-reconciler.ts';
export * from './core/cctalk.ts';
export * from './core/cash-unit.ts';
export * from './core/cash-payment.ts';
export * from './core/payment-port.ts';
