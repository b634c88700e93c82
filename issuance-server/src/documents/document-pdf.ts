// Turns a document layout into PDF bytes. A layout draws on a Canvas twice: first on one that only
// collects the text, so that the font can be checked and cut down to exactly those characters
// before anything is embedded, then for real. The text never depends on measured widths (only
// positions and sizes do), so both passes draw the same strings. Copies share their pages'
// content stream and differ only by a small stream of their own (the copy's 発行番号). Images (the
// 公印, a seal impression) are only recorded by the first pass and embedded once per document.
import {
  PDFDocument,
  PDFName,
  PageSizes,
  beginText,
  concatTransformationMatrix,
  drawObject,
  endText,
  fill,
  fillAndStroke,
  grayscale,
  moveText,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  setFillingColor,
  setGraphicsState,
  setFontAndSize,
  setLineWidth,
  setStrokingColor,
  showText,
  stroke,
  type Color,
  type PDFFont,
  type PDFOperator,
  type PDFPage,
  type PDFRef,
} from '@cantoo/pdf-lib';
import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import type { CertificateFont } from './certificate-font.ts';
import { DocumentError } from './document-error.ts';
import { embedPng } from './pdf-image.ts';

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
  /** A PNG stretched over the box at (x, y); printed as ink is, so its white lets what lies beneath show through. */
  image(png: Uint8Array, x: number, y: number, width: number, height: number): void;
}

/** A document: its metadata and a layout that draws each page. */
export interface DocumentLayout {
  title: string;
  author: string;
  /** Stamped as both creation and modification date, so that the same input gives the same bytes. */
  issuedAt: Date;
  /** Pages of one copy. */
  pageCount: number;
  /** Copies of the whole document, each a standalone original. */
  copies: number;
  /** Draws a page's content, the same in every copy. */
  drawPage(canvas: Canvas, pageIndex: number): void;
  /** Draws what tells the copies apart on a page of copy `copy` (1-based): its own 発行番号. */
  drawCopyMark(canvas: Canvas, pageIndex: number, copy: number): void;
}

// The resource names the shared content streams use, the same on every page.
const FONT_KEY = PDFName.of('F1');
const MULTIPLY_KEY = PDFName.of('GSm');

const INK = grayscale(0);

function collectingCanvas(texts: string[], images: Set<Uint8Array>): Canvas {
  return {
    width: () => 0,
    text: (text) => void texts.push(text),
    rect: () => {},
    qr: () => {},
    image: (png) => void images.add(png),
  };
}

/** What the pages of one document share while painting. */
interface Painting {
  doc: PDFDocument;
  font: PDFFont;
  /** One image per QR payload: its resource name, object and size in modules. */
  qrImages: Map<string, { name: PDFName; ref: PDFRef; modules: number }>;
  /** The PNGs the first pass recorded, embedded: their resource names and objects. */
  images: Map<Uint8Array, { name: PDFName; ref: PDFRef }>;
}

// A QR code as a 1-bit image (0 = dark module), about 150 bytes, drawn without interpolation so the
// modules stay sharp at any printer resolution. pdf-lib has no raw-image API, hence the XObject by hand;
// its PNG route would encode and decode a PNG per document, and vector modules are ~1000 numbers a page.
function qrImage(painting: Painting, data: string): { name: PDFName; ref: PDFRef; modules: number } {
  let image = painting.qrImages.get(data);
  if (!image) {
    const { modules } = QRCode.create(data, { errorCorrectionLevel: 'M' });
    const n = modules.size;
    const rowBytes = Math.ceil(n / 8);
    const bits = new Uint8Array(rowBytes * n).fill(0xff);
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) if (modules.data[row * n + col]) bits[row * rowBytes + (col >> 3)]! &= ~(0x80 >> (col & 7));
    }
    const { context } = painting.doc;
    const stream = context.stream(bits, { Type: 'XObject', Subtype: 'Image', Width: n, Height: n, ColorSpace: 'DeviceGray', BitsPerComponent: 1, Interpolate: false });
    image = { name: PDFName.of(`QR${painting.qrImages.size + 1}`), ref: context.register(stream), modules: n };
    painting.qrImages.set(data, image);
  }
  return image;
}

// pdf-lib's drawRectangle builds and parses an SVG path per box; a certificate has dozens of boxes.
function boxOperators(box: Box): PDFOperator[] {
  const paint = box.color && box.borderColor ? fillAndStroke() : box.color ? fill() : stroke();
  return [
    pushGraphicsState(),
    ...(box.color ? [setFillingColor(box.color)] : []),
    ...(box.borderColor ? [setStrokingColor(box.borderColor), setLineWidth(box.borderWidth ?? 1)] : []),
    rectangle(box.x, box.y, box.width, box.height),
    paint,
    popGraphicsState(),
  ];
}

function operatorCanvas(ops: PDFOperator[], painting: Painting): Canvas {
  const { font } = painting;
  return {
    width: (text, size) => font.widthOfTextAtSize(text, size),
    // Plain BT … ET rather than page.drawText, which checks a dozen options and wraps every line in a
    // graphics state with line-spacing and matrix operators that one-line labels do not need.
    text(text, x, baseline, size, options = {}) {
      if (text === '') return;
      let w = font.widthOfTextAtSize(text, size);
      if (options.maxWidth !== undefined && w > options.maxWidth) {
        size = (size * options.maxWidth) / w;
        w = options.maxWidth;
      }
      const dx = options.align === 'center' ? -w / 2 : options.align === 'right' ? -w : 0;
      ops.push(setFillingColor(options.color ?? INK), beginText(), setFontAndSize(FONT_KEY, size), moveText(x + dx, baseline), showText(font.encodeText(text)), endText());
    },
    rect(box) {
      if (box.color || box.borderColor) ops.push(...boxOperators(box));
    },
    qr(data, x, y, size) {
      const { name, modules } = qrImage(painting, data);
      const quiet = size / (modules + 2); // one module of quiet zone on each side; the box around adds the rest
      ops.push(pushGraphicsState(), concatTransformationMatrix(size - 2 * quiet, 0, 0, size - 2 * quiet, x + quiet, y + quiet), drawObject(name), popGraphicsState());
    },
    image(png, x, y, width, height) {
      const image = painting.images.get(png);
      if (!image) throw new Error('image drawn that the first pass did not record');
      // Multiply: a 公印 laid over the signer's name darkens it where it is inked and hides nothing where it is white.
      ops.push(pushGraphicsState(), setGraphicsState(MULTIPLY_KEY), concatTransformationMatrix(width, 0, 0, height, x, y), drawObject(image.name), popGraphicsState());
    },
  };
}

/** What `draw` draws, as a registered content stream; null when it draws nothing. */
function contentStream(painting: Painting, draw: (canvas: Canvas) => void): PDFRef | null {
  const ops: PDFOperator[] = [];
  draw(operatorCanvas(ops, painting));
  const { context } = painting.doc;
  return ops.length === 0 ? null : context.register(context.contentStream(ops));
}

/** Renders a layout with the certificate font; refuses (glyph_missing) text the font cannot draw, since a blank box in a name would be a false certificate. */
export async function renderPdf(layout: DocumentLayout, font: CertificateFont): Promise<Uint8Array> {
  const texts: string[] = [];
  const recorded = new Set<Uint8Array>();
  const collector = collectingCanvas(texts, recorded);
  for (let p = 0; p < layout.pageCount; p++) {
    layout.drawPage(collector, p);
    for (let copy = 1; copy <= layout.copies; copy++) layout.drawCopyMark(collector, p, copy);
  }
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
  const painting: Painting = { doc, font: pdfFont, qrImages: new Map(), images: new Map() };
  for (const png of recorded) painting.images.set(png, { name: PDFName.of(`Im${painting.images.size + 1}`), ref: await embedPng(doc, png) });
  const multiply = painting.images.size > 0 ? doc.context.register(doc.context.obj({ Type: 'ExtGState', BM: 'Multiply' })) : null;
  const shared = Array.from({ length: layout.pageCount }, (_, p) => contentStream(painting, (canvas) => layout.drawPage(canvas, p)));
  const pages: PDFPage[] = [];
  for (let copy = 1; copy <= layout.copies; copy++) {
    for (const [p, content] of shared.entries()) {
      const page = doc.addPage(A4);
      const mark = contentStream(painting, (canvas) => layout.drawCopyMark(canvas, p, copy));
      for (const ref of [content, mark]) if (ref) page.node.addContentStream(ref);
      pages.push(page);
    }
  }
  // Every page gets every resource, so that the shared streams find them under the same names.
  for (const page of pages) {
    page.node.setFontDictionary(FONT_KEY, pdfFont.ref);
    for (const { name, ref } of [...painting.qrImages.values(), ...painting.images.values()]) page.node.setXObject(name, ref);
    if (multiply) page.node.setExtGState(MULTIPLY_KEY, multiply);
  }
  // A worker has nothing else to do, so no pauses for the event loop while writing.
  return doc.save({ objectsPerTick: Infinity });
}
