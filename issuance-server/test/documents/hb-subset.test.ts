import assert from 'node:assert/strict';
import fontkit from '@pdf-lib/fontkit';
import { IPAMJ_FONT_PATH, loadFontBytes } from '../../src/documents/font-source.ts';
import { HbSubsetter, compileHbSubset } from '../../src/documents/hb-subset.ts';

// Lines as certificates set them: kana, kanji, full- and half-width digits and punctuation, Latin.
const LINES = [
  '住民票の写し(世帯全員)',
  'テスト県テスト市中央町二丁目3番4号',
  'やまだ たろう ヤマダ ハナコ 山田 太郎',
  '昭和60年4月12日 令和元年5月1日 (2026-11-24)',
  'この写しは、住民票の原本と相違ないことを証明する。',
  'https://cert.example.lg.jp/verify/K7QM-2XWD-9HFA-3TRC',
  '確認できるのは証明書の種類・発行日・文書のハッシュ値のみで、個人情報は表示されません。',
];

describe('documents/hb-subset', function () {
  this.timeout(60_000);

  it('cuts IPAmj Mincho down to the text, drawing and measuring it like the full font', async () => {
    const bytes = await loadFontBytes(IPAMJ_FONT_PATH);
    const hb = await HbSubsetter.open(await compileHbSubset(), bytes);
    const codePoints = new Set(LINES.flatMap((line) => Array.from(line, (ch) => ch.codePointAt(0)!)));
    const subsetBytes = hb.subset(codePoints);
    assert.ok(subsetBytes.byteLength < 60_000, `${subsetBytes.byteLength} bytes`);

    const full = fontkit.create(bytes);
    const subset = fontkit.create(subsetBytes);
    assert.equal(subset.numGlyphs, codePoints.size + 1, 'one glyph per character and .notdef');
    for (const line of LINES) {
      // The full font lays out with its GSUB/GPOS; the subset has none, and must come out the same.
      const a = full.layout(line);
      const b = subset.layout(line);
      assert.deepEqual(b.positions, a.positions, line);
      assert.deepEqual(
        b.glyphs.map((g) => g.path.toSVG()),
        a.glyphs.map((g) => g.path.toSVG()),
        line,
      );
    }
    // A second subset from the same preprocessed face gives the same bytes.
    assert.deepEqual(Buffer.from(hb.subset(codePoints)), Buffer.from(subsetBytes));
  });
});
