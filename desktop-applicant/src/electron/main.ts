// Electron main entry (bundled to dist/electron/main.cjs); everything else is in app-main.ts.
import * as electron from 'electron';
import { join } from 'node:path';
import { runApplicantApp } from './app-main.ts';

runApplicantApp(electron, { rendererDir: join(__dirname, '..', 'renderer'), preloadPath: join(__dirname, 'preload.cjs') }).catch((e: unknown) => {
  console.error(e);
  electron.app.exit(1);
});
