// The certificate font. Read once per path: the file is 8–46 MB and every render needs it.
import { readFile } from 'node:fs/promises';

/** IPAex Mincho as installed by Debian's fonts-ipaexfont (IPA Font License: redistributable). */
export const DEFAULT_FONT_PATH = '/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf';

/** IPAmj Mincho as installed by Debian's fonts-ipamj-mincho: 46 MB, with 𠮷 and the 文字情報基盤 IVS variants. */
export const IPAMJ_FONT_PATH = '/usr/share/fonts/truetype/ipamj/ipamjm.ttf';

const cache = new Map<string, Promise<Uint8Array>>();

/** The font file's bytes, read on first use and cached per path; fails with the path and the package to install. */
export function loadFontBytes(path: string = DEFAULT_FONT_PATH): Promise<Uint8Array> {
  let pending = cache.get(path);
  if (!pending) {
    pending = readFile(path).then(
      (buf) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
      (err: NodeJS.ErrnoException) => {
        // Forget the failure so that installing the font fixes a running server without a restart.
        cache.delete(path);
        const hint =
          err.code === 'ENOENT'
            ? 'install the Debian package that ships it (apt-get install fonts-ipaexfont for IPAex Mincho, fonts-ipamj-mincho for IPAmj Mincho) or configure another TrueType font path'
            : err.message;
        throw new Error(`certificate font not readable at ${path}: ${hint}`, { cause: err });
      },
    );
    cache.set(path, pending);
  }
  return pending;
}
