// Which characters the certificate font can draw, checkable on the main thread without the font.
// A render worker reads the font's cmap once (plain code points, and the format 14 subtable for
// Ideographic Variation Sequences such as 葛󠄂 = U+845B U+E0102) and hands over two typed arrays;
// the server can then tell a resident at claim time that their name cannot be printed.
import type { Font } from '@pdf-lib/fontkit';

/** A character, or base + variation selector sequence, that the font cannot draw. */
export interface MissingGlyph {
  char: string;
  /** e.g. `U+20BB7`, or `U+845B U+E0100` for a variation sequence. */
  codePoint: string;
}

/** The font's coverage as transferable data: code points, and variation sequence keys. */
export interface CoverageData {
  codePoints: Uint32Array;
  /** `base * 256 + selector index` (see selectorIndex), which fits in 32 bits. */
  sequences: Uint32Array;
}

// fontkit decodes the cmap but does not type it; only what the variation sequences need.
interface Cmap14 {
  version: 14;
  varSelectors: {
    toArray(): {
      varSelector: number;
      defaultUVS: { startUnicodeValue: number; additionalCount: number }[] | null;
      nonDefaultUVS: { unicodeValue: number }[] | null;
    }[];
  };
}
type CmapTables = { tables: { table: { version: number } | Cmap14 }[] };

/** Whether a code point is a variation selector (VS1–VS256). */
export function isVariationSelector(codePoint: number): boolean {
  return selectorIndex(codePoint) >= 0;
}

/** 0–15 for VS1–VS16 (U+FE00–FE0F), 16–255 for VS17–VS256 (U+E0100–E01EF), -1 for anything else. */
function selectorIndex(codePoint: number): number {
  if (codePoint >= 0xfe00 && codePoint <= 0xfe0f) return codePoint - 0xfe00;
  if (codePoint >= 0xe0100 && codePoint <= 0xe01ef) return codePoint - 0xe0100 + 16;
  return -1;
}

/** The coverage of a parsed font; done in a worker, since the cmap of a 46 MB font takes a few hundred ms. */
export function readCoverage(font: Font): CoverageData {
  const keys: number[] = [];
  const cmap = (font as unknown as { cmap: CmapTables }).cmap;
  for (const { table } of cmap.tables) {
    if (table.version !== 14) continue;
    for (const record of (table as Cmap14).varSelectors.toArray()) {
      const selector = selectorIndex(record.varSelector);
      // A default UVS names sequences drawn with the base character's own glyph; they count as covered.
      for (const range of record.defaultUVS ?? []) {
        for (let cp = range.startUnicodeValue; cp <= range.startUnicodeValue + range.additionalCount; cp++) keys.push(cp * 256 + selector);
      }
      for (const mapping of record.nonDefaultUVS ?? []) keys.push(mapping.unicodeValue * 256 + selector);
    }
  }
  return { codePoints: Uint32Array.from(font.characterSet), sequences: Uint32Array.from(keys) };
}

function describe(codePoints: number[]): MissingGlyph {
  return {
    char: String.fromCodePoint(...codePoints),
    codePoint: codePoints.map((cp) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`).join(' '),
  };
}

/** What the certificate font can draw; answers on the main thread in microseconds. */
export class GlyphCoverage {
  readonly #codePoints: Set<number>;
  readonly #sequences: Set<number>;

  constructor(readonly data: CoverageData) {
    this.#codePoints = new Set(data.codePoints);
    this.#sequences = new Set(data.sequences);
  }

  /** Characters and variation sequences of `strings` that the font cannot draw, each once, in order of appearance. */
  missingGlyphs(strings: readonly string[]): MissingGlyph[] {
    const missing = new Map<string, MissingGlyph>();
    for (const text of strings) {
      const cps = Array.from(text, (ch) => ch.codePointAt(0)!);
      for (let i = 0; i < cps.length; i++) {
        const cp = cps[i]!;
        const selector = i + 1 < cps.length ? selectorIndex(cps[i + 1]!) : -1;
        let unit: number[];
        let covered: boolean;
        if (isVariationSelector(cp)) {
          // A selector with no base before it selects nothing: the font cannot draw it meaningfully.
          unit = [cp];
          covered = false;
        } else if (selector >= 0) {
          unit = [cp, cps[++i]!];
          covered = this.#sequences.has(cp * 256 + selector);
        } else {
          unit = [cp];
          covered = this.#codePoints.has(cp);
        }
        if (!covered) {
          const glyph = describe(unit);
          if (!missing.has(glyph.char)) missing.set(glyph.char, glyph);
        }
      }
    }
    return [...missing.values()];
  }
}
