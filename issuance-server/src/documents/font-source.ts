// The certificate font file (46 MB for IPAmj Mincho): read afresh by each render worker, which keeps it only in
// hb-subset's memory, or once per path for rendering on the calling thread.
import { readFile } from 'node:fs/promises';

/** IPAmj Mincho as installed by Debian's fonts-ipamj-mincho (IPA Font License: redistributable): 46 MB, with 𠮷 and the 文字情報基盤 IVS variants. */
export const IPAMJ_FONT_PATH = '/usr/share/fonts/truetype/ipamj/ipamjm.ttf';

/** The certificate font unless configured otherwise: IPAmj Mincho, since residents' names need 𠮷, 髙, 邉 and IVS variants that IPAex lacks. */
export const DEFAULT_FONT_PATH = IPAMJ_FONT_PATH;

/** The font file's bytes, not cached; fails with the path and the package to install. */
export async function readFontBytes(path: string = DEFAULT_FONT_PATH): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const hint =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'install the Debian package that ships it (apt-get install fonts-ipamj-mincho for IPAmj Mincho) or configure another TrueType font path'
        : (err as Error).message;
    throw new Error(`certificate font not readable at ${path}: ${hint}`, { cause: err });
  }
}

const cache = new Map<string, Promise<Uint8Array>>();

/** The font file's bytes, read on first use and cached per path. */
export function loadFontBytes(path: string = DEFAULT_FONT_PATH): Promise<Uint8Array> {
  let pending = cache.get(path);
  if (!pending) {
    // Forget a failure so that installing the font fixes a running server without a restart.
    pending = readFontBytes(path).catch((err: unknown) => {
      cache.delete(path);
      throw err;
    });
    cache.set(path, pending);
  }
  return pending;
}
