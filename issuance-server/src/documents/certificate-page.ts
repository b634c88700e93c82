// What every certificate page carries around its body, and how a body flows down the pages.
// Every page: the title, the copy's own 発行番号 ending in the page as n/N (drawn in the per-copy
// stream, since each copy has its own serial), and a verification band with the QR code, the
// verification code, the subject and the issuance id, so that no page can pass for another
// person's or another job's (domain.md §3.1 item 6; it stands in for the 契印 of a multi-page
// 謄抄本). The last page only: 「以下余白」 under the body, then the 認証文, the date of issue in
// 和暦, the signer and the 公印 or 「公印省略」 (certificates.md §0).
import { grayscale } from '@cantoo/pdf-lib';
import type { CertificateFrame } from './certificate-model.ts';
import { A4, type Canvas, type DocumentLayout } from './document-pdf.ts';
import { DocumentError } from './document-error.ts';
import { wrapText } from './text-wrap.ts';
import { toWareki } from './wareki.ts';

/** A piece of a certificate's body that is never split across pages. */
export interface Block {
  height: number;
  /** Starts a new page (a 世帯連記式 page holds 4 persons). */
  breakBefore?: boolean;
  /** Draws the block with its top at `top`. */
  draw(canvas: Canvas, top: number): void;
}

/** A certificate's body: blocks flowed down the pages. */
export interface CertificateBody {
  blocks: Block[];
  /** x positions of vertical rules drawn through each page's blocks, boxed (a 戸籍's label column). */
  ruled?: number[];
}

const [PAGE_W, PAGE_H] = A4;
/** Left edge of the body (15 mm margin). */
export const LEFT = 42.5;
/** Right edge of the body. */
export const RIGHT = PAGE_W - 42.5;
/** Width of the body. */
export const WIDTH = RIGHT - LEFT;
/** Colour of table rules. */
export const RULE = grayscale(0.15);
/** Width of table rules. */
export const RULE_WIDTH = 0.6;
const ISSUE_NUMBER_BASELINE = PAGE_H - 30;
const TITLE_BASELINE = PAGE_H - 66;
/** Top of the body on every page. */
const CONTENT_TOP = PAGE_H - 88;
const BAND = { bottom: 34, height: 62 };
const CONTENT_BOTTOM = BAND.bottom + BAND.height + 10;
const END_H = 22;
const CLOSING_H = 130;
const CERTIFICATION_SIZE = 11;
const CERTIFICATION_LINES = 3;
const SIGNER_SIZE = 14;
/** Points per millimetre. */
export const MM = 72 / 25.4;
/** Height the body may fill on a page other than the last. */
const PAGE_ROOM = CONTENT_TOP - CONTENT_BOTTOM;
/** Height the body may fill on the last page, above 「以下余白」 and the certifying footer. */
export const LAST_PAGE_ROOM = PAGE_ROOM - END_H - CLOSING_H;

/** The blocks of each page: as many as fit, a new page at a break; a last page with no room for the footer hands its last block on to a page of its own. */
function paginate(blocks: readonly Block[]): Block[][] {
  const pages: Block[][] = [[]];
  let used = 0;
  for (const block of blocks) {
    if (block.height > LAST_PAGE_ROOM) throw new DocumentError('invalid_input', 'a part of the document is too long to print on one page');
    const page = pages.at(-1)!;
    if (page.length > 0 && (block.breakBefore || used + block.height > PAGE_ROOM)) {
      pages.push([block]);
      used = block.height;
    } else {
      page.push(block);
      used += block.height;
    }
  }
  // No room left for the footer: the last block moves on to a last page of its own.
  if (used > LAST_PAGE_ROOM) pages.push([pages.at(-1)!.pop()!]);
  return pages;
}

/** The 発行番号 of a page of a copy (STD-1040): date, municipality, terminal, the copy's serial, page/pages. */
function issueNumberText(frame: CertificateFrame, copy: number, page: number, pages: number): string {
  const { date, terminal, firstSerial } = frame.issueNumber;
  return `発行番号 ${date} ${frame.municipality.name} ${terminal} ${String(firstSerial + copy - 1).padStart(6, '0')} ${page}/${pages}`;
}

function drawTitle(canvas: Canvas, frame: CertificateFrame): void {
  const titleW = canvas.width(frame.title, 18);
  const gap = frame.subtitle ? 8 : 0;
  const subtitleW = frame.subtitle ? canvas.width(frame.subtitle, 11) : 0;
  const x = (PAGE_W - titleW - gap - subtitleW) / 2;
  canvas.text(frame.title, x, TITLE_BASELINE, 18);
  if (frame.subtitle) canvas.text(frame.subtitle, x + titleW + gap, TITLE_BASELINE, 11);
}

function drawBand(canvas: Canvas, frame: CertificateFrame): void {
  const { bottom, height } = BAND;
  const top = bottom + height;
  canvas.rect({ x: LEFT, y: bottom, width: WIDTH, height, borderColor: RULE, borderWidth: RULE_WIDTH });
  const qr = height - 6;
  canvas.qr(frame.verificationUrl, LEFT + 3, bottom + 3, qr);
  const x = LEFT + qr + 12;
  const maxWidth = RIGHT - x - 6;
  canvas.text('検証コード', x, top - 16, 8);
  canvas.text(frame.verificationCode, x + 48, top - 17, 12);
  canvas.text(frame.verificationUrl, x, top - 29, 7.5, { maxWidth });
  canvas.text(`対象者 ${frame.subject}\u3000\u3000発行ID ${frame.issuanceId}`, x, top - 42, 8, { maxWidth });
  canvas.text('この証明書は、上記のURL(QRコード)で検証コードにより真正性を確認できます(個人情報は表示されません)。', x, top - 54, 6.5, { maxWidth });
}

/** The 認証文, the date and the signer with the 公印 overlapping the end of the name, as a stamp would. */
function drawClosing(canvas: Canvas, frame: CertificateFrame, certification: string[], issued: string): void {
  let y = CONTENT_BOTTOM + CLOSING_H - 18;
  for (const line of certification) {
    canvas.text(line, LEFT + CERTIFICATION_SIZE, y, CERTIFICATION_SIZE);
    y -= CERTIFICATION_SIZE + 4;
  }
  canvas.text(issued, LEFT + 2 * CERTIFICATION_SIZE, y - 6, CERTIFICATION_SIZE);
  const signer = `${frame.signer.title}\u3000${frame.signer.name}`;
  const baseline = CONTENT_BOTTOM + 36;
  const seal = frame.officialSeal;
  if (seal) {
    const side = seal.sizeMm * MM;
    // The seal covers about the last character of the name.
    const textRight = RIGHT - side + SIGNER_SIZE;
    canvas.text(signer, textRight, baseline, SIGNER_SIZE, { align: 'right' });
    canvas.image(seal.png, textRight - SIGNER_SIZE * 1.5, baseline + SIGNER_SIZE * 0.36 - side / 2, side, side);
  } else {
    canvas.text('公印省略', RIGHT, baseline, 9, { align: 'right' });
    canvas.text(signer, RIGHT - canvas.width('公印省略', 9) - 10, baseline, SIGNER_SIZE, { align: 'right' });
  }
}

function drawRules(canvas: Canvas, xs: readonly number[], top: number, bottom: number): void {
  canvas.rect({ x: LEFT, y: bottom, width: WIDTH, height: top - bottom, borderColor: RULE, borderWidth: RULE_WIDTH });
  for (const x of xs) canvas.rect({ x: x - RULE_WIDTH / 2, y: bottom, width: RULE_WIDTH, height: top - bottom, color: RULE });
}

/** A certificate document: `body` flowed down A4 pages inside what every page carries; DocumentError invalid_input for what cannot be printed. */
export function certificateLayout(frame: CertificateFrame, body: CertificateBody): DocumentLayout {
  const pages = paginate(body.blocks);
  const certification = wrapText(frame.certification, Math.floor((WIDTH - CERTIFICATION_SIZE) / CERTIFICATION_SIZE));
  if (certification.length > CERTIFICATION_LINES) throw new DocumentError('invalid_input', `the certification sentence is longer than ${CERTIFICATION_LINES} lines`);
  // Once per document: Intl's time-zone formatting is the slowest step of a page.
  const issued = toWareki(frame.issuedAt, frame.eras);
  return {
    title: frame.title,
    author: frame.municipality.name,
    issuedAt: frame.issuedAt,
    pageCount: pages.length,
    copies: frame.copies,
    drawPage(canvas, pageIndex) {
      drawTitle(canvas, frame);
      let top = CONTENT_TOP;
      for (const block of pages[pageIndex]!) {
        block.draw(canvas, top);
        top -= block.height;
      }
      if (body.ruled && top < CONTENT_TOP) drawRules(canvas, body.ruled, CONTENT_TOP, top);
      if (pageIndex === pages.length - 1) {
        canvas.text('以下余白', RIGHT - 10, top - 15, 10, { align: 'right' });
        drawClosing(canvas, frame, certification, issued);
      }
      drawBand(canvas, frame);
    },
    drawCopyMark(canvas, pageIndex, copy) {
      canvas.text(issueNumberText(frame, copy, pageIndex + 1, pages.length), RIGHT, ISSUE_NUMBER_BASELINE, 8.5, { align: 'right', maxWidth: WIDTH });
    },
  };
}
