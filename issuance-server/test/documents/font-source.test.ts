import assert from 'node:assert/strict';
import { DEFAULT_FONT_PATH, IPAMJ_FONT_PATH, loadFontBytes } from '../../src/documents/font-source.ts';

describe('documents/font-source', () => {
  it('reads the default font, IPAmj Mincho, once and hands back the same bytes', async () => {
    const a = await loadFontBytes();
    const b = await loadFontBytes(IPAMJ_FONT_PATH);
    assert.equal(DEFAULT_FONT_PATH, IPAMJ_FONT_PATH);
    assert.ok(a.byteLength > 40_000_000);
    assert.equal(a, b);
  });

  it('names the path and the Debian package when the font is missing', async () => {
    const path = '/nonexistent/fonts/ipamjm.ttf';
    await assert.rejects(loadFontBytes(path), (err: Error) => {
      assert.match(err.message, /\/nonexistent\/fonts\/ipamjm\.ttf/);
      assert.match(err.message, /fonts-ipamj-mincho/);
      return true;
    });
  });
});
