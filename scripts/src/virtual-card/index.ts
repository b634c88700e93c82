/**
 * Virtual My Number card (JPKI AP) for tests and the demo: an APDU handler plus a vpcd reader-slot client.
 *
 * In-process (tests):
 *   const lease = await leaseReaderSlots(1);                      // scripts/src/rig/pcscd-rig.ts: pcscd + vpcd slots
 *   const card = new VirtualMyNumberCard(personaFromPki(await ensureTestPki(), 'R0001'), { stateFile });
 *   await card.insert(lease.slots[0].vpcdPort);                   // PC/SC sees lease.slots[0].readerName ~0.45 s later
 *   … card.state, card.apduLog, card.card.setTriesLeft('auth', 1) …
 *   await card.remove(); await lease.release();
 *
 * Without vpcd (unit tests): card.powerOn(); card.transmit(apduBytes) / card.transmitHex('00A4…').
 *
 * As a process: startCardProcess(port, cardArgsFromPki(manifest, 'R0001')) runs `npx virtual-mynumber-card`.
 */
export * from './jpki-card.ts';
export * from './persona.ts';
export * from './card-state.ts';
export * from './virtual-mynumber-card.ts';
export * from './card-process.ts';
