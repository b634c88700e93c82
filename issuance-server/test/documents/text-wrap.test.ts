import assert from 'node:assert/strict';
import { wrapText } from '../../src/documents/text-wrap.ts';

describe('documents/text-wrap', () => {
  it('breaks by counted ems: a CJK character or Latin letter is one, a digit less', () => {
    assert.deepEqual(wrapText('東京都千代田区平河町一丁目10番地', 8), ['東京都千代田区平', '河町一丁目10番', '地']);
    assert.deepEqual(wrapText('SMITH JOHN', 5), ['SMITH', ' JOHN']);
    assert.deepEqual(wrapText('', 5), ['']);
  });

  it('keeps a variation selector with its base, and 、。」 off the start of a line', () => {
    assert.deepEqual(wrapText('葛\u{E0104}城葛\u{E0104}城', 3), ['葛\u{E0104}城葛\u{E0104}', '城']);
    assert.deepEqual(wrapText('届出人は父。以下同じ', 5), ['届出人は父。', '以下同じ']);
  });

  it('breaks at newlines too', () => {
    assert.deepEqual(wrapText('旧氏併記\n通称併記', 10), ['旧氏併記', '通称併記']);
  });
});
