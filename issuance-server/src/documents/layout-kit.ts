// The drawing vocabulary the certificate layouts share: the page's columns, rules, and ruled table
// rows of shaded labels and values. Positions may come from measured widths; the strings never do.
import { grayscale } from '@cantoo/pdf-lib';
import { LEFT, RIGHT, RULE, RULE_WIDTH, type Block } from './certificate-page.ts';
import type { Canvas } from './document-pdf.ts';
import { wrapText } from './text-wrap.ts';

/** Fill of label cells. */
const SHADE = grayscale(0.92);
const LABEL_SIZE = 8;
const VALUE_SIZE = 9.5;
const ROW_H = 17;
/** Extra height per further line of a wrapped value. */
const LINE_STEP = 12;
const PAD = 5;
const RUBY_H = 9;

/** 男女の別 as printed. */
export const SEX_TEXT: Record<'1' | '2' | '9', string> = { '1': '男', '2': '女', '9': '—' };

/** Baseline that centres CJK glyphs of `size` between `top` and `bottom`. */
function centredBaseline(top: number, bottom: number, size: number): number {
  return (top + bottom) / 2 - size * 0.36;
}

/** A horizontal rule from x0 to x1 at y. */
export function hrule(canvas: Canvas, x0: number, x1: number, y: number): void {
  canvas.rect({ x: x0, y: y - RULE_WIDTH / 2, width: x1 - x0, height: RULE_WIDTH, color: RULE });
}

/** One cell of a ruled row. */
export interface Cell {
  /** Width in points; by default the cell reaches RIGHT. */
  width?: number;
  /** The text: one line, or lines already wrapped (wrapValue), centred vertically as a group. */
  text: string | string[];
  /** A shaded label cell, its text centred and smaller. */
  label?: boolean;
  /** Value alignment (left by default). */
  align?: 'left' | 'right' | 'center';
  /** A reading printed small above the value (フリガナ). */
  ruby?: string | null;
  /** Text size (LABEL_SIZE or VALUE_SIZE by default). */
  size?: number;
}

/** Height of a row whose tallest cell has `lines` lines. */
export function rowHeight(lines: number): number {
  return ROW_H + (lines - 1) * LINE_STEP;
}

/** `text` wrapped to fit a value cell `width` points wide. */
export function wrapValue(text: string, width: number, size = VALUE_SIZE): string[] {
  return wrapText(text, Math.floor((width - 2 * PAD) / size));
}

/** A row of ruled cells from `x` with its top at `top`; the only table primitive of the certificates. */
export function tableRow(canvas: Canvas, top: number, height: number, cells: Cell[], x = LEFT): void {
  const bottom = top - height;
  for (const cell of cells) {
    const width = cell.width ?? RIGHT - x;
    canvas.rect({ x, y: bottom, width, height, borderColor: RULE, borderWidth: RULE_WIDTH, ...(cell.label ? { color: SHADE } : {}) });
    const lines = typeof cell.text === 'string' ? [cell.text] : cell.text;
    const size = cell.size ?? (cell.label ? LABEL_SIZE : VALUE_SIZE);
    let textTop = top;
    if (cell.ruby) {
      canvas.text(cell.ruby, x + PAD, top - RUBY_H + 1, 6.5, { maxWidth: width - 2 * PAD });
      textTop = top - RUBY_H + 1;
    }
    const align = cell.label ? 'center' : (cell.align ?? 'left');
    const tx = align === 'center' ? x + width / 2 : align === 'right' ? x + width - PAD : x + PAD;
    const first = centredBaseline(textTop, bottom, size) + ((lines.length - 1) * LINE_STEP) / 2;
    lines.forEach((line, i) => canvas.text(line, tx, first - i * LINE_STEP, size, { align, maxWidth: width - 2 * PAD }));
    x += width;
  }
}

/** An item of a labelled list: 氏名, 生年月日 … */
export interface Item {
  label: string;
  value: string;
  /** Takes a whole row; otherwise items go two to a row. */
  full?: boolean;
  ruby?: string | null;
  size?: number;
}

/** A ruled row and its height. */
export interface Row {
  cells: Cell[];
  height: number;
}

/** `items` as ruled rows from `x` to RIGHT: two to a row in halves (a full item, or one left over, takes the whole row), labels `labelWidth` wide, long values wrapped. */
export function itemRows(items: readonly Item[], labelWidth: number, x = LEFT): Row[] {
  const rows: Row[] = [];
  const half = (RIGHT - x) / 2;
  const row = (pair: Item[]) => {
    let lines = 1;
    const cells = pair.flatMap((item, i): Cell[] => {
      const last = i === pair.length - 1;
      const valueWidth = (last ? RIGHT - x - i * half : half) - labelWidth;
      const text = wrapValue(item.value, valueWidth, item.size);
      lines = Math.max(lines, text.length);
      return [
        { width: labelWidth, text: item.label, label: true },
        { ...(last ? {} : { width: valueWidth }), text, ruby: item.ruby ?? null, ...(item.size ? { size: item.size } : {}) },
      ];
    });
    rows.push({ cells, height: rowHeight(lines) + (pair.some((item) => item.ruby) ? RUBY_H : 0) });
  };
  let pending: Item | null = null;
  for (const item of items) {
    if (item.full) {
      if (pending) row([pending]);
      row([item]);
      pending = null;
    } else if (pending) {
      row([pending, item]);
      pending = null;
    } else {
      pending = item;
    }
  }
  if (pending) row([pending]);
  return rows;
}

/** Rows as one block, each row's height times `scale`; from `x` (LEFT by default). */
export function rowsBlock(rows: readonly Row[], scale = 1, x = LEFT): Block {
  return {
    height: rows.reduce((sum, row) => sum + row.height * scale, 0),
    draw(canvas, top) {
      for (const row of rows) {
        tableRow(canvas, top, row.height * scale, row.cells, x);
        top -= row.height * scale;
      }
    },
  };
}

/** `block` followed by `gap` points of space. */
export function withSpaceBelow(block: Block, gap: number): Block {
  return { ...block, height: block.height + gap };
}

/** An address with its 方書 (building, room), which is printed unless the request left it out. */
export function fullAddress(address: string, building: string | null): string {
  return building ? `${address}\u3000${building}` : address;
}
