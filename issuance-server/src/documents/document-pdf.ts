// Turns a document layout into PDF bytes. A layout draws on a Canvas twice: first on one that only
// collects the text, so that the font can be checked and cut down to exactly those characters
// before anything is embedded, then on the real pages. The text never depends on measured widths
// (only positions and sizes do), so both passes draw the same strings.
import {
  PDFDocument,
  PageSizes,
  concatTransformationMatrix,
  fill,
  grayscale,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  setFillingGrayscaleColor,
  type Color,
  type PDFFont,
  type PDFPage,
} from '@cantoo/pdf-lib';
import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import type { CertificateFont } from './certificate-font.ts';
import { DocumentError } from './document-error.ts';

/** A4 portrait in PDF points: every certificate is printed on plain A4. */
export const A4 = PageSizes.A4 as [number, number];

/** How a line of text is placed. */
export interface TextOptions {
  /** Shrinks the text to this width instead of letting it overflow. */
  maxWidth?: number;
  /** Which end of the text `x` is (left by default). */
  align?: 'left' | 'center' | 'right';
  color?: Color;
}

/** A rectangle in PDF points (y grows upwards), filled and/or outlined. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  color?: Color;
  borderColor?: Color;
  borderWidth?: number;
}

/** What a document layout draws on. */
export interface Canvas {
  /** Width of `text` at `size`; 0 while only collecting text. */
  width(text: string, size: number): number;
  text(text: string, x: number, baseline: number, size: number, options?: TextOptions): void;
  rect(box: Box): void;
  /** A QR code of `data` filling the square at (x, y) with side `size`, quiet zone included. */
  qr(data: string, x: number, y: number, size: number): void;
}

/** A document: its metadata and a layout that draws each page. */
export interface DocumentLayout {
  title: string;
  author: string;
  /** Stamped as both creation and modification date, so that the same input gives the same bytes. */
  issuedAt: Date;
  pageCount: number;
  drawPage(canvas: Canvas, pageIndex: number): void;
}

const INK = grayscale(0);

function collectingCanvas(texts: string[]): Canvas {
  return {
    width: () => 0,
    text: (text) => void texts.push(text),
    rect: () => {},
    qr: () => {},
  };
}

// One path of row runs filled once: vector modules stay sharp at any printer resolution, adjacent
// modules merge without seams, and nothing is PNG-encoded and decoded again per document. The
// matrix makes one module one unit (rows going down), so the runs are small integers.
function drawQr(page: PDFPage, data: string, x: number, y: number, size: number): void {
  const { modules } = QRCode.create(data, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const unit = size / (n + 2); // one module of quiet zone on each side; the box around adds the rest
  const ops = [pushGraphicsState(), concatTransformationMatrix(unit, 0, 0, -unit, x + unit, y + size - unit), setFillingGrayscaleColor(0)];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; ) {
      if (!modules.data[row * n + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.data[row * n + col]) col++;
      ops.push(rectangle(start, row, col - start, 1));
    }
  }
  ops.push(fill(), popGraphicsState());
  page.pushOperators(...ops);
}

function paintingCanvas(page: PDFPage, font: PDFFont): Canvas {
  return {
    width: (text, size) => font.widthOfTextAtSize(text, size),
    text(text, x, baseline, size, options = {}) {
      if (text === '') return;
      let width = font.widthOfTextAtSize(text, size);
      if (options.maxWidth !== undefined && width > options.maxWidth) {
        size = (size * options.maxWidth) / width;
        width = options.maxWidth;
      }
      const dx = options.align === 'center' ? -width / 2 : options.align === 'right' ? -width : 0;
      page.drawText(text, { x: x + dx, y: baseline, size, color: options.color ?? INK });
    },
    rect: (box) => page.drawRectangle(box),
    qr: (data, x, y, size) => drawQr(page, data, x, y, size),
  };
}

/** Renders a layout with the certificate font; refuses (glyph_missing) text the font cannot draw, since a blank box in a name would be a false certificate. */
export async function renderPdf(layout: DocumentLayout, font: CertificateFont): Promise<Uint8Array> {
  const texts: string[] = [];
  const collector = collectingCanvas(texts);
  for (let i = 0; i < layout.pageCount; i++) layout.drawPage(collector, i);
  const missing = font.coverage.missingGlyphs(texts);
  if (missing.length > 0) {
    throw new DocumentError('glyph_missing', `the certificate font cannot draw ${missing.map((g) => `${g.char} (${g.codePoint})`).join(', ')}`, missing);
  }

  // No automatic metadata: pdf-lib would stamp "now", and the same input should give the same bytes.
  const doc = await PDFDocument.create({ updateMetadata: false });
  // pdf-lib deflates in JavaScript (fflate); node's zlib does the font, by far the largest stream, in a third of the time.
  doc.context.flateStream = (contents, dict = {}) =>
    doc.context.stream(deflateSync(typeof contents === 'string' ? Buffer.from(contents, 'latin1') : contents), { ...dict, Filter: 'FlateDecode' });
  const pdfFont = await font.embed(doc, texts);
  doc.setTitle(layout.title);
  doc.setAuthor(layout.author);
  doc.setCreator('issuance-server');
  doc.setProducer('issuance-server (@cantoo/pdf-lib)');
  doc.setLanguage('ja-JP');
  doc.setCreationDate(layout.issuedAt);
  doc.setModificationDate(layout.issuedAt);
  for (let i = 0; i < layout.pageCount; i++) {
    const page = doc.addPage(A4);
    page.setFont(pdfFont); // once per page: passing the font to every drawText adds a resource entry each time
    layout.drawPage(paintingCanvas(page, pdfFont), i);
  }
  // A worker has nothing else to do, so no pauses for the event loop while writing.
  return doc.save({ objectsPerTick: Infinity });
}
