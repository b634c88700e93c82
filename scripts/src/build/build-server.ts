// `npm run build:server [-- --font FILE]`: the issuance server as one executable,
// dist/server/issuance-server-<platform>-<arch>, which runs `serve` and every `admin` command on a
// machine without Node. It embeds better-sqlite3's addon and the certificate font (by default the
// one DEFAULT_FONT_PATH names when the build runs), which it unpacks into a private cache.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundlePhoneApp, DEFAULT_FONT_PATH, serializePhoneApp, SERVER_ASSETS } from 'issuance-server';
import { REPO_ROOT } from '../rig/server-process.ts';
import { nativeModuleAbi } from './native-abi.ts';
import { buildExecutable, type ExecutableBuild } from './single-executable.ts';

/** Where the server executable is written. */
export const SERVER_EXECUTABLE = join(REPO_ROOT, 'dist/server', `issuance-server-${process.platform}-${process.arch}`);

/** Builds the server executable (reusing an identical previous build) with `font` as its default certificate font. */
export async function buildServerExecutable(font: string = DEFAULT_FONT_PATH): Promise<ExecutableBuild> {
  const require = createRequire(join(REPO_ROOT, 'issuance-server/package.json'));
  const addon = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');
  // An addon rebuilt in place for another runtime (Electron) would only fail once the executable opens a database.
  const abi = nativeModuleAbi(addon);
  if (abi !== Number(process.versions.modules)) throw new Error(`${addon} is built for ABI ${abi}, this node has ${process.versions.modules}: run npm rebuild better-sqlite3`);
  // The phone approval web app, built once here, is one asset the server serves from memory.
  const phoneApp = join(dirname(SERVER_EXECUTABLE), 'phone-app.json');
  mkdirSync(dirname(phoneApp), { recursive: true });
  writeFileSync(phoneApp, serializePhoneApp(await bundlePhoneApp()));
  // What the code finds at run time through embeddedAsset(key) and embeddedAssetFile(key)
  // (issuance-server/src/runtime/single-executable.ts): the render worker is a bundle of its own.
  return buildExecutable({
    main: join(REPO_ROOT, 'issuance-server/src/cli/main.ts'),
    output: SERVER_EXECUTABLE,
    bundles: [{ key: SERVER_ASSETS.renderWorker, entry: join(REPO_ROOT, 'issuance-server/src/documents/render-worker.ts') }],
    files: [
      { key: SERVER_ASSETS.sqliteAddon, path: addon },
      { key: SERVER_ASSETS.defaultFont, path: font },
      { key: SERVER_ASSETS.hbSubsetWasm, path: require.resolve('harfbuzzjs/dist/harfbuzz-subset.wasm') },
      { key: SERVER_ASSETS.phoneApp, path: phoneApp },
    ],
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { font: { type: 'string' } } });
  const r = await buildServerExecutable(values.font);
  const mb = (r.bytes / 1024 / 1024).toFixed(1);
  console.log(`${r.reused ? 'unchanged' : 'built'}: ${r.output} (${mb} MB, ${(r.ms / 1000).toFixed(1)} s)`);
}
