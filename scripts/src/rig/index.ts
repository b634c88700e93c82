/** The device rig for tests and the demo: pcscd/vpcd slots, ippeveprinter, the virtual cash unit, PostgreSQL clusters, server process, software token, event waits. */
export * from './device-rig.ts';
export * from './free-port.ts';
export * from './pcscd-rig.ts';
export * from './postgres-rig.ts';
export * from './server-process.ts';
export * from './software-token.ts';
export * from './until-event.ts';
export * from './virtual-printer.ts';
export * from './shared-render-pool.ts';
export * from './virtual-cash-unit.ts';
