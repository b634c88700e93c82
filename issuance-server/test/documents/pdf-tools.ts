// Rendered PDFs checked the way a reader and a phone see them: poppler's text and raster, jsQR.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import jsQR from 'jsqr';

const run = promisify(execFile);

/** Text of a PDF file, or of one of its pages, as `pdftotext -layout` extracts it. */
export async function pdfText(path: string, page?: number): Promise<string> {
  const pages = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  return (await run('pdftotext', ['-layout', ...pages, path, '-'])).stdout;
}

/** The content of the QR code in the verification box (bottom of the page) of one page, or null. */
export async function pageQrCode(path: string, page = 1): Promise<string | null> {
  // 150 dpi gives ~5 px per module; only the bottom 400 px hold the verification box.
  const { stdout } = await run('pdftoppm', ['-r', '150', '-f', String(page), '-l', String(page), '-y', '1350', '-H', '404', '-W', '1240', path], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(stdout.subarray(0, 32).toString('latin1'));
  if (!header) throw new Error('pdftoppm did not write a binary PPM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  const rgb = stdout.subarray(header[0].length);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) rgba.set([rgb[j]!, rgb[j + 1]!, rgb[j + 2]!, 255], i * 4);
  return jsQR(rgba, width, height)?.data ?? null;
}
