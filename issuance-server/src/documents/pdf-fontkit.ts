// The fontkit handed to @cantoo/pdf-lib's registerFontkit: @pdf-lib/fontkit with subsets that
// pdf-lib can serialise. @cantoo/pdf-lib 2.11 serialises a font subset with `subset.encode()`
// whenever that is a function (the fontkit 2 / @cantoo/fontkit API, which returns the bytes) and
// only otherwise falls back to `encodeStream()`. @pdf-lib/fontkit 1.1.1's Subset has an
// `encode(stream)` too, but it is the internal writer that needs a restructure EncodeStream, so
// every subset embed fails with "Cannot read properties of undefined (reading 'pos')". The subset
// is therefore handed over with only the stream API visible.
import type { PDFDocument } from '@cantoo/pdf-lib';
import fontkit from '@pdf-lib/fontkit';

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];
type Font = ReturnType<typeof fontkit.create>;
type Subset = ReturnType<Font['createSubset']>;

function streamOnly(subset: Subset): Subset {
  const cff: unknown = (subset as unknown as { cff?: unknown }).cff; // pdf-lib reads it to pick FontFile3
  return {
    includeGlyph: (glyph) => subset.includeGlyph(glyph),
    encodeStream: () => subset.encodeStream(),
    ...(cff === undefined ? {} : { cff }),
  } as Subset;
}

/** @pdf-lib/fontkit adapted to @cantoo/pdf-lib: subsets expose only the stream API. */
export const pdfFontkit: Fontkit = {
  create(bytes: Uint8Array, postscriptName?: string) {
    const font = fontkit.create(bytes, postscriptName);
    const createSubset = font.createSubset.bind(font);
    font.createSubset = () => streamOnly(createSubset());
    return font as ReturnType<Fontkit['create']>;
  },
};
