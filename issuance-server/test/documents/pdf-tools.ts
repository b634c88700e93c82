// Rendered PDFs checked the way a reader and a phone see them (poppler's text and raster, jsQR),
// and the way a printer places them (pdf-lib reading the page content).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, PDFRef, decodePDFRawStream } from '@cantoo/pdf-lib';
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

/** An image drawn on a page: its size in pixels, and the box it fills in points. */
export interface PlacedImage {
  widthPx: number;
  heightPx: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The images drawn on page `page` (1-based), read from the `cm` matrix that precedes each image's `Do` in the page's content. */
export async function placedImages(pdf: Uint8Array, page = 1): Promise<PlacedImage[]> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const node = doc.getPage(page - 1).node;
  const rawStream = (object: unknown): PDFRawStream => {
    const found = object instanceof PDFRawStream ? object : doc.context.lookup(object as PDFRef);
    if (!(found instanceof PDFRawStream)) throw new Error('not a stream');
    return found;
  };
  const contents = node.Contents();
  const streams = contents instanceof PDFArray ? contents.asArray().map(rawStream) : [rawStream(contents)];
  const ops = streams.map((stream) => Buffer.from(decodePDFRawStream(stream).decode()).toString('latin1')).join('\n');
  const xObjects = node.Resources()!.lookup(PDFName.of('XObject'), PDFDict);
  const placed: PlacedImage[] = [];
  for (const [, a, , , d, e, f, name] of ops.matchAll(/(\S+) (\S+) (\S+) (\S+) (\S+) (\S+) cm\s+\/(\w+) Do/g)) {
    const image = rawStream(xObjects.get(PDFName.of(name!)));
    const px = (key: string) => image.dict.lookup(PDFName.of(key), PDFNumber).asNumber();
    placed.push({ widthPx: px('Width'), heightPx: px('Height'), x: Number(e), y: Number(f), width: Number(a), height: Number(d) });
  }
  return placed;
}
