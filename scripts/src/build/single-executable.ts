// Builds a single executable application (Node's SEA, as Node 20 has it): the main script is one
// CommonJS bundle (esbuild; ESM-only dependencies bundled in), further bundles (worker entries)
// and files are embedded as assets, `node --experimental-sea-config` makes the blob, and postject
// injects it into a copy of this very node binary behind Node's documented sentinel fuse.
// A manifest asset (issuance-server/src/runtime/single-executable.ts reads it) gives each asset's
// file name and SHA-256, so that the executable can unpack it into its private cache.
//
// The expensive part (copying ~100 MB and injecting) is skipped when nothing that goes into the
// executable has changed: the bundles, the files, this node binary and the blob's configuration
// are hashed into a key stored next to the output.
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, join } from 'node:path';
import { MANIFEST_ASSET, type AssetManifest } from 'issuance-server';

/** Node's sentinel fuse: the unflipped string in a node binary that supports single executables. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** A further entry point bundled on its own and embedded as `key` (e.g. a worker thread's code, `render-worker.cjs`). */
export interface BundleAsset {
  key: string;
  entry: string;
}

/** A file embedded as it is, unpacked under its own base name. */
export interface FileAsset {
  key: string;
  path: string;
}

/** What goes into one executable. */
export interface ExecutableSpec {
  /** The main script's entry point. */
  main: string;
  /** Where the executable is written; intermediate files go to `<output>.build/`. */
  output: string;
  bundles?: BundleAsset[];
  files?: FileAsset[];
}

/** What a build did. */
export interface ExecutableBuild {
  output: string;
  /** True when the executable of an identical earlier build was kept. */
  reused: boolean;
  bytes: number;
  ms: number;
}

// ws tries these optional native speed-ups inside try/catch. In the executable the attempt would
// print Node's warning that the main script's require() loads only built-in modules, so they
// become modules that fail exactly as an absent package does. The server imports esbuild only to
// build its phone app from source, which the executable embeds already built; node-postgres
// reaches for `pg-native` only when asked for its native client, which the server never is.
const ABSENT_OPTIONAL_MODULES = /^(bufferutil|utf-8-validate|esbuild|pg-native)$/;
const absentOptionalModules: Plugin = {
  name: 'absent-optional-modules',
  setup(b) {
    b.onResolve({ filter: ABSENT_OPTIONAL_MODULES }, (args) => ({ path: args.path, namespace: 'absent' }));
    b.onLoad({ filter: /.*/, namespace: 'absent' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

// - better-sqlite3 loads its addon (`nativeBinding`) through __non_webpack_require__ when a bundler
//   provides one; the require() of an executable's main script loads only built-in modules.
// - import.meta is empty in CommonJS: import.meta.url becomes the file the code runs from (the
//   executable itself, or an unpacked worker), so URLs computed from it at least do not throw.
const BANNER = [
  'var __non_webpack_require__ = require("node:module").createRequire(process.execPath);',
  'var __import_meta_url = require("node:url").pathToFileURL(__filename).href;',
].join('\n');

/** Bundles one entry point into a self-contained CommonJS file; fails on anything it would have to load from disk. */
async function bundle(entry: string, outfile: string): Promise<void> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    define: { 'import.meta.url': '__import_meta_url' },
    banner: { js: BANNER },
    plugins: [absentOptionalModules],
    metafile: true,
    logLevel: 'warning',
    // Any other use of import.meta (dirname, resolve) would silently be undefined in the executable.
    logOverride: { 'empty-import-meta': 'error' },
  });
  const external = Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external && !isBuiltin(i.path))
    .map((i) => i.path);
  if (external.length) throw new Error(`${entry}: the bundle would load ${[...new Set(external)].join(', ')} from disk, which the executable cannot`);
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function run(command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/** The node binary this build copies, checked for what a single executable needs. */
function nodeBinary(): Buffer {
  const variables = process.config.variables as unknown as Record<string, unknown>;
  if (variables.node_shared) throw new Error(`${process.execPath} uses a shared libnode; the executable would need it installed. Build with a statically linked node (nodejs.org, NodeSource)`);
  const binary = readFileSync(process.execPath);
  if (!binary.includes(`${SEA_FUSE}:0`)) throw new Error(`${process.execPath} (${process.version}) has no unflipped ${SEA_FUSE}: it cannot become a single executable`);
  return binary;
}

/** Builds the executable described by `spec` (or keeps the previous one when its inputs are unchanged). */
export async function buildExecutable(spec: ExecutableSpec): Promise<ExecutableBuild> {
  const started = Date.now();
  const keys = [...(spec.bundles ?? []), ...(spec.files ?? [])].map((a) => a.key);
  // A key names a file in the build folder and is looked up at run time: plain and unique.
  const bad = keys.find((k, i) => !/^[\w.-]+$/.test(k) || k === MANIFEST_ASSET || keys.indexOf(k) !== i);
  if (bad !== undefined) throw new Error(`asset key "${bad}" is not a unique plain file name`);
  const work = `${spec.output}.build`;
  mkdirSync(work, { recursive: true });
  const main = join(work, 'main.cjs');
  await bundle(spec.main, main);
  const embedded: { key: string; path: string; name: string }[] = [];
  for (const b of spec.bundles ?? []) {
    const path = join(work, `asset-${b.key}`);
    await bundle(b.entry, path);
    embedded.push({ key: b.key, path, name: b.key });
  }
  for (const f of spec.files ?? []) embedded.push({ key: f.key, path: f.path, name: basename(f.path) });
  const manifest: AssetManifest = {};
  for (const { key, path, name } of embedded) {
    const bytes = readFileSync(path);
    manifest[key] = { name, sha256: sha256(bytes), size: bytes.length };
  }
  const assets = Object.fromEntries(embedded.map((e) => [e.key, e.path]));
  writeFileSync(join(work, MANIFEST_ASSET), JSON.stringify(manifest, null, 2));
  assets[MANIFEST_ASSET] = join(work, MANIFEST_ASSET);
  const blob = join(work, 'sea.blob');
  const seaConfig = { main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));

  const binary = nodeBinary();
  const require = createRequire(import.meta.url);
  const postject = require.resolve('postject/dist/cli.js');
  const postjectVersion = (require('postject/package.json') as { version: string }).version;
  const key = sha256(
    JSON.stringify({
      node: [process.version, sha256(binary)],
      postject: postjectVersion,
      main: sha256(readFileSync(main)),
      manifest,
      seaConfig: { ...seaConfig, assets: Object.keys(assets) },
    }),
  );
  const keyFile = join(work, 'inputs.sha256');
  if (existsSync(spec.output) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) {
    return { output: spec.output, reused: true, bytes: statSync(spec.output).size, ms: Date.now() - started };
  }

  rmSync(keyFile, { force: true });
  run(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], work);
  const staging = join(work, 'executable');
  // Debug symbols are an eighth of the binary and of no use to an operator; the dynamic symbol
  // table native addons link against stays.
  run('strip', ['-o', staging, process.execPath], work);
  run(process.execPath, [postject, staging, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], work);
  chmodSync(staging, 0o755);
  renameSync(staging, spec.output);
  writeFileSync(keyFile, key);
  return { output: spec.output, reused: false, bytes: statSync(spec.output).size, ms: Date.now() - started };
}
