/** The applicant core: everything but the Electron and web-mode adapters. */
export * from './core/applicant-api.ts';
export * from './core/applicant-socket-client.ts';
export * from './core/authentication-token.ts';
export * from './core/device-key.ts';
