/** Node-only helpers (HTTP client); never imported by renderer code. */
export * from './http-json-client.ts';
