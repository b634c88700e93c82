// Line breaking by character count, never by measured width: both passes of a render (document-pdf.ts)
// must draw the same strings, and the first one has no font. Widths are counted in ems, a CJK
// character being one; IPAmj's Latin letters are proportional and up to about one em wide, so
// they count as one too, and only digits, spaces and ASCII punctuation (at most 0.65 em) as less.
import { isVariationSelector } from './glyph-coverage.ts';

/** Characters that may not begin a line (行頭禁則): they stay at the end of the line before. */
const NO_LINE_START = new Set('、。，．）」』】〕・ー々ぁぃぅぇぉっゃゅょァィゥェォッャュョ');

/** Width in ems that a character may take at most, for counting. */
function ems(codePoint: number): number {
  if (isVariationSelector(codePoint)) return 0;
  if (codePoint < 0x80) return (codePoint | 0x20) >= 0x61 && (codePoint | 0x20) <= 0x7a ? 1 : 0.65;
  if (codePoint >= 0xff61 && codePoint <= 0xff9f) return 0.5; // half-width katakana
  return 1;
}

/** `text` broken into lines of at most `maxEms` ems and at its newlines (a 行頭禁則 character may hang past the limit); at least one line. */
export function wrapText(text: string, maxEms: number): string[] {
  const lines: string[] = [];
  let line = '';
  let width = 0;
  for (const ch of text) {
    if (ch === '\n') {
      lines.push(line);
      line = '';
      width = 0;
      continue;
    }
    const w = ems(ch.codePointAt(0)!);
    if (line !== '' && w > 0 && width + w > maxEms && !NO_LINE_START.has(ch)) {
      lines.push(line);
      line = '';
      width = 0;
    }
    line += ch;
    width += w;
  }
  lines.push(line);
  return lines;
}
