// 住民票の写し as a PDF: one A4 page per copy, text kept as real (extractable) text in a subset of
// the Japanese font, and a verification box whose QR code points at the public verification page.
import { PDFDocument, PageSizes, grayscale, type Color, type PDFFont, type PDFImage, type PDFPage } from '@cantoo/pdf-lib';
import QRCode from 'qrcode';
import { pdfFontkit } from './pdf-fontkit.ts';
import { toIsoDateJst, toWareki } from './wareki.ts';

/** One person on the certificate. */
export interface JuminhyoEntry {
  name: string;
  nameKana: string;
  birthDate: string /* YYYY-MM-DD */;
  sex: '1' | '2' | '9';
  relationshipToHead: string;
  domicile?: string;
  domicileHead?: string;
}

/** Everything printed on a 住民票の写し; the caller has already applied the resident's choices to `entries`. */
export interface JuminhyoDocumentInput {
  municipality: { code: string; name: string };
  address: string;
  householdHeadName: string;
  entries: JuminhyoEntry[];
  options: { scope: 'self' | 'household'; includeDomicile: boolean; includeRelationship: boolean };
  copies: number;
  issuedAt: Date;
  verificationCode: string;
  verificationUrl: string;
}

const [PAGE_W, PAGE_H] = PageSizes.A4 as [number, number];
const LEFT = 45;
const RIGHT = PAGE_W - 45;
const WIDTH = RIGHT - LEFT;
const SPLIT = 0.62; // the two columns of a person's box, shared by all its rows so borders line up
const MAX_COPIES = 10;

const INK = grayscale(0);
const RULE = grayscale(0.35);
const SHADE = grayscale(0.92);
const FAINT = grayscale(0.6);

// Fixed vertical plan (PDF y grows upwards). Everything between ENTRIES_TOP and ENTRIES_LIMIT
// belongs to the people and is shrunk as a whole when the household is large.
const TITLE_BASELINE = 764;
const HEADER_TOP = 744;
const HEADER_ROW_H = 24;
const ENTRIES_LIMIT = 236;
const CERT_BASELINE = 212;
const DATE_BASELINE = 190;
const HEAD_BASELINE = 160;
const VBOX = { bottom: 40, height: 96 };

const SEX: Record<JuminhyoEntry['sex'], string> = { '1': '男', '2': '女', '9': '—' };

interface Ctx {
  page: PDFPage;
  font: PDFFont;
  charset: Set<number>;
}

interface Cell {
  label: string;
  value: string;
  /** Share of the row width; the last cell takes what is left. */
  share?: number;
  /** Small reading printed above the value (ふりがな). */
  ruby?: string;
}

interface RowStyle {
  height: number;
  labelSize: number;
  valueSize: number;
  /** Cells with a reading: its size, and the (larger) size of the value under it. */
  ruby?: { size: number; valueSize: number };
}

const charsets = new WeakMap<Uint8Array, Set<number>>();

function fontName(fontBytes: Uint8Array): string {
  const font = pdfFontkit.create(fontBytes) as { postscriptName?: string | null };
  return font.postscriptName ?? 'Font';
}

function charsetOf(font: PDFFont, fontBytes: Uint8Array): Set<number> {
  let set = charsets.get(fontBytes);
  if (!set) charsets.set(fontBytes, (set = new Set(font.getCharacterSet())));
  return set;
}

/** Draws one line, shrunk to maxWidth; refuses characters the font lacks, since a blank box in a name would be a false certificate. */
function drawText(
  ctx: Ctx,
  text: string,
  x: number,
  baseline: number,
  size: number,
  opts: { maxWidth?: number; align?: 'left' | 'center' | 'right'; color?: Color } = {},
): void {
  if (text === '') return;
  for (const ch of text) {
    if (!ctx.charset.has(ch.codePointAt(0)!)) {
      throw new Error(`renderJuminhyo: the certificate font has no glyph for ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase()})`);
    }
  }
  let width = ctx.font.widthOfTextAtSize(text, size);
  if (opts.maxWidth !== undefined && width > opts.maxWidth) {
    size = (size * opts.maxWidth) / width;
    width = opts.maxWidth;
  }
  const dx = opts.align === 'center' ? -width / 2 : opts.align === 'right' ? -width : 0;
  ctx.page.drawText(text, { x: x + dx, y: baseline, size, color: opts.color ?? INK });
}

/** Baseline that centres CJK glyphs of this size vertically between top and bottom. */
function middle(top: number, bottom: number, size: number): number {
  return (top + bottom) / 2 - size * 0.36;
}

/** One row of shaded-label / value cells; the only table primitive of the document. */
function drawLabelledRow(ctx: Ctx, top: number, style: RowStyle, cells: Cell[]): void {
  const pad = style.labelSize * 0.6;
  const labelW = style.labelSize * 4 + pad * 2; // 4 characters: the longest label, 生年月日
  const bottom = top - style.height;
  let x = LEFT;
  cells.forEach((cell, i) => {
    const cellW = i === cells.length - 1 ? RIGHT - x : WIDTH * (cell.share ?? 1);
    const valueW = cellW - labelW;
    const border = { borderColor: RULE, borderWidth: 0.6 };
    ctx.page.drawRectangle({ x, y: bottom, width: labelW, height: style.height, color: SHADE, ...border });
    ctx.page.drawRectangle({ x: x + labelW, y: bottom, width: valueW, height: style.height, ...border });
    drawText(ctx, cell.label, x + labelW / 2, middle(top, bottom, style.labelSize), style.labelSize, {
      align: 'center',
      maxWidth: labelW - pad,
    });
    let valueTop = top;
    let valueSize = style.valueSize;
    if (cell.ruby !== undefined && style.ruby) {
      const rubyBaseline = top - pad * 0.5 - style.ruby.size;
      drawText(ctx, cell.ruby, x + labelW + pad, rubyBaseline, style.ruby.size, { maxWidth: valueW - 2 * pad });
      valueTop = rubyBaseline - style.ruby.size * 0.3;
      valueSize = style.ruby.valueSize;
    }
    drawText(ctx, cell.value, x + labelW + pad, middle(valueTop, bottom, valueSize), valueSize, {
      maxWidth: valueW - 2 * pad,
    });
    x += cellW;
  });
}

function personRows(entry: JuminhyoEntry, options: JuminhyoDocumentInput['options']): { cells: Cell[]; name: boolean }[] {
  const rows: { cells: Cell[]; name: boolean }[] = [
    {
      name: true,
      cells: [
        { label: '氏名', value: entry.name, ruby: entry.nameKana, share: SPLIT },
        { label: '性別', value: SEX[entry.sex] },
      ],
    },
    {
      name: false,
      cells: [
        { label: '生年月日', value: toWareki(entry.birthDate), share: SPLIT },
        ...(options.includeRelationship ? [{ label: '続柄', value: entry.relationshipToHead }] : []),
      ],
    },
  ];
  if (options.includeDomicile) {
    rows.push({
      name: false,
      cells: [
        { label: '本籍', value: entry.domicile ?? '', share: SPLIT },
        { label: '筆頭者', value: entry.domicileHead ?? '' },
      ],
    });
  }
  return rows;
}

function validate(input: JuminhyoDocumentInput): void {
  if (!Number.isInteger(input.copies) || input.copies < 1 || input.copies > MAX_COPIES) {
    throw new RangeError(`renderJuminhyo: copies must be an integer from 1 to ${MAX_COPIES}, got ${input.copies}`);
  }
  if (input.entries.length === 0) throw new RangeError('renderJuminhyo: no entries to certify');
  if (Number.isNaN(input.issuedAt.getTime())) throw new RangeError('renderJuminhyo: invalid issuedAt');
}

function drawPage(ctx: Ctx, input: JuminhyoDocumentInput, qr: PDFImage, copy: number): void {
  const { municipality, options } = input;

  drawText(ctx, municipality.name, LEFT, 802, 12);
  if (input.copies > 1) {
    // Each copy is a standalone original, so no "1/2" page numbers: only which of the set it is.
    drawText(ctx, `(${input.copies}通のうち ${copy}通目)`, RIGHT, 802, 8, { align: 'right' });
  }
  const title = '住民票の写し';
  const scope = options.scope === 'household' ? '(世帯全員)' : '(世帯一部)';
  const titleW = ctx.font.widthOfTextAtSize(title, 22);
  const titleX = (PAGE_W - titleW - 6 - ctx.font.widthOfTextAtSize(scope, 12)) / 2;
  drawText(ctx, title, titleX, TITLE_BASELINE, 22);
  drawText(ctx, scope, titleX + titleW + 6, TITLE_BASELINE, 12);

  const header: RowStyle = { height: HEADER_ROW_H, labelSize: 9, valueSize: 11 };
  drawLabelledRow(ctx, HEADER_TOP, header, [{ label: '住所', value: input.address }]);
  drawLabelledRow(ctx, HEADER_TOP - HEADER_ROW_H, header, [{ label: '世帯主', value: input.householdHeadName }]);
  let top = HEADER_TOP - 2 * HEADER_ROW_H - 10;
  if (!options.includeDomicile) {
    drawText(ctx, '本籍・筆頭者の記載省略', LEFT, top - 8, 9);
    top -= 14;
  }

  // Natural sizes, then one common factor so that any household stays on one page.
  const people = input.entries.map((e) => personRows(e, options));
  const NAME_H = 30, ROW_H = 20, GAP = 8;
  const natural = people.reduce((sum, rows) => sum + rows.reduce((s, r) => s + (r.name ? NAME_H : ROW_H), 0) + GAP, -GAP);
  const k = Math.min(1, (top - ENTRIES_LIMIT) / natural);
  const nameStyle: RowStyle = { height: NAME_H * k, labelSize: 9 * k, valueSize: 11 * k, ruby: { size: 7 * k, valueSize: 14 * k } };
  const rowStyle: RowStyle = { height: ROW_H * k, labelSize: 9 * k, valueSize: 11 * k };
  for (const rows of people) {
    for (const row of rows) {
      const style = row.name ? nameStyle : rowStyle;
      drawLabelledRow(ctx, top, style, row.cells);
      top -= style.height;
    }
    top -= GAP * k;
  }

  drawText(ctx, 'この写しは、住民票の原本と相違ないことを証明する。', LEFT + 11, CERT_BASELINE, 11);
  drawText(ctx, `${toWareki(input.issuedAt)} (${toIsoDateJst(input.issuedAt)})`, LEFT + 11, DATE_BASELINE, 11);
  const seal = '(公印省略)';
  const sealW = ctx.font.widthOfTextAtSize(seal, 9);
  drawText(ctx, `${municipality.name}長`, RIGHT - sealW - 16, HEAD_BASELINE, 14, { align: 'right' });
  drawText(ctx, seal, RIGHT - sealW - 4, HEAD_BASELINE, 9, { color: FAINT });

  drawVerificationBox(ctx, input, qr);
}

function drawVerificationBox(ctx: Ctx, input: JuminhyoDocumentInput, qr: PDFImage): void {
  const { bottom, height } = VBOX;
  const top = bottom + height;
  ctx.page.drawRectangle({ x: LEFT, y: bottom, width: WIDTH, height, borderColor: RULE, borderWidth: 0.8 });
  const qrSize = height - 16;
  ctx.page.drawImage(qr, { x: LEFT + 8, y: bottom + 8, width: qrSize, height: qrSize });
  const x = LEFT + qrSize + 20;
  const maxWidth = RIGHT - x - 8;
  drawText(ctx, '検証コード', x, top - 22, 9);
  drawText(ctx, input.verificationCode, x + 52, top - 23, 16);
  drawText(ctx, input.verificationUrl, x, top - 44, 9, { maxWidth });
  drawText(ctx, 'この証明書は、上記のURL(またはQRコード)で検証コードにより真正性を確認できます。', x, top - 64, 8, { maxWidth });
  drawText(ctx, '確認できるのは証明書の種類・発行日・文書のハッシュ値のみで、個人情報は表示されません。', x, top - 78, 8, { maxWidth });
}

/** Renders the certificate: `copies` identical A4 pages, each a standalone original. */
export async function renderJuminhyo(input: JuminhyoDocumentInput, fontBytes: Uint8Array): Promise<Uint8Array> {
  validate(input);
  // No automatic metadata: pdf-lib would stamp "now", and the same input should give the same bytes.
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.registerFontkit(pdfFontkit);
  // "ABCDEF+" marks a subset font (PDF 9.6.4); a fixed tag and no random suffix keep the bytes reproducible.
  const font = await doc.embedFont(fontBytes, { subset: true, customName: `JUMINH+${fontName(fontBytes)}` });
  const qrPng = await QRCode.toBuffer(input.verificationUrl, { type: 'png', errorCorrectionLevel: 'M', margin: 1, scale: 4 });
  const qr = await doc.embedPng(qrPng);

  doc.setTitle('住民票の写し');
  doc.setAuthor(input.municipality.name);
  doc.setCreator('issuance-server');
  doc.setProducer('issuance-server (@cantoo/pdf-lib)');
  doc.setLanguage('ja-JP');
  doc.setCreationDate(input.issuedAt);
  doc.setModificationDate(input.issuedAt);

  const charset = charsetOf(font, fontBytes);
  for (let copy = 1; copy <= input.copies; copy++) {
    const page = doc.addPage([PAGE_W, PAGE_H]);
    page.setFont(font); // once per page: passing the font to every drawText adds a resource entry each time
    drawPage({ page, font, charset }, input, qr, copy);
  }
  return doc.save();
}
