// Web mode: the kiosk renderer served on 127.0.0.1 with the same API the Electron preload
// exposes (DESIGN.md, "Running the apps without Electron"). Used by the browser tests, the demo
// and the Chromium `--kiosk` deployment (see web-main.ts).
import { kioskChannels, kioskEvents } from '@cert/common';
import { startWebHost } from '@cert/common/node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KioskHostConfig } from './kiosk-config.ts';
import { createKioskHost, kioskIpcError, type KioskHostDeps } from './kiosk-host.ts';

/** Where `npm run build` puts the kiosk renderer. */
export const KIOSK_RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url));

/** Options of {@link startKioskWebHost}. */
export interface KioskWebHostOptions extends KioskHostConfig, KioskHostDeps {
  /** Listening port on 127.0.0.1 (default: any free port). */
  port?: number;
  /** The built renderer (default {@link KIOSK_RENDERER_DIR}). */
  staticDir?: string;
  log?: (line: string) => void;
}

/** A running web-mode kiosk. */
export interface KioskWebHost {
  /** Open this in Chromium; the launch token travels in the fragment. */
  url: string;
  /** Abandons a running issuance, then stops serving. */
  close(): Promise<void>;
}

/** Starts the kiosk core and serves its renderer on 127.0.0.1. */
export async function startKioskWebHost(options: KioskWebHostOptions): Promise<KioskWebHost> {
  const staticDir = options.staticDir ?? KIOSK_RENDERER_DIR;
  if (!existsSync(join(staticDir, 'index.html')) || !existsSync(join(staticDir, 'app.js'))) {
    throw new Error(`the kiosk renderer is not built (no index.html and app.js in ${staticDir}): run "npm run build" first`);
  }
  // `options.log` takes the journal's findings too.
  const host = await createKioskHost(options, options);
  let web: Awaited<ReturnType<typeof startWebHost>>;
  try {
    web = await startWebHost({
      channels: kioskChannels,
      events: kioskEvents,
      handlers: host.handlers,
      subscribe: host.subscribe,
      staticDir,
      toIpcError: kioskIpcError,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (e) {
    // The state directory stays free for the next try.
    await host.close();
    throw e;
  }
  return {
    url: web.url,
    async close() {
      await host.close();
      await web.close();
    },
  };
}
