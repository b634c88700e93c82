// A 1-bit greyscale PNG drawn by a function, with its resolution recorded (pHYs) as the seal
// import requires: the sample documents' 公印 and seal impressions, and the tests' images of a
// known physical size.
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/** A `width` × `height` pixel, 1-bit PNG at `dpi`, black where `inked(x, y)` (x right, y down from the top left). */
export function greyPng(width: number, height: number, dpi: number, inked: (x: number, y: number) => boolean): Uint8Array<ArrayBuffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, adaptive filtering, not interlaced
  const rowBytes = Math.ceil(width / 8);
  // Each row: filter type 0 (none), then the bits, 1 = white as greyscale has it.
  const rows = Buffer.alloc((rowBytes + 1) * height, 0xff);
  for (let y = 0; y < height; y++) {
    const row = y * (rowBytes + 1);
    rows[row] = 0;
    for (let x = 0; x < width; x++) if (inked(x, y)) rows[row + 1 + (x >> 3)]! &= ~(0x80 >> (x & 7));
  }
  const perMetre = Math.round(dpi / 0.0254);
  const phys = Buffer.alloc(9);
  phys.writeUInt32BE(perMetre, 0);
  phys.writeUInt32BE(perMetre, 4);
  phys[8] = 1; // unit: metre
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('pHYs', phys),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
  return new Uint8Array(png);
}
