// 住民票の写し: one A4 page per copy, text kept as real (extractable) text in a subset of the
// Japanese font, and a verification box whose QR code points at the public verification page.
import { grayscale } from '@cantoo/pdf-lib';
import { z } from 'zod';
import { certificateFontFor } from './certificate-font.ts';
import { A4, renderPdf, type Canvas, type DocumentLayout } from './document-pdf.ts';
import { toIsoDateJst, toWareki } from './wareki.ts';

const MAX_COPIES = 10;

const juminhyoEntrySchema = z.object({
  name: z.string(),
  nameKana: z.string(),
  birthDate: z.iso.date(),
  sex: z.enum(['1', '2', '9']),
  relationshipToHead: z.string(),
  domicile: z.string().optional(),
  domicileHead: z.string().optional(),
});
/** One person on the certificate. */
export type JuminhyoEntry = z.infer<typeof juminhyoEntrySchema>;

/** The schema of JuminhyoDocumentInput, checked where a request enters a render worker. */
export const juminhyoDocumentInputSchema = z.object({
  municipality: z.object({ code: z.string(), name: z.string() }),
  address: z.string(),
  householdHeadName: z.string(),
  entries: z.array(juminhyoEntrySchema).min(1, 'no entries to certify'),
  options: z.object({ scope: z.enum(['self', 'household']), includeDomicile: z.boolean(), includeRelationship: z.boolean() }),
  copies: z.int().min(1).max(MAX_COPIES),
  // A Date, not a string: postMessage's structured clone keeps Dates (JSON would not), and an
  // Invalid Date is refused here rather than printed.
  issuedAt: z.date(),
  verificationCode: z.string(),
  verificationUrl: z.string(),
});
/** Everything printed on a 住民票の写し; the caller has already applied the resident's choices to `entries`. */
export type JuminhyoDocumentInput = z.infer<typeof juminhyoDocumentInputSchema>;

const [PAGE_W] = A4;
const LEFT = 45;
const RIGHT = PAGE_W - 45;
const WIDTH = RIGHT - LEFT;
const SPLIT = 0.62; // the two columns of a person's box, shared by all its rows so borders line up

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

/** Baseline that centres CJK glyphs of this size vertically between top and bottom. */
function middle(top: number, bottom: number, size: number): number {
  return (top + bottom) / 2 - size * 0.36;
}

/** One row of shaded-label / value cells; the only table primitive of the document. */
function drawLabelledRow(canvas: Canvas, top: number, style: RowStyle, cells: Cell[]): void {
  const pad = style.labelSize * 0.6;
  const labelW = style.labelSize * 4 + pad * 2; // 4 characters: the longest label, 生年月日
  const bottom = top - style.height;
  let x = LEFT;
  cells.forEach((cell, i) => {
    const cellW = i === cells.length - 1 ? RIGHT - x : WIDTH * (cell.share ?? 1);
    const valueW = cellW - labelW;
    const border = { borderColor: RULE, borderWidth: 0.6 };
    canvas.rect({ x, y: bottom, width: labelW, height: style.height, color: SHADE, ...border });
    canvas.rect({ x: x + labelW, y: bottom, width: valueW, height: style.height, ...border });
    canvas.text(cell.label, x + labelW / 2, middle(top, bottom, style.labelSize), style.labelSize, {
      align: 'center',
      maxWidth: labelW - pad,
    });
    let valueTop = top;
    let valueSize = style.valueSize;
    if (cell.ruby !== undefined && style.ruby) {
      const rubyBaseline = top - pad * 0.5 - style.ruby.size;
      canvas.text(cell.ruby, x + labelW + pad, rubyBaseline, style.ruby.size, { maxWidth: valueW - 2 * pad });
      valueTop = rubyBaseline - style.ruby.size * 0.3;
      valueSize = style.ruby.valueSize;
    }
    canvas.text(cell.value, x + labelW + pad, middle(valueTop, bottom, valueSize), valueSize, {
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

function drawPage(canvas: Canvas, input: JuminhyoDocumentInput, issued: string): void {
  const { municipality, options } = input;

  canvas.text(municipality.name, LEFT, 802, 12);
  const title = '住民票の写し';
  const scope = options.scope === 'household' ? '(世帯全員)' : '(世帯一部)';
  const titleW = canvas.width(title, 22);
  const titleX = (PAGE_W - titleW - 6 - canvas.width(scope, 12)) / 2;
  canvas.text(title, titleX, TITLE_BASELINE, 22);
  canvas.text(scope, titleX + titleW + 6, TITLE_BASELINE, 12);

  const header: RowStyle = { height: HEADER_ROW_H, labelSize: 9, valueSize: 11 };
  drawLabelledRow(canvas, HEADER_TOP, header, [{ label: '住所', value: input.address }]);
  drawLabelledRow(canvas, HEADER_TOP - HEADER_ROW_H, header, [{ label: '世帯主', value: input.householdHeadName }]);
  let top = HEADER_TOP - 2 * HEADER_ROW_H - 10;
  if (!options.includeDomicile) {
    canvas.text('本籍・筆頭者の記載省略', LEFT, top - 8, 9);
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
      drawLabelledRow(canvas, top, style, row.cells);
      top -= style.height;
    }
    top -= GAP * k;
  }

  canvas.text('この写しは、住民票の原本と相違ないことを証明する。', LEFT + 11, CERT_BASELINE, 11);
  canvas.text(issued, LEFT + 11, DATE_BASELINE, 11);
  const seal = '(公印省略)';
  const sealW = canvas.width(seal, 9);
  canvas.text(`${municipality.name}長`, RIGHT - sealW - 16, HEAD_BASELINE, 14, { align: 'right' });
  canvas.text(seal, RIGHT - sealW - 4, HEAD_BASELINE, 9, { color: FAINT });

  drawVerificationBox(canvas, input);
}

function drawVerificationBox(canvas: Canvas, input: JuminhyoDocumentInput): void {
  const { bottom, height } = VBOX;
  const top = bottom + height;
  canvas.rect({ x: LEFT, y: bottom, width: WIDTH, height, borderColor: RULE, borderWidth: 0.8 });
  const qrSize = height - 16;
  canvas.qr(input.verificationUrl, LEFT + 8, bottom + 8, qrSize);
  const x = LEFT + qrSize + 20;
  const maxWidth = RIGHT - x - 8;
  canvas.text('検証コード', x, top - 22, 9);
  canvas.text(input.verificationCode, x + 52, top - 23, 16);
  canvas.text(input.verificationUrl, x, top - 44, 9, { maxWidth });
  canvas.text('この証明書は、上記のURL(またはQRコード)で検証コードにより真正性を確認できます。', x, top - 64, 8, { maxWidth });
  canvas.text('確認できるのは証明書の種類・発行日・文書のハッシュ値のみで、個人情報は表示されません。', x, top - 78, 8, { maxWidth });
}

/** The 住民票の写し as a layout: `copies` identical A4 pages, each a standalone original. */
export function juminhyoLayout(input: JuminhyoDocumentInput): DocumentLayout {
  // Once per document: Intl's time-zone formatting is the slowest step of a page's layout.
  const issued = `${toWareki(input.issuedAt)} (${toIsoDateJst(input.issuedAt)})`;
  return {
    title: '住民票の写し',
    author: input.municipality.name,
    issuedAt: input.issuedAt,
    pageCount: 1,
    copies: input.copies,
    drawPage: (canvas) => drawPage(canvas, input, issued),
    drawCopyMark(canvas, _page, copy) {
      // Each copy is a standalone original, so no "1/2" page numbers: only which of the set it is.
      if (input.copies > 1) canvas.text(`(${input.copies}通のうち ${copy}通目)`, RIGHT, 802, 8, { align: 'right' });
    },
  };
}

/** Renders on the calling thread; only for DocumentService until it renders through RenderPool, then to be deleted. */
export async function renderJuminhyo(input: JuminhyoDocumentInput, fontBytes: Uint8Array): Promise<Uint8Array> {
  return renderPdf(juminhyoLayout(juminhyoDocumentInputSchema.parse(input)), await certificateFontFor(fontBytes));
}
