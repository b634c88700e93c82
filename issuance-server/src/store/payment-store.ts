import type { DenominationCounts, PaymentReport } from '@cert/common';
import type { SqlExecutor } from './db/sql.ts';

/** How the attempt of a payment ended. */
export type PaymentOutcome = 'printed' | 'failed' | 'abandoned';

/** A recorded payment. */
export interface PaymentRecord {
  issuanceId: string;
  kioskId: string;
  outcome: PaymentOutcome;
  report: PaymentReport;
  collected: number;
  recordedAt: number;
  refundSettledAt: number | null;
  refundSettledNote: string | null;
}

/** A payment with what the settlement report groups it by. */
export interface PaymentLine extends PaymentRecord {
  certificateType: string;
  kioskName: string;
  kioskLocation: string;
}

/** A printed issuance for the settlement report. */
export interface PrintedLine {
  issuanceId: string;
  kioskId: string;
  kioskName: string;
  kioskLocation: string;
  certificateType: string;
  copies: number;
  fee: number;
  printedAt: number;
}

interface PaymentRow {
  issuance_id: string;
  kiosk_id: string;
  outcome: PaymentOutcome;
  device: string;
  due: number;
  inserted: number;
  change_paid: number;
  refunded: number;
  refund_owed: number;
  collected: number;
  slip_code: string | null;
  credits_json: string;
  payouts_json: string;
  recorded_at: number | string;
  refund_settled_at: number | string | null;
  refund_settled_note: string | null;
}

const COLUMNS = `p.issuance_id, p.kiosk_id, p.outcome, p.device, p.due, p.inserted, p.change_paid, p.refunded, p.refund_owed, p.collected,
  p.slip_code, p.credits_json, p.payouts_json, p.recorded_at, p.refund_settled_at, p.refund_settled_note`;

function fromRow(r: PaymentRow): PaymentRecord {
  return {
    issuanceId: r.issuance_id,
    kioskId: r.kiosk_id,
    outcome: r.outcome,
    report: {
      device: r.device,
      due: Number(r.due),
      inserted: Number(r.inserted),
      change: Number(r.change_paid),
      refunded: Number(r.refunded),
      refundOwed: Number(r.refund_owed),
      ...(r.slip_code ? { slipCode: r.slip_code } : {}),
      credits: JSON.parse(r.credits_json) as DenominationCounts,
      payouts: JSON.parse(r.payouts_json) as DenominationCounts,
    },
    collected: Number(r.collected),
    recordedAt: Number(r.recorded_at),
    refundSettledAt: r.refund_settled_at === null ? null : Number(r.refund_settled_at),
    refundSettledNote: r.refund_settled_note,
  };
}

/** Payments as kiosks reported them, and the refunds owed. */
export class PaymentStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Records a payment once; false when the attempt already has one (a retried report) or its slip code is taken. */
  async insert(p: Omit<PaymentRecord, 'refundSettledAt' | 'refundSettledNote'>): Promise<boolean> {
    const r = p.report;
    // No conflict target: a slip code another attempt holds is the caller's to refuse, not a constraint error.
    const res = await this.sql.run(
      `INSERT INTO payments (issuance_id, kiosk_id, outcome, device, due, inserted, change_paid, refunded, refund_owed, collected, slip_code,
         credits_json, payouts_json, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [p.issuanceId, p.kioskId, p.outcome, r.device, r.due, r.inserted, r.change, r.refunded, r.refundOwed, p.collected, r.slipCode ?? null, JSON.stringify(r.credits), JSON.stringify(r.payouts), p.recordedAt],
    );
    return res.changes === 1;
  }

  /** The payment of an attempt. */
  async get(issuanceId: string): Promise<PaymentRecord | null> {
    const r = await this.sql.get<PaymentRow>(`SELECT ${COLUMNS} FROM payments p WHERE p.issuance_id = ?`, [issuanceId]);
    return r ? fromRow(r) : null;
  }

  /** The payment of a refund slip, locked for a change. */
  async bySlip(slipCode: string): Promise<PaymentRecord | null> {
    const r = await this.sql.get<PaymentRow>(`SELECT ${COLUMNS} FROM payments p WHERE p.slip_code = ? ${this.sql.forUpdate}`, [slipCode]);
    return r ? fromRow(r) : null;
  }

  /** Marks an owed refund paid by the store; false when it was already settled. */
  async settleRefund(slipCode: string, now: number, note: string | null): Promise<boolean> {
    const r = await this.sql.run('UPDATE payments SET refund_settled_at = ?, refund_settled_note = ? WHERE slip_code = ? AND refund_owed > 0 AND refund_settled_at IS NULL', [now, note, slipCode]);
    return r.changes === 1;
  }

  /** Refunds owed (all, or only those not settled yet), oldest first. */
  async refundsOwed(openOnly: boolean): Promise<PaymentLine[]> {
    return this.lines(`p.refund_owed > 0${openOnly ? ' AND p.refund_settled_at IS NULL' : ''}`, []);
  }

  /** Payments recorded in [from, to), optionally of one kiosk. */
  async recordedBetween(from: number, to: number, kioskId: string | null): Promise<PaymentLine[]> {
    return this.lines(`p.recorded_at >= ? AND p.recorded_at < ?${kioskId ? ' AND p.kiosk_id = ?' : ''}`, kioskId ? [from, to, kioskId] : [from, to]);
  }

  private async lines(where: string, params: unknown[]): Promise<PaymentLine[]> {
    const rows = await this.sql.all<PaymentRow & { certificate_type: string; kiosk_name: string; kiosk_location: string }>(
      `SELECT ${COLUMNS}, a.certificate_type, k.name AS kiosk_name, k.location AS kiosk_location
         FROM payments p JOIN issuance_attempts t ON t.id = p.issuance_id JOIN applications a ON a.id = t.application_id JOIN kiosks k ON k.id = p.kiosk_id
        WHERE ${where} ORDER BY p.recorded_at, p.issuance_id`,
      params,
    );
    return rows.map((r) => ({ ...fromRow(r), certificateType: r.certificate_type, kioskName: r.kiosk_name, kioskLocation: r.kiosk_location }));
  }

  /** Attempts printed in [from, to) (by when they became printed), optionally of one kiosk. */
  async printedBetween(from: number, to: number, kioskId: string | null): Promise<PrintedLine[]> {
    const rows = await this.sql.all<{ id: string; kiosk_id: string; name: string; location: string; certificate_type: string; copies: number; fee: number; updated_at: number | string }>(
      `SELECT t.id, t.kiosk_id, k.name, k.location, a.certificate_type, a.copies, a.fee, t.updated_at
         FROM issuance_attempts t JOIN applications a ON a.id = t.application_id JOIN kiosks k ON k.id = t.kiosk_id
        WHERE t.status = 'printed' AND t.updated_at >= ? AND t.updated_at < ?${kioskId ? ' AND t.kiosk_id = ?' : ''} ORDER BY t.updated_at`,
      kioskId ? [from, to, kioskId] : [from, to],
    );
    return rows.map((r) => ({
      issuanceId: r.id,
      kioskId: r.kiosk_id,
      kioskName: r.name,
      kioskLocation: r.location,
      certificateType: r.certificate_type,
      copies: Number(r.copies),
      fee: Number(r.fee),
      printedAt: Number(r.updated_at),
    }));
  }
}
