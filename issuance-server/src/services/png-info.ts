// The physical size a PNG declares: its pixel size (IHDR) at its resolution (pHYs, pixels per
// metre). A seal impression is printed at its registered size, so an image whose resolution is
// unknown cannot be printed faithfully and is refused at import.

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Greyscale (0) and greyscale with alpha (4): a black impression needs no colour. */
const GREY_TYPES = new Set([0, 4]);

/** The image's size in millimetres, or why it cannot be known. */
export type PngSize = { ok: true; widthPx: number; heightPx: number; widthMm: number; heightMm: number } | { ok: false; problem: string };

/** Reads IHDR and pHYs of a PNG. */
export function pngPhysicalSize(bytes: Uint8Array): PngSize {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIGNATURE)) return { ok: false, problem: 'not a PNG image' };
  let width = 0;
  let height = 0;
  let colorType = -1;
  let ppm: [number, number] | null = null;
  for (let at = 8; at + 8 <= buf.length; ) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = at + 8;
    if (data + length + 4 > buf.length) return { ok: false, problem: 'the PNG is truncated' };
    if (type === 'IHDR') {
      width = buf.readUInt32BE(data);
      height = buf.readUInt32BE(data + 4);
      colorType = buf[data + 9]!;
    } else if (type === 'pHYs' && buf[data + 8] === 1) {
      ppm = [buf.readUInt32BE(data), buf.readUInt32BE(data + 4)];
    } else if (type === 'IEND') {
      break;
    }
    at = data + length + 4;
  }
  if (!width || !height) return { ok: false, problem: 'the PNG has no image header' };
  if (!GREY_TYPES.has(colorType)) return { ok: false, problem: 'the impression must be a greyscale or 1-bit PNG (it prints black)' };
  if (!ppm || !ppm[0] || !ppm[1]) return { ok: false, problem: 'the PNG does not record its resolution (pHYs in pixels per metre); its physical size is unknown' };
  return { ok: true, widthPx: width, heightPx: height, widthMm: (width / ppm[0]) * 1000, heightMm: (height / ppm[1]) * 1000 };
}

/** How far an image's size at its recorded resolution may be from the size it is declared to print at. */
const PRINT_SIZE_TOLERANCE_MM = 0.5;

/** Why `png` cannot be printed as `widthMm` × `heightMm` (not a usable PNG, or another size), or null when it can. */
export function printSizeProblem(png: Uint8Array, widthMm: number, heightMm: number): string | null {
  const size = pngPhysicalSize(png);
  if (!size.ok) return size.problem;
  if (Math.abs(size.widthMm - widthMm) > PRINT_SIZE_TOLERANCE_MM || Math.abs(size.heightMm - heightMm) > PRINT_SIZE_TOLERANCE_MM) {
    return `the image is ${size.widthMm.toFixed(1)} × ${size.heightMm.toFixed(1)} mm at its resolution, not ${widthMm} × ${heightMm} mm`;
  }
  return null;
}
