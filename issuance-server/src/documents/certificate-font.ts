// The certificate font as a render worker holds it for its whole life: parsed once for its
// coverage and name, loaded into hb-subset once, and cut down to each document's characters.
import type { PDFDocument, PDFFont } from '@cantoo/pdf-lib';
import fontkit from '@pdf-lib/fontkit';
import { GlyphCoverage, isVariationSelector, readCoverage } from './glyph-coverage.ts';
import { HbSubsetter, compileHbSubset } from './hb-subset.ts';
import { pdfFontkit } from './pdf-fontkit.ts';

/** The font of every certificate: what it covers, and how a document embeds it. */
export interface CertificateFont {
  readonly coverage: GlyphCoverage;
  /** Embeds a subset of the font that covers `texts` (already checked against the coverage). */
  embed(doc: PDFDocument, texts: readonly string[]): Promise<PDFFont>;
}

// "ABCDEF+" marks a subset font (PDF 9.6.4); a fixed tag and no random suffix keep the bytes reproducible.
const SUBSET_TAG = 'CERTIF';

/** Opens the font for rendering: fontkit reads its coverage once, hb-subset (compiled `hbSubsetWasm`) keeps it for subsetting. */
export async function openCertificateFont(fontBytes: Uint8Array, hbSubsetWasm: WebAssembly.Module): Promise<CertificateFont> {
  const parsed = fontkit.create(fontBytes);
  const coverage = new GlyphCoverage(readCoverage(parsed));
  const customName = `${SUBSET_TAG}+${parsed.postscriptName ?? 'Font'}`;
  const hb = await HbSubsetter.open(hbSubsetWasm, fontBytes);
  return {
    coverage,
    embed(doc, texts) {
      const codePoints = new Set<number>();
      for (const text of texts) for (const ch of text) codePoints.add(ch.codePointAt(0)!);
      // Embedded whole, pdf-lib builds the ToUnicode map from the cmap alone, so a glyph reached only
      // through a variation sequence (an IVS name) would vanish from the extractable text. Such
      // documents let pdf-lib subset the small font once more, per drawn glyph: about twice the
      // time, for the few residents whose names need a variant.
      const perGlyph = [...codePoints].some(isVariationSelector);
      doc.registerFontkit(pdfFontkit);
      return doc.embedFont(hb.subset(codePoints), { subset: perGlyph, customName });
    },
  };
}

const opened = new WeakMap<Uint8Array, Promise<CertificateFont>>();

/** The font opened once per bytes object, for rendering on the calling thread. */
export function certificateFontFor(fontBytes: Uint8Array): Promise<CertificateFont> {
  let font = opened.get(fontBytes);
  if (!font) opened.set(fontBytes, (font = compileHbSubset().then((wasm) => openCertificateFont(fontBytes, wasm))));
  return font;
}
