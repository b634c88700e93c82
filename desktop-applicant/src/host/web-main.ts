// Web mode (DESIGN.md): the applicant core in a local Node process that serves the renderer on
// 127.0.0.1 to any browser, with the same API the Electron preload exposes.
//   npx tsx desktop-applicant/src/host/web-main.ts [--data-dir D] [--port P] [--server-url URL …]
// (--server-url again for each further node of a server run on several: README, "Two or more nodes")
import { applicantChannels, applicantEvents } from '@cert/common';
import { startWebHost } from '@cert/common/node';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApplicantCore } from '../core/applicant-core.ts';
import { applicantHandlers, forwardCoreEvents, loggedErrorMapper } from './applicant-handlers.ts';

/** How to start the web-mode host. */
export interface ApplicantWebHostOptions {
  dataDir: string;
  /** Loopback port (default: any free port). */
  port?: number;
  /** Connects to this server before serving (as if the resident had typed it). */
  serverUrl?: string;
  /** The server's other nodes, in failover order. */
  fallbackServerUrls?: string[];
  log?: (msg: string) => void;
}

/** A running web-mode applicant app. */
export interface ApplicantWebHost {
  /** Open this in a browser (carries the per-launch token in its fragment). */
  url: string;
  core: ApplicantCore;
  close(): Promise<void>;
}

/** Where `npm run build` puts the renderer. */
export const APPLICANT_RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url));

/** The built renderer's folder; a clear error when `npm run build` has not run. */
export function builtRendererDir(): string {
  if (!existsSync(join(APPLICANT_RENDERER_DIR, 'index.html')) || !existsSync(join(APPLICANT_RENDERER_DIR, 'app.js'))) {
    throw new Error(`the applicant renderer is not built (no index.html and app.js in ${APPLICANT_RENDERER_DIR}): run "npm run build" first`);
  }
  return APPLICANT_RENDERER_DIR;
}

/** Starts the core and serves the renderer on 127.0.0.1; `close` stops both. */
export async function startApplicantWebHost(options: ApplicantWebHostOptions): Promise<ApplicantWebHost> {
  const staticDir = builtRendererDir();
  const log = options.log ?? (() => {});
  const core = new ApplicantCore({ dataDir: options.dataDir });
  core.start();
  try {
    if (options.serverUrl) await core.connect(options.serverUrl, options.fallbackServerUrls);
    const host = await startWebHost({
      channels: applicantChannels,
      events: applicantEvents,
      handlers: applicantHandlers(core),
      subscribe: (emit) => forwardCoreEvents(core, emit),
      staticDir,
      toIpcError: loggedErrorMapper(log),
      log,
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
    return {
      url: host.url,
      core,
      close: async () => {
        await host.close();
        core.stop();
      },
    };
  } catch (e) {
    core.stop();
    throw e;
  }
}

/** Where the web-mode app keeps its data unless told otherwise (XDG data directory). */
export function defaultDataDir(): string {
  return join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'cert-applicant');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'server-url': { type: 'string', multiple: true } },
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port must be a port number, not ${values.port}`);
  const host = await startApplicantWebHost({
    dataDir: values['data-dir'] ?? defaultDataDir(),
    ...(port !== undefined ? { port } : {}),
    ...(values['server-url']?.length ? { serverUrl: values['server-url'][0]!, fallbackServerUrls: values['server-url'].slice(1) } : {}),
    log: (msg) => process.stderr.write(`${msg}\n`),
  });
  process.stdout.write(`applicant UI: ${host.url}\n`);
  const stop = () => void host.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    process.stderr.write(`applicant web host: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
