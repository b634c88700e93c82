// The images of a certificate (the 公印, a registered seal impression) as PDF image objects. A
// greyscale PNG without transparency, which is what the seal import keeps, goes in as it is: PDF
// decodes a PNG's compressed rows itself (Flate with the PNG predictors), so its pixels are neither
// decoded, re-encoded nor resampled (certificates.md §8) and the object is as small as the file.
// Any other PNG (alpha, colour, palette, interlaced) goes through pdf-lib's decoder.
import type { PDFDocument, PDFRef } from '@cantoo/pdf-lib';
import { DocumentError } from './document-error.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GREYSCALE = 0;

interface PngParts {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  /** A tRNS chunk: one grey level is transparent, which a plain image cannot say. */
  keyed: boolean;
  /** The IDAT chunks joined: one zlib stream of filtered rows. */
  data: Uint8Array;
}

function pngParts(png: Uint8Array): PngParts {
  if (png.length < 33 || SIGNATURE.some((b, i) => png[i] !== b)) throw new DocumentError('invalid_input', 'an image of the document is not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: PngParts = { width: 0, height: 0, bitDepth: 0, colorType: -1, interlaced: false, keyed: false, data: new Uint8Array(0) };
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      parts.width = view.getUint32(at + 8);
      parts.height = view.getUint32(at + 12);
      parts.bitDepth = data[8]!;
      parts.colorType = data[9]!;
      parts.interlaced = data[12] !== 0;
    } else if (type === 'tRNS') {
      parts.keyed = true;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  parts.data = Buffer.concat(idat);
  return parts;
}

/** Embeds a PNG into `doc` and returns its image object; DocumentError invalid_input when it is not a PNG. */
export async function embedPng(doc: PDFDocument, png: Uint8Array): Promise<PDFRef> {
  const parts = pngParts(png);
  if (parts.colorType !== GREYSCALE || parts.interlaced || parts.keyed) return (await doc.embedPng(png)).ref;
  const { context } = doc;
  const stream = context.stream(parts.data, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: parts.width,
    Height: parts.height,
    ColorSpace: 'DeviceGray',
    BitsPerComponent: parts.bitDepth,
    Filter: 'FlateDecode',
    DecodeParms: { Predictor: 15, Colors: 1, BitsPerComponent: parts.bitDepth, Columns: parts.width },
  });
  return context.register(stream);
}
