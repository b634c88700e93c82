// A stand-in for the Electron distribution, for packaging tests on machines that cannot download
// Electron. electron-builder's `electronDist` accepts an unpacked Electron directory; for Linux it
// only insists on the `electron` executable (it renames it to the app's executable name and keeps
// LICENSE / LICENSES.chromium.html when present). The fuse step (@electron/fuses) needs the fuse
// sentinel and a fuse wire in that binary, so the stub carries one: fuses are then really flipped
// in the stub and can be read back with getCurrentFuseWire().
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @electron/fuses' sentinel, followed in the binary by the wire version, its length and one byte per fuse. */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/**
 * Electron's own defaults of the eight V1 fuses, '1' on / '0' off: RunAsNode on, cookie encryption
 * off, NODE_OPTIONS on, --inspect on, asar integrity off, only-asar off, browser V8 snapshot off,
 * file:// privileges on.
 */
export const DEFAULT_FUSE_WIRE = '10110001';

/** Writes a stub Linux Electron distribution into `dir` and returns `dir`. */
export function createStubElectronDist(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL, 'latin1'), Buffer.from([1, DEFAULT_FUSE_WIRE.length]), Buffer.from(DEFAULT_FUSE_WIRE, 'latin1')]);
  const script = Buffer.concat([
    Buffer.from('#!/bin/sh\n# Stub Electron for packaging tests (not a browser). Fuse wire: '),
    wire,
    Buffer.from('\necho "stub Electron: $0 $*"\n'),
  ]);
  const binary = join(dir, 'electron');
  writeFileSync(binary, script);
  chmodSync(binary, 0o755);
  writeFileSync(join(dir, 'LICENSE'), 'Stub Electron distribution for tests.\n');
  writeFileSync(join(dir, 'LICENSES.chromium.html'), '<!doctype html><title>stub</title>\n');
  return dir;
}
