import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../rig/server-process.ts';

/** The two Electron apps. */
export const APPS = ['desktop-applicant', 'kiosk-shell'] as const;
/** One of the two Electron apps. */
export type AppName = (typeof APPS)[number];

/** Where an app's built renderer lives (served by Electron's protocol and by the web host). */
export function rendererDir(app: AppName): string {
  return join(REPO_ROOT, app, 'dist', 'renderer');
}

/**
 * Builds one app: the renderer bundle (browser, ES2022, no Node) with its static files, and the
 * Electron main and preload bundles (CommonJS; the sandboxed preload cannot load ES modules).
 */
export async function buildApp(app: AppName, options: { electron?: boolean } = {}): Promise<void> {
  const root = join(REPO_ROOT, app);
  const out = join(root, 'dist');
  rmSync(join(out, 'renderer'), { recursive: true, force: true });
  mkdirSync(join(out, 'renderer'), { recursive: true });
  await build({
    entryPoints: [join(root, 'src/renderer/main.ts')],
    outfile: join(out, 'renderer/app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) cpSync(join(root, 'src/renderer', file), join(out, 'renderer', file));
  const assets = join(root, 'src/renderer/assets');
  if (existsSync(assets)) cpSync(assets, join(out, 'renderer/assets'), { recursive: true });
  if (!options.electron) return;
  const electronBuild = {
    outdir: join(out, 'electron'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    target: 'node20',
    logLevel: 'warning' as const,
  };
  await build({
    ...electronBuild,
    entryPoints: { main: join(root, 'src/electron/main.ts') },
    // Native modules and Electron itself load at run time from node_modules (unpacked from asar).
    external: ['electron', 'pcsclite', 'better-sqlite3'],
    // The cores are ES modules (createRequire(import.meta.url)); in a CommonJS bundle import.meta is empty.
    define: { 'import.meta.url': '__import_meta_url' },
    banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  });
  // The sandboxed preload runs in a wrapper without __filename: it gets no banner.
  await build({ ...electronBuild, entryPoints: { preload: join(root, 'src/electron/preload.ts') }, external: ['electron'] });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const electron = process.argv.includes('--electron');
  for (const app of APPS) await buildApp(app, { electron });
  console.log(`built ${APPS.join(', ')}${electron ? ' (renderer + Electron main/preload)' : ' (renderer)'}`);
}
