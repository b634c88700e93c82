// Inside the single executable (Node's single executable application, built by
// scripts/src/build/build-server.ts) there is no node_modules and no system font to rely on: what
// the code needs at run time is embedded as assets. This module tells whether the process is that
// executable and hands assets out as bytes, or as files unpacked into a private cache (a native
// addon can only be loaded from a file; workers and fonts are handed around by path).
//
// The cache is $XDG_CACHE_HOME/cert-issuance-server/<sha256>/<name> (~/.cache when XDG_CACHE_HOME is
// unset): the root is the user's own and kept at mode 0700, files are written to a temporary name
// and renamed into place, and a file is used only after its content hash matches the manifest, so a
// missing, truncated or altered copy is written again instead of loaded.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import * as sea from 'node:sea';

/** Key of the asset that lists every other asset; written by the build. */
export const MANIFEST_ASSET = 'assets.json';

/** Folder of the private cache inside $XDG_CACHE_HOME (or ~/.cache). */
export const CACHE_FOLDER = 'cert-issuance-server';

/** Keys of the assets the server executable embeds. */
export const SERVER_ASSETS = {
  /** better-sqlite3's addon (`nativeBinding`). */
  sqliteAddon: 'better_sqlite3.node',
  /** The certificate font used unless `serve --font` names another. */
  defaultFont: 'default-font',
  /** The render worker's code (documents/render-worker.ts bundled as CommonJS). */
  renderWorker: 'render-worker.cjs',
  /** HarfBuzz's subsetter as WebAssembly. */
  hbSubsetWasm: 'harfbuzz-subset.wasm',
  /** The phone approval web app's built files (runtime/phone-app-bundle.ts). */
  phoneApp: 'phone-app.json',
} as const;

/** One manifest entry: the file name the asset is unpacked as, and its content hash. */
export interface AssetEntry {
  name: string;
  sha256: string;
  size: number;
}

/** The manifest asset: asset key → entry. */
export type AssetManifest = Record<string, AssetEntry>;

let manifest: AssetManifest | undefined;
const unpacked = new Map<string, string>();

/** True when this process is the single executable; false under node or tsx. */
export function isSingleExecutable(): boolean {
  return sea.isSea();
}

function entry(key: string): AssetEntry {
  manifest ??= JSON.parse(sea.getAsset(MANIFEST_ASSET, 'utf8')) as AssetManifest;
  const found = manifest[key];
  if (!found) throw new Error(`this executable has no embedded asset "${key}" (add it to the build)`);
  return found;
}

/** A copy of an embedded asset's bytes (e.g. a worker's code, `Buffer.from(bytes).toString()`); undefined outside the single executable. */
export function embeddedAsset(key: string): Uint8Array | undefined {
  if (!sea.isSea()) return undefined;
  entry(key);
  return new Uint8Array(sea.getAsset(key));
}

/** The path of an embedded asset unpacked into the private cache (on first use per process); undefined outside the single executable. */
export function embeddedAssetFile(key: string): string | undefined {
  if (!sea.isSea()) return undefined;
  let path = unpacked.get(key);
  if (!path) {
    path = unpack(key, entry(key));
    unpacked.set(key, path);
  }
  return path;
}

function cacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  // The XDG base directory spec says to ignore a relative value.
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), CACHE_FOLDER);
}

function unpack(key: string, asset: AssetEntry): string {
  const root = cacheRoot();
  const dir = join(root, asset.sha256);
  const file = join(dir, asset.name);
  try {
    ensurePrivateDir(root);
    if (sha256OfFile(file) === asset.sha256) return file;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The raw asset is the executable's own read-only memory: written out without a copy.
    writeAtomically(file, new Uint8Array(sea.getRawAsset(key) as ArrayBuffer));
    return file;
  } catch (e) {
    throw new Error(`cannot unpack the embedded ${asset.name} into ${dir}: ${(e as Error).message} (XDG_CACHE_HOME must name a private, writable folder)`, { cause: e });
  }
}

/** Creates the folder (0700) or checks an existing one: a directory, ours, private (tightened if it is not). */
function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user`);
  if (st.mode & 0o077) chmodSync(dir, 0o700);
}

/** SHA-256 of a file in hex, or null when it does not exist. */
function sha256OfFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** Writes to a temporary name, syncs, renames into place: readers see the old file or the whole new one. */
function writeAtomically(file: string, bytes: Uint8Array): void {
  const temp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temp, file);
  const dirFd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
