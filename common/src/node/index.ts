/** Node-only helpers (HTTP client); never imported by renderer code. */
export * from './http-json-client.ts';
export * from './server-nodes.ts';
export * from './ipc-dispatch.ts';
export * from './web-host.ts';
export * from './renderer-security.ts';
