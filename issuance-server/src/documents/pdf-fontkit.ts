// The fontkit handed to @cantoo/pdf-lib's registerFontkit: @pdf-lib/fontkit behind two small changes.
//
// 1. Speed. pdf-lib lays a text out once to measure it and again to encode it, and a certificate
//    repeats its labels on every row; a fontkit layout is the largest single cost of a render. A
//    font is parsed per document (from that document's subset), so its layouts are kept for its
//    life. pdf-lib only reads the glyph runs, so sharing them is safe.
// 2. Compatibility. @cantoo/pdf-lib 2.11 serialises a font subset with `subset.encode()` whenever
//    that is a function (the fontkit 2 / @cantoo/fontkit API, which returns the bytes) and only
//    otherwise falls back to `encodeStream()`. @pdf-lib/fontkit 1.1.1's Subset has an
//    `encode(stream)` too, but it is the internal writer that needs a restructure EncodeStream, so
//    every subset embed fails with "Cannot read properties of undefined (reading 'pos')". The subset
//    is therefore handed over with only the stream API visible.
import type { PDFDocument } from '@cantoo/pdf-lib';
import fontkit from '@pdf-lib/fontkit';

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];
type Font = ReturnType<typeof fontkit.create>;
type Subset = ReturnType<Font['createSubset']>;
type GlyphRun = ReturnType<Font['layout']>;

function streamOnly(subset: Subset): Subset {
  const cff: unknown = (subset as unknown as { cff?: unknown }).cff; // pdf-lib reads it to pick FontFile3
  return {
    includeGlyph: (glyph) => subset.includeGlyph(glyph),
    encodeStream: () => subset.encodeStream(),
    ...(cff === undefined ? {} : { cff }),
  } as Subset;
}

/** @pdf-lib/fontkit adapted to @cantoo/pdf-lib: layouts kept per font and text, subsets exposing only the stream API. */
export const pdfFontkit: Fontkit = {
  create(bytes: Uint8Array, postscriptName?: string) {
    const font = fontkit.create(bytes, postscriptName);
    const layout = font.layout.bind(font);
    const runs = new Map<string, GlyphRun>();
    font.layout = (text, features) => {
      // pdf-lib passes features only when a document asks for them; ours never do.
      if (features !== undefined) return layout(text, features);
      let run = runs.get(text);
      if (!run) runs.set(text, (run = layout(text)));
      return run;
    };
    const createSubset = font.createSubset.bind(font);
    font.createSubset = () => streamOnly(createSubset());
    return font as ReturnType<Fontkit['create']>;
  },
};
