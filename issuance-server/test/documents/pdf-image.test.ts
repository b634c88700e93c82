import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certificateFontFor } from '../../src/documents/certificate-font.ts';
import { A4, renderPdf, type DocumentLayout } from '../../src/documents/document-pdf.ts';
import { loadFontBytes } from '../../src/documents/font-source.ts';
import { greyPng } from '../../src/documents/grey-png.ts';

const run = promisify(execFile);

/** One page with `png` drawn over its left half, and `text` over the image. */
function imagePage(png: Uint8Array, text: string): DocumentLayout {
  return {
    title: 'image',
    author: 'test',
    issuedAt: new Date(0),
    pageCount: 1,
    copies: 1,
    drawPage(canvas) {
      canvas.text(text, 40, 400, 40);
      canvas.image(png, 0, 0, A4[0] / 2, A4[1]);
    },
    drawCopyMark() {},
  };
}

/** The page rastered to 8-bit grey at `dpi`: width, height and one byte a pixel. */
async function greyRaster(path: string, dpi: number): Promise<{ width: number; height: number; pixels: Buffer }> {
  const { stdout } = await run('pdftoppm', ['-gray', '-r', String(dpi), path], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(stdout.subarray(0, 32).toString('latin1'))!;
  return { width: Number(header[1]), height: Number(header[2]), pixels: stdout.subarray(header[0].length) };
}

describe('documents/pdf-image', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => (dir = mkdtempSync(join(tmpdir(), 'pdf-image-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('embeds a 1-bit greyscale PNG as it is, printed as ink: black where inked, what lies beneath showing through the white', async () => {
    // Inked in the top half of its rows only.
    const png = greyPng(64, 64, 600, (_x, y) => y < 32);
    const path = join(dir, 'image.pdf');
    writeFileSync(path, await renderPdf(imagePage(png, '山山山山山山山山山山山山'), await certificateFontFor(await loadFontBytes())));
    const { stdout } = await run('pdfimages', ['-list', path]);
    assert.match(stdout, /^\s*1\s+0\s+image\s+64\s+64\s+gray\s+1\s+1\s/m, 'the PNG rows as a 1-bit grey image, not decoded to RGB');
    const { width, height, pixels } = await greyRaster(path, 20);
    const mean = (x0: number, x1: number, y0: number, y1: number) => {
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += pixels[y * width + x]!;
      return sum / ((x1 - x0) * (y1 - y0));
    };
    assert.ok(mean(2, width / 2 - 2, 2, height / 2 - 2) < 10, 'the inked half is black');
    assert.ok(mean(width / 2 + 2, width - 2, 2, height - 2) > 250, 'beside the image the page is white');
    // The text at y = 400 pt runs under the white half of the image and must still show there.
    const textRow = Math.round(((A4[1] - 400 - 10) / 72) * 20);
    assert.ok(mean(2, width / 2 - 2, textRow - 3, textRow + 3) < 240, 'the text under the white of the image is not covered');
  });
});
