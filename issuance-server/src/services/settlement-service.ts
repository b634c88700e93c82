// Settlement (issue 11): what each store's kiosks issued and took in a period, for the
// municipality to pay the stores and reconcile the fees to the yen: issuances, copies, the fees
// due by the catalogue, the fees collected, refunds paid back and refunds owed (open or settled
// by the store), by store, kiosk and certificate type. As CSV, and as a one-page PDF per store
// drawn with the certificates' own PDF machinery (IPAmj font).
import { grayscale } from '@cantoo/pdf-lib';
import type { CertificateType } from '@cert/common';
import type { Canvas, CertificateFont, DocumentLayout } from '../documents/index.ts';
import { renderPdf } from '../documents/document-pdf.ts';
import { toIsoDateJst } from '../documents/wareki.ts';
import type { PaymentLine } from '../store/payment-store.ts';
import type { Store } from '../store/store.ts';
import { TYPE_DEFINITIONS } from './catalog.ts';
import { ServiceError } from './service-error.ts';

/** One line of the report: a kiosk and a certificate type. Money in integer yen. */
export interface SettlementRow {
  store: string;
  kioskId: string;
  location: string;
  certificateType: string;
  issuances: number;
  copies: number;
  /** The catalogue fees of the issuances printed (what a paid kiosk should have collected). */
  feesDue: number;
  feesCollected: number;
  refundsPaid: number;
  /** Owed to residents against a slip code (change or refund the kiosk could not pay). */
  refundsOwed: number;
  /** Of {@link refundsOwed}, what the store has paid and staff marked settled. */
  refundsOwedSettled: number;
}

/** The report of a period [from, to), optionally of one kiosk. */
export interface SettlementReport {
  from: number;
  to: number;
  kioskId: string | null;
  generatedAt: number;
  rows: SettlementRow[];
}

/** The money columns and counts a report sums. */
const SUMMED = ['issuances', 'copies', 'feesDue', 'feesCollected', 'refundsPaid', 'refundsOwed', 'refundsOwedSettled'] as const;

/** The totals of some rows. */
export function settlementTotals(rows: readonly SettlementRow[]): Pick<SettlementRow, (typeof SUMMED)[number]> {
  const t = { issuances: 0, copies: 0, feesDue: 0, feesCollected: 0, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 };
  for (const r of rows) for (const k of SUMMED) t[k] += r[k];
  return t;
}

const typeName = (t: string) => TYPE_DEFINITIONS[t as CertificateType]?.name.ja ?? t;

/** The settlement report and the refunds owed. */
export class SettlementService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  /** The report of [from, to): issuances by when they printed, money by when it was reported. */
  async report(from: number, to: number, kioskId: string | null): Promise<SettlementReport> {
    if (!(from < to)) throw new ServiceError('invalid_request', 'the period is empty: --from must be before --to');
    return this.store.read(async (tx) => {
      if (kioskId && !(await tx.kiosks.get(kioskId))) throw new ServiceError('not_found', `no kiosk ${kioskId}`);
      const rows = new Map<string, SettlementRow>();
      const row = (l: { kioskId: string; kioskName: string; kioskLocation: string; certificateType: string }) => {
        const key = `${l.kioskId}\u0000${l.certificateType}`;
        let r = rows.get(key);
        if (!r) {
          r = { store: l.kioskName, kioskId: l.kioskId, location: l.kioskLocation, certificateType: l.certificateType, issuances: 0, copies: 0, feesDue: 0, feesCollected: 0, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 };
          rows.set(key, r);
        }
        return r;
      };
      for (const p of await tx.payments.printedBetween(from, to, kioskId)) {
        const r = row(p);
        r.issuances++;
        r.copies += p.copies;
        r.feesDue += p.fee;
      }
      for (const p of await tx.payments.recordedBetween(from, to, kioskId)) {
        const r = row(p);
        r.feesCollected += p.collected;
        r.refundsPaid += p.report.refunded;
        r.refundsOwed += p.report.refundOwed;
        if (p.refundSettledAt !== null) r.refundsOwedSettled += p.report.refundOwed;
      }
      const sorted = [...rows.values()].sort((a, b) => a.store.localeCompare(b.store) || a.kioskId.localeCompare(b.kioskId) || a.certificateType.localeCompare(b.certificateType));
      return { from, to, kioskId, generatedAt: this.clock(), rows: sorted };
    });
  }

  /** Refunds owed: open ones, or all. */
  refunds(openOnly: boolean): Promise<PaymentLine[]> {
    return this.store.read((tx) => tx.payments.refundsOwed(openOnly));
  }

  /** The store paid the resident what the kiosk owed against `slipCode` (audited). */
  async settleRefund(slipCode: string, note: string | null): Promise<PaymentLine> {
    const now = this.clock();
    await this.store.write(async (tx) => {
      const p = await tx.payments.bySlip(slipCode);
      if (!p || p.report.refundOwed === 0) throw new ServiceError('not_found', `no refund owed with slip ${slipCode}`);
      if (!(await tx.payments.settleRefund(slipCode, now, note))) throw new ServiceError('invalid_state', `the refund of slip ${slipCode} was already settled`);
      tx.audit({ actor: 'admin', event: 'admin.refund.settle', subject: p.issuanceId, details: { slipCode, yen: p.report.refundOwed, ...(note ? { note } : {}) } }, now);
    });
    return (await this.refunds(false)).find((l) => l.report.slipCode === slipCode)!;
  }
}

const csvField = (v: string | number) => (typeof v === 'number' || !/[",\r\n]/.test(v) ? String(v) : `"${v.replace(/"/g, '""')}"`);

/** The report as CSV (UTF-8, a header line, one line per kiosk and certificate type, then a TOTAL line). */
export function settlementCsv(r: SettlementReport): string {
  const header = ['period_from', 'period_to', 'store', 'kiosk_id', 'location', 'certificate_type', 'certificate_name', 'issuances', 'copies', 'fees_due_yen', 'fees_collected_yen', 'refunds_paid_yen', 'refunds_owed_yen', 'refunds_owed_settled_yen'];
  const period = [new Date(r.from).toISOString(), new Date(r.to).toISOString()];
  const line = (cells: (string | number)[]) => cells.map(csvField).join(',');
  const t = settlementTotals(r.rows);
  return [
    line(header),
    ...r.rows.map((x) => line([...period, x.store, x.kioskId, x.location, x.certificateType, typeName(x.certificateType), ...SUMMED.map((k) => x[k])])),
    line([...period, 'TOTAL', r.kioskId ?? '', '', '', '', ...SUMMED.map((k) => t[k])]),
  ].join('\r\n') + '\r\n';
}

const yen = (n: number) => `¥${n.toLocaleString('ja-JP')}`;
const COLUMNS: { title: string; width: number; value: (x: SettlementRow) => string; right?: boolean }[] = [
  { title: '端末', width: 80, value: (x) => x.kioskId.slice(0, 10) },
  { title: '証明書', width: 118, value: (x) => typeName(x.certificateType) },
  { title: '交付件数', width: 44, value: (x) => String(x.issuances), right: true },
  { title: '通数', width: 34, value: (x) => String(x.copies), right: true },
  { title: '手数料(定額)', width: 60, value: (x) => yen(x.feesDue), right: true },
  { title: '手数料(収納)', width: 60, value: (x) => yen(x.feesCollected), right: true },
  { title: '返金済', width: 50, value: (x) => yen(x.refundsPaid), right: true },
  { title: '返金未済', width: 50, value: (x) => yen(x.refundsOwed - x.refundsOwedSettled), right: true },
];
const ROWS_PER_PAGE = 28;
const HEADER_SHADE = grayscale(0.9);

/** One store's page: header, period, the table by kiosk and certificate type, totals. */
function storeLayout(r: SettlementReport, store: string, rows: SettlementRow[]): DocumentLayout {
  const left = 40;
  const lastDay = toIsoDateJst(new Date(r.to - 1));
  return {
    title: `精算書 ${store} ${toIsoDateJst(new Date(r.from))}〜${lastDay}`,
    author: 'issuance-server',
    issuedAt: new Date(r.generatedAt),
    pageCount: 1,
    copies: 1,
    drawCopyMark: () => {},
    drawPage(c: Canvas) {
      c.text('証明書コンビニ交付 手数料精算書', 297.5, 790, 18, { align: 'center' });
      c.text(`店舗: ${store}`, left, 750, 12);
      c.text(`所在地: ${[...new Set(rows.map((x) => x.location))].join(' / ')}`, left, 732, 10, { maxWidth: 515 });
      c.text(`対象期間: ${toIsoDateJst(new Date(r.from))} 〜 ${lastDay}(日本時間)`, left, 714, 10);
      c.text(`作成日時: ${new Date(r.generatedAt).toISOString()}`, left, 698, 8);
      let y = 670;
      const drawRow = (cells: string[], bold: boolean) => {
        let x = left;
        if (bold) c.rect({ x: left - 2, y: y - 5, width: 500, height: 16, color: HEADER_SHADE });
        cells.forEach((cell, i) => {
          const col = COLUMNS[i]!;
          c.text(cell, col.right ? x + col.width - 4 : x, y, 8.5, { maxWidth: col.width - 4, ...(col.right ? { align: 'right' as const } : {}) });
          x += col.width;
        });
        y -= 18;
      };
      drawRow(COLUMNS.map((col) => col.title), true);
      const shown = rows.slice(0, ROWS_PER_PAGE);
      for (const x of shown) drawRow(COLUMNS.map((col) => col.value(x)), false);
      if (rows.length > shown.length) {
        c.text(`(ほか ${rows.length - shown.length} 行は CSV を参照)`, left, y, 8);
        y -= 18;
      }
      const t = settlementTotals(rows);
      drawRow(['合計', '', String(t.issuances), String(t.copies), yen(t.feesDue), yen(t.feesCollected), yen(t.refundsPaid), yen(t.refundsOwed - t.refundsOwedSettled)], true);
      y -= 10;
      c.text(`返金未済は返金票コードにより店舗が利用者に支払う額(うち精算済 ${yen(t.refundsOwedSettled)} を除く)。金額はすべて円(整数)。`, left, y, 8, { maxWidth: 515 });
      c.text(`収納手数料(自治体へ納付): ${yen(t.feesCollected)}    交付件数(委託料の算定基礎): ${t.issuances}件 ${t.copies}通`, left, y - 24, 11, { maxWidth: 515 });
      c.text('返金未済の額は端末の金庫に残っています。店舗が返金票コードで利用者に支払い、精算済みとして登録します。', left, y - 42, 8, { maxWidth: 515 });
    },
  };
}

/** One one-page PDF per store of the report (stores without a line get none). */
export async function settlementPdfs(r: SettlementReport, font: CertificateFont): Promise<{ store: string; pdf: Uint8Array }[]> {
  const stores = [...new Set(r.rows.map((x) => x.store))];
  const out: { store: string; pdf: Uint8Array }[] = [];
  for (const store of stores) out.push({ store, pdf: await renderPdf(storeLayout(r, store, r.rows.filter((x) => x.store === store)), font) });
  return out;
}
