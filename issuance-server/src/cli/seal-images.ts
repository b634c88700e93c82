// Reads the seal impressions an import names, from a folder or a zip file, as the admin CLI and the demo seeding do.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import { AdminError } from '../services/admin-service.ts';

/** The PNG images of a folder or a zip file, by file name. */
export function readSealImages(path: string): Map<string, Uint8Array> {
  const images = new Map<string, Uint8Array>();
  try {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) if (name.toLowerCase().endsWith('.png')) images.set(name, readFileSync(join(path, name)));
    } else {
      for (const [name, bytes] of Object.entries(unzipSync(readFileSync(path)))) if (name.toLowerCase().endsWith('.png')) images.set(basename(name), bytes);
    }
  } catch (e) {
    throw new AdminError(`cannot read the images ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return images;
}
