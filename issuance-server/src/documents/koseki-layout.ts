// 戸籍全部事項証明書 and 個人事項証明書 in the computerised 横書き form (付録第22号様式, laid out as in
// certificates.md §4): 本籍 and 筆頭者, the 戸籍事項, then each person recorded (all of them, or
// the persons chosen) with a 除籍 mark when they have left, their particulars and their 身分事項
// as 【label】value lines. Every line is a block of its own, so that a long 戸籍 flows across pages
// without a line ever being cut; a person's particulars stay together.
import type { KosekiBody } from './certificate-model.ts';
import { LEFT, RIGHT, RULE, type Block, type CertificateBody } from './certificate-page.ts';
import type { Canvas } from './document-pdf.ts';
import { hrule } from './layout-kit.ts';
import { wrapText } from './text-wrap.ts';
import { toSeireki, toWareki, type EraEntry } from './wareki.ts';

type Person = KosekiBody['persons'][number];
type Event = KosekiBody['kosekiEvents'][number];

const LABEL_COL = LEFT + 84;
const TYPE_X = LABEL_COL + 8;
const CONTENT_X = LABEL_COL + 68;
const SIZE = 10;
const LINE_H = 15;
const PAD = 4;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The 身分事項 fields that state a date of birth, which a foreign national's certificate gives in 西暦 (STD-90). */
const BIRTH_LABELS = new Set(['生年月日', '出生日']);

/** Two-character labels are spaced out to the width of three with an ideographic space, as the form prints 出生. */
function spaced(label: string): string {
  return [...label].length === 2 ? [...label].join('　') : label;
}

/** Baseline of a line whose top is `top`. */
const BASELINE = 11;

/** Baseline of line `line` of a block that starts PAD below `top`. */
function baselineOf(top: number, line: number): number {
  return top - PAD - line * LINE_H - BASELINE;
}

/** One block per printed line of `texts`, wrapped to fit from `x` to RIGHT; `label` drawn beside the first. */
function lineBlocks(texts: readonly string[], x: number, label: (canvas: Canvas, top: number) => void): Block[] {
  const ems = Math.floor((RIGHT - x - 6) / SIZE);
  return texts
    .flatMap((text) => wrapText(text, ems))
    .map((line, i) => ({
      height: LINE_H,
      draw(canvas, top) {
        canvas.text(line, x, top - BASELINE, SIZE, { maxWidth: RIGHT - x - 4 });
        if (i === 0) label(canvas, top);
      },
    }));
}

/** A label in the left column, on the line with baseline `baseline`. */
function labelText(canvas: Canvas, text: string, baseline: number): void {
  canvas.text(text, (LEFT + LABEL_COL) / 2, baseline, 9, { align: 'center', maxWidth: LABEL_COL - LEFT - 6 });
}

/** A section's lines: each event's type beside its first line, the section label beside the first of all. */
function eventBlocks(sectionLabel: string, events: readonly Event[], value: (label: string, text: string) => string): Block[] {
  const blocks = events.flatMap((event) => {
    const fields = event.fields.length > 0 ? event.fields.map(([label, text]) => `【${label}】${value(label, text)}`) : [''];
    return lineBlocks(fields, CONTENT_X, (canvas, top) => canvas.text(spaced(event.type), TYPE_X, top - BASELINE, SIZE));
  });
  const first = blocks[0];
  if (first) {
    blocks[0] = {
      height: first.height + PAD,
      draw(canvas, top) {
        hrule(canvas, LEFT, RIGHT, top);
        labelText(canvas, sectionLabel, baselineOf(top, 0));
        first.draw(canvas, top - PAD);
      },
    };
  }
  return blocks;
}

function headerBlock(body: KosekiBody): Block {
  const ems = Math.floor((RIGHT - TYPE_X - 6) / SIZE);
  const rows = [
    { label: '本　籍', lines: wrapText(body.honseki, ems) },
    { label: '氏　名', lines: wrapText(body.headName, ems) },
  ];
  const heightOf = (lines: string[]) => lines.length * LINE_H + 2 * PAD;
  return {
    height: rows.reduce((sum, row) => sum + heightOf(row.lines), 0),
    draw(canvas, top) {
      for (const { label, lines } of rows) {
        labelText(canvas, label, baselineOf(top, 0));
        lines.forEach((line, i) => canvas.text(line, TYPE_X, baselineOf(top, i), SIZE));
        top -= heightOf(lines);
        hrule(canvas, LEFT, RIGHT, top);
      }
    },
  };
}

/** A person's particulars: 【名】, readings, date of birth, parents, 続柄, with the 除籍 mark beside them. */
function personBlock(person: Person, eras: readonly EraEntry[]): Block {
  const birth = person.foreign ? toSeireki(person.birthDate) : toWareki(person.birthDate, eras);
  const lines = [`【名】${person.givenName}`];
  if (person.surnameKana) lines.push(`【氏の振り仮名】${person.surnameKana}`);
  if (person.givenNameKana) lines.push(`【名の振り仮名】${person.givenNameKana}`);
  lines.push(`【生年月日】${birth}${person.spouseRole ? `\u3000\u3000【配偶者区分】${person.spouseRole}` : ''}`);
  if (person.father) lines.push(`【父】${person.father}`);
  if (person.mother) lines.push(`【母】${person.mother}`);
  lines.push(`【続柄】${person.relationship}`);
  if (person.adoptiveFather) lines.push(`【養父】${person.adoptiveFather}`);
  if (person.adoptiveMother) lines.push(`【養母】${person.adoptiveMother}`);
  if (person.adoptiveRelationship) lines.push(`【続柄】${person.adoptiveRelationship}`);
  const wrapped = lines.flatMap((line) => wrapText(line, Math.floor((RIGHT - TYPE_X - 6) / SIZE)));
  // The label takes two lines and the 除籍 box two more.
  const count = Math.max(wrapped.length, person.removed ? 4 : 2);
  return {
    height: count * LINE_H + 2 * PAD,
    draw(canvas, top) {
      hrule(canvas, LEFT, RIGHT, top);
      labelText(canvas, '戸籍に記録され', baselineOf(top, 0));
      labelText(canvas, 'ている者', baselineOf(top, 1));
      if (person.removed) {
        // A boxed 除籍 on the third line, as the form marks a person who has left.
        const boxTop = top - PAD - 2 * LINE_H - 2;
        canvas.rect({ x: LEFT + 14, y: boxTop - LINE_H - 4, width: LABEL_COL - LEFT - 28, height: LINE_H + 4, borderColor: RULE, borderWidth: 0.8 });
        canvas.text('除　籍', (LEFT + LABEL_COL) / 2, boxTop - BASELINE - 2, SIZE, { align: 'center' });
      }
      wrapped.forEach((line, i) => canvas.text(line, TYPE_X, baselineOf(top, i), SIZE));
    },
  };
}

/** The body of a 戸籍全部事項証明書 or 個人事項証明書 (which persons it holds is the request's). */
export function kosekiBody(body: KosekiBody, eras: readonly EraEntry[]): CertificateBody {
  const date = (text: string) => (ISO_DATE.test(text) ? toWareki(text, eras) : text);
  const blocks: Block[] = [headerBlock(body), ...eventBlocks('戸籍事項', body.kosekiEvents, (_label, text) => date(text))];
  for (const person of body.persons) {
    blocks.push(personBlock(person, eras));
    blocks.push(...eventBlocks('身分事項', person.events, (label, text) => (person.foreign && BIRTH_LABELS.has(label) && ISO_DATE.test(text) ? toSeireki(text) : date(text))));
  }
  return { blocks, ruled: [LABEL_COL] };
}
