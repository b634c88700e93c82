// Test rig for the kiosk: a real issuance server in-process (temp data dir, demo seed, the test
// catalogue), a logged-in applicant whose device answers print confirmations as each test decides.
import type { Application, ApplicationStatus, PrintConfirmationRequest } from '@cert/common';
import type { ServerEndpoint } from '@cert/common/node';
import { seedDemo, type SeededDemo } from '@cert/scripts/demo';
import { ensureTestPki } from '@cert/scripts/pki';
import { sharedRenderPool, softwareToken } from '@cert/scripts/rig';
import { ApplicantApi, ApplicantSocketClient, DeviceKey } from 'desktop-applicant';
import { createLogger, defaultServerConfig, startServer, type RunningServer, type ServerConfig } from 'issuance-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTestCatalog } from './municipal-records.ts';


/** What the applicant's device does with a print confirmation request. */
export type Answer = 'approve' | 'decline' | 'ignore';

/**
 * A running server with a seeded municipality, every certificate type on offer (the test
 * catalogue: round the clock, so that tests pass at any hour, but for one type) and one
 * logged-in applicant (R0001, 山田 太郎).
 */
export interface IssuanceRig {
  server: RunningServer;
  /** The server's data directory (for the admin CLI). */
  dataDir: string;
  endpoint: ServerEndpoint;
  kiosks: SeededDemo['kiosks'];
  applicant: ApplicantApi;
  socket: ApplicantSocketClient;
  /** Decides each confirmation request (default: approve). */
  answer: (req: PrintConfirmationRequest) => Answer;
  /** Requests the device has seen. */
  requests: PrintConfirmationRequest[];
  /** A fresh 住民票の写し application (1 copy, household). */
  apply(): Promise<Application>;
  /** The application's status as the applicant sees it. */
  applicationStatus(applicationId: string): Promise<ApplicationStatus>;
  close(): Promise<void>;
}

/** Starts the server with `overrides` (port 0, quiet logs, generous kiosk rate limit) and logs R0001 in. */
export async function startIssuanceRig(overrides: Partial<ServerConfig> = {}): Promise<IssuanceRig> {
  const pki = await ensureTestPki();
  const work = mkdtempSync(join(tmpdir(), 'kiosk-rig-'));
  const dataDir = join(work, 'server');
  const seeded = await seedDemo(dataDir, pki);
  const config: ServerConfig = {
    ...defaultServerConfig(dataDir),
    port: 0,
    logLevel: 'error',
    // Tests claim many receipts from one kiosk in a minute; the limiter is tested server-side.
    kioskRateLimit: { burst: 1000, perMinute: 1000 },
    ...overrides,
  };
  const server = await startServer(config, createLogger(config.logLevel), { renderer: await sharedRenderPool() });
  const endpoint: ServerEndpoint = { baseUrl: server.url };
  const resident = pki.residents['R0001'];
  if (!resident) throw new Error('the test PKI has no R0001');
  const device = DeviceKey.loadOrCreate(join(work, 'applicant', 'device-key.der'));
  const applicant = new ApplicantApi(endpoint);
  const socket = new ApplicantSocketClient(endpoint, device, { baseDelayMs: 100, maxDelayMs: 1000 });
  const rig: IssuanceRig = {
    server,
    dataDir,
    endpoint,
    kiosks: seeded.kiosks,
    applicant,
    socket,
    answer: () => 'approve',
    requests: [],
    apply: () => applicant.apply({ certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 }),
    async applicationStatus(id) {
      const app = (await applicant.list()).find((a) => a.applicationId === id);
      if (!app) throw new Error(`no application ${id}`);
      return app.status;
    },
    async close() {
      socket.stop();
      await server.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
  try {
    await loadTestCatalog({ server });
    await applicant.login(softwareToken(resident.auth), device);
    socket.on('confirmation-request', (req) => {
      rig.requests.push(req);
      const a = rig.answer(req);
      if (a !== 'ignore') socket.respond(req.requestId, a === 'approve');
    });
    socket.start();
    await socket.whenAuthenticated();
  } catch (e) {
    await rig.close();
    throw e;
  }
  return rig;
}
