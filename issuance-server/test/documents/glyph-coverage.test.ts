import assert from 'node:assert/strict';
import fontkit from '@pdf-lib/fontkit';
import { IPAMJ_FONT_PATH, loadFontBytes } from '../../src/documents/font-source.ts';
import { GlyphCoverage, readCoverage } from '../../src/documents/glyph-coverage.ts';

describe('documents/glyph-coverage', function () {
  this.timeout(60_000);
  let ipamj: GlyphCoverage;

  before(async () => {
    ipamj = new GlyphCoverage(readCoverage(fontkit.create(await loadFontBytes(IPAMJ_FONT_PATH))));
  });

  it('finds the plain characters a font lacks, each once, in order', () => {
    assert.deepEqual(ipamj.missingGlyphs(['山田 太郎', 'テスト市中央町二丁目3番4号 (2026-11-24)', '𠮷田 髙橋 邉']), []);
    assert.deepEqual(ipamj.missingGlyphs(['山田 \u{1F600}\u{1F69C}', '\u{1F600}']), [
      { char: '\u{1F600}', codePoint: 'U+1F600' },
      { char: '\u{1F69C}', codePoint: 'U+1F69C' },
    ]);
  });

  it('checks ideographic variation sequences against the cmap format 14 table', () => {
    // IPAmj maps 葛 with VS19–VS25 (U+E0102–E0108) but not with VS17 (U+E0100).
    assert.deepEqual(ipamj.missingGlyphs(['葛\u{E0102}城', '葛\u{E0108}']), []);
    assert.deepEqual(ipamj.missingGlyphs(['葛\u{E0100}城 葛\u{E0104}']), [{ char: '葛\u{E0100}', codePoint: 'U+845B U+E0100' }]);
    // A selector with nothing to select draws nothing meaningful.
    assert.deepEqual(ipamj.missingGlyphs(['\u{E0102}葛']), [{ char: '\u{E0102}', codePoint: 'U+E0102' }]);
  });
});
