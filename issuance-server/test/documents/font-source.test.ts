import assert from 'node:assert/strict';
import { DEFAULT_FONT_PATH, loadFontBytes } from '../../src/documents/font-source.ts';

describe('documents/font-source', () => {
  it('reads the default font once and hands back the same bytes', async () => {
    const a = await loadFontBytes();
    const b = await loadFontBytes(DEFAULT_FONT_PATH);
    assert.ok(a.byteLength > 1_000_000);
    assert.equal(a, b);
  });

  it('names the path and the Debian package when the font is missing', async () => {
    const path = '/nonexistent/fonts/ipaexm.ttf';
    await assert.rejects(loadFontBytes(path), (err: Error) => {
      assert.match(err.message, /\/nonexistent\/fonts\/ipaexm\.ttf/);
      assert.match(err.message, /fonts-ipaexfont/);
      return true;
    });
  });
});
