// Electron entry of the kiosk shell (bundled to dist/electron/main.cjs). Everything testable
// lives in kiosk-app.ts and takes the electron module as a parameter.
import * as electron from 'electron';
import { join } from 'node:path';
import { startKioskApp } from './kiosk-app.ts';

const kiosk = startKioskApp(electron, {
  rendererDir: join(__dirname, '..', 'renderer'),
  preloadPath: join(__dirname, 'preload.cjs'),
  env: process.env,
  log: (line) => process.stderr.write(`[${new Date().toISOString()}] kiosk-shell: ${line}\n`),
});
// systemd stops the appliance with SIGTERM: abandon a running issuance, then quit.
process.once('SIGTERM', () => void kiosk.exit());
