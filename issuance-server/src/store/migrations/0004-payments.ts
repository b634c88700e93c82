import type { Migration } from '../db/sql.ts';

/**
 * Issue 11: the money of each paid issuance attempt, as its kiosk reported it with the result
 * (or the abandon), in integer yen; a refund the kiosk could not pay is owed against its slip
 * code until staff mark it settled.
 */
const paymentsTable = `
    CREATE TABLE payments (
      issuance_id TEXT PRIMARY KEY REFERENCES issuance_attempts (id),
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      outcome TEXT NOT NULL CHECK (outcome IN ('printed', 'failed', 'abandoned')),
      device TEXT NOT NULL,
      due INTEGER NOT NULL CHECK (due >= 0),
      inserted INTEGER NOT NULL CHECK (inserted >= 0),
      change_paid INTEGER NOT NULL CHECK (change_paid >= 0),
      refunded INTEGER NOT NULL CHECK (refunded >= 0),
      refund_owed INTEGER NOT NULL CHECK (refund_owed >= 0),
      collected INTEGER NOT NULL CHECK (collected >= 0),
      slip_code TEXT UNIQUE,
      credits_json TEXT NOT NULL,
      payouts_json TEXT NOT NULL,
      recorded_at BIGINT NOT NULL,
      refund_settled_at BIGINT,
      refund_settled_note TEXT,
      CHECK (inserted = collected + change_paid + refunded + refund_owed)
    );
    CREATE INDEX payments_recorded_at ON payments (recorded_at);
`;

/** Payments and refunds owed. */
export const migration0004Payments: Migration = {
  name: '0004-payments',
  sqlite: paymentsTable,
  postgres: paymentsTable,
};
