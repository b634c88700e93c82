/** The applicant core: everything but the Electron and web-mode adapters. */
export * from './core/applicant-api.ts';
export * from './core/applicant-socket-client.ts';
export * from './core/authentication-token.ts';
export * from './core/device-key.ts';
export * from './core/card/card-errors.ts';
export * from './core/card/card-service.ts';
export * from './core/card/jpki-session.ts';
export * from './core/card/pcsc-monitor.ts';
export * from './core/applicant-core.ts';
export * from './core/receipt-store.ts';
