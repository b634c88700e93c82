// The phone approval web app as files in memory: built from its sources with esbuild when the
// server runs from a checkout (once per process), or read from the single executable, whose build
// embeds the same files as one asset.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { embeddedAsset, SERVER_ASSETS } from './single-executable.ts';

/** File name (under /phone/) → contents. */
export type PhoneAppFiles = Map<string, Buffer>;

const SOURCE = new URL('../phone-app/', import.meta.url);
const STATIC_FILES = ['index.html', 'styles.css', 'manifest.webmanifest', 'icon.svg'];

/** Builds the app from its sources (app.js and sw.js bundled for browsers; the static files as they are). */
export async function bundlePhoneApp(): Promise<PhoneAppFiles> {
  // Only outside the executable (which embeds the built app): esbuild is a build tool.
  const { build } = await import('esbuild');
  const files: PhoneAppFiles = new Map();
  for (const [entry, out] of [
    ['main.ts', 'app.js'],
    ['sw.ts', 'sw.js'],
  ] as const) {
    const result = await build({
      entryPoints: [fileURLToPath(new URL(entry, SOURCE))],
      bundle: true,
      write: false,
      platform: 'browser',
      format: entry === 'main.ts' ? 'esm' : 'iife',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    files.set(out, Buffer.from(result.outputFiles[0]!.contents));
  }
  for (const name of STATIC_FILES) files.set(name, readFileSync(new URL(name, SOURCE)));
  return files;
}

/** The files as one JSON document (the executable's asset). */
export function serializePhoneApp(files: PhoneAppFiles): string {
  return JSON.stringify(Object.fromEntries([...files].map(([name, body]) => [name, body.toString('base64')])));
}

let loaded: Promise<PhoneAppFiles> | undefined;

/** The app's files: embedded in the executable, else built once per process. */
export function loadPhoneApp(): Promise<PhoneAppFiles> {
  loaded ??= (async () => {
    const embedded = embeddedAsset(SERVER_ASSETS.phoneApp);
    if (!embedded) return bundlePhoneApp();
    const json = JSON.parse(Buffer.from(embedded).toString('utf8')) as Record<string, string>;
    return new Map(Object.entries(json).map(([name, b64]) => [name, Buffer.from(b64, 'base64')]));
  })();
  return loaded;
}
