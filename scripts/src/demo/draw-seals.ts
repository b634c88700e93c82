// Draws the demo municipality's seal impressions (印影) and its 公印 as the PNGs committed under
// scripts/demo/seals/: vector drawing through pdf-lib, rasterised by poppler at 600 dpi in
// greyscale, written as greyscale PNGs that record their resolution (pHYs) so that the import
// can check the physical size (poppler's own PNGs are RGB, which the import refuses).
// Run again only to change a design: `npm run demo:seals -w scripts`.
import { PDFDocument, rgb } from '@cantoo/pdf-lib';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { IPAMJ_FONT_PATH, pdfFontkit } from 'issuance-server/documents';
import { DEMO_SEALS_DIR } from './seed-demo.ts';

const MM = 72 / 25.4;
const DPI = 600;

/** A round personal seal: the characters in one vertical column inside a ring. */
interface RoundSeal {
  file: string;
  diameterMm: number;
  text: string;
}

const ROUND: RoundSeal[] = [
  { file: 'seal-R0001.png', diameterMm: 15, text: '山田' },
  { file: 'seal-R0002.png', diameterMm: 12, text: '花子' },
  { file: 'seal-R0004.png', diameterMm: 13.5, text: '佐藤' },
  { file: 'seal-R0010.png', diameterMm: 15, text: '𠮷田' },
];

/** The 公印: a square seal read in columns from the right. */
const OFFICIAL = { file: 'koin.png', sizeMm: 21, columns: ['テスト', '市長之', '印'] };

async function rasterise(doc: PDFDocument, file: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'seal-'));
  try {
    const pdf = join(work, 'seal.pdf');
    writeFileSync(pdf, await doc.save());
    execFileSync('pdftoppm', ['-r', String(DPI), '-gray', '-singlefile', pdf, join(work, 'seal')]);
    writeFileSync(join(DEMO_SEALS_DIR, file), greyPng(readFileSync(join(work, 'seal.pgm'))));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A binary PGM (P5, 8-bit) as a greyscale PNG with its resolution. */
function greyPng(pgm: Buffer): Buffer {
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.toString('latin1', 0, 40));
  if (!header) throw new Error('pdftoppm did not write an 8-bit PGM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  const pixels = pgm.subarray(header[0].length);
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) pixels.copy(raw, y * (width + 1) + 1, y * width, (y + 1) * width);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const phys = Buffer.alloc(9);
  const perMetre = Math.round(DPI / 0.0254);
  phys.writeUInt32BE(perMetre, 0);
  phys.writeUInt32BE(perMetre, 4);
  phys[8] = 1;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('pHYs', phys), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

async function newSeal(widthPt: number, heightPt: number) {
  const doc = await PDFDocument.create();
  doc.registerFontkit(pdfFontkit);
  const font = await doc.embedFont(readFileSync(IPAMJ_FONT_PATH), { subset: false });
  return { doc, font, page: doc.addPage([widthPt, heightPt]) };
}

for (const seal of ROUND) {
  const d = seal.diameterMm * MM;
  const { doc, font, page } = await newSeal(d, d);
  const ring = d * 0.07;
  page.drawEllipse({ x: d / 2, y: d / 2, xScale: d / 2 - ring / 2, yScale: d / 2 - ring / 2, borderColor: rgb(0, 0, 0), borderWidth: ring });
  const chars = [...seal.text];
  const size = (d * 0.78) / chars.length;
  chars.forEach((ch, i) => {
    const w = font.widthOfTextAtSize(ch, size);
    page.drawText(ch, { x: (d - w) / 2, y: d / 2 + (chars.length / 2 - i - 1) * size + size * 0.12, size, font, color: rgb(0, 0, 0) });
  });
  await rasterise(doc, seal.file);
}

{
  const s = OFFICIAL.sizeMm * MM;
  const { doc, font, page } = await newSeal(s, s);
  const frame = s * 0.06;
  page.drawRectangle({ x: frame / 2, y: frame / 2, width: s - frame, height: s - frame, borderColor: rgb(0, 0, 0), borderWidth: frame });
  const inner = s - frame * 3;
  const colWidth = inner / OFFICIAL.columns.length;
  OFFICIAL.columns.forEach((column, c) => {
    const chars = [...column];
    const size = Math.min(colWidth * 0.92, inner / chars.length);
    const x = s - frame * 1.5 - colWidth * (c + 1) + (colWidth - size) / 2;
    chars.forEach((ch, i) => {
      const y = s - frame * 1.5 - (inner - size * chars.length) / 2 - size * (i + 1) + size * 0.12;
      page.drawText(ch, { x, y, size, font, color: rgb(0, 0, 0) });
    });
  });
  await rasterise(doc, OFFICIAL.file);
}
console.log(`seals drawn into ${DEMO_SEALS_DIR}`);
