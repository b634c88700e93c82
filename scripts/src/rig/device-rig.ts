import { createLogger, defaultServerConfig, startServer, type ServerConfig } from 'issuance-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo, type SeededDemo } from '../demo/seed-demo.ts';
import { ensureTestPki, type PkiCredential, type TestPkiManifest } from '../pki/test-pki.ts';
import { cardArgsFromPki, startCardProcess, type CardProcess } from '../virtual-card/card-process.ts';
import { personaFromPki } from '../virtual-card/persona.ts';
import { VirtualMyNumberCard } from '../virtual-card/virtual-mynumber-card.ts';
import { leaseReaderSlots, type ReaderSlot, type ReaderSlotLease } from './pcscd-rig.ts';
import { startServerProcess } from './server-process.ts';
import { sharedRenderPool } from './shared-render-pool.ts';
import { startVirtualPrinter, type VirtualPrinter } from './virtual-printer.ts';

/** How to start the rig. */
export interface DeviceRigOptions {
  /** Reader slots to lease from the rig's pcscd (default 2). */
  slots?: number;
  /** Run the server as its CLI process (the demo) instead of in-process (tests, which tune timeouts). */
  serverProcess?: boolean;
  /** In-process server settings. */
  serverConfig?: Partial<ServerConfig>;
}

/** A card to insert: a resident's own, or another credential in that resident's name. */
export interface CardSpec {
  residentId: string;
  slot?: number;
  pin?: string;
  smartphone?: boolean;
  authCredential?: PkiCredential;
}

/** The machine the demo and the end-to-end tests run on: pcscd + vpcd, ippeveprinter, the server. */
export interface DeviceRig {
  pki: TestPkiManifest;
  serverUrl: string;
  kiosks: SeededDemo['kiosks'];
  /** The demo resident-records system's credential for `POST /api/v1/admin/records`. */
  recordsCredential: string;
  slots: ReaderSlot[];
  printer: VirtualPrinter;
  work: string;
  /** Inserts a virtual card in-process (tests: remove it at will, read its APDU log). */
  insertCard(spec: CardSpec): Promise<VirtualMyNumberCard>;
  /** Inserts a virtual card as the `virtual-mynumber-card` CLI process (the demo). */
  insertCardProcess(residentId: string, slot?: number): Promise<CardProcess>;
  close(): Promise<void>;
}

/** Starts everything; on failure, stops what it had started. */
export async function startDeviceRig(options: DeviceRigOptions = {}): Promise<DeviceRig> {
  const pki = await ensureTestPki();
  const work = mkdtempSync(join(tmpdir(), 'cert-device-rig-'));
  const stops: (() => Promise<unknown>)[] = [async () => rmSync(work, { recursive: true, force: true })];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const dataDir = join(work, 'server');
    const seeded = await seedDemo(dataDir, pki);
    let serverUrl: string;
    if (options.serverProcess) {
      const server = await startServerProcess(['--data-dir', dataDir]);
      stops.push(server.stop);
      serverUrl = server.url;
    } else {
      const config = { ...defaultServerConfig(dataDir), port: 0, logLevel: 'error', kioskRateLimit: { burst: 1000, perMinute: 1000 }, ...options.serverConfig };
      const server = await startServer(config, createLogger(config.logLevel), { renderer: await sharedRenderPool() });
      stops.push(server.close);
      serverUrl = server.url;
    }
    const lease: ReaderSlotLease = await leaseReaderSlots(options.slots ?? 2);
    stops.push(lease.release);
    const printer = await startVirtualPrinter();
    stops.push(printer.stop);
    const cards: { remove(): Promise<unknown> }[] = [];
    stops.push(async () => {
      for (const c of cards) await c.remove().catch(() => undefined);
    });
    const slotPort = (slot = 0) => {
      const s = lease.slots[slot];
      if (!s) throw new Error(`the rig has ${lease.slots.length} reader slots; slot ${slot} does not exist`);
      return s.vpcdPort;
    };
    return {
      pki,
      serverUrl,
      kiosks: seeded.kiosks,
      recordsCredential: seeded.recordsCredential,
      slots: lease.slots,
      printer,
      work,
      async insertCard(spec) {
        const persona = personaFromPki(pki, spec.residentId, {
          ...(spec.pin ? { pin: spec.pin } : {}),
          ...(spec.authCredential ? { authCredential: spec.authCredential } : {}),
        });
        const card = new VirtualMyNumberCard(persona, { ...(spec.smartphone ? { smartphone: true } : {}) });
        await card.insert(slotPort(spec.slot));
        cards.push(card);
        return card;
      },
      async insertCardProcess(residentId, slot) {
        const proc = await startCardProcess(slotPort(slot), cardArgsFromPki(pki, residentId));
        cards.push({ remove: proc.stop });
        return proc;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
