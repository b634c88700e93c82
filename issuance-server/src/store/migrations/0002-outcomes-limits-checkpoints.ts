import type { Migration } from '../db/sql.ts';

const APPLICATION_STATUSES = `'submitted', 'in_issuance', 'printed', 'cancelled', 'expired', 'outcome_unknown'`;
const ATTEMPT_STATUSES = `'confirmation_pending', 'approved', 'declined', 'expired', 'delivered', 'printed', 'print_failed', 'abandoned', 'outcome_unknown', 'refused'`;
const OPEN_ATTEMPTS = `'confirmation_pending', 'approved', 'delivered'`;
// An attempt whose paper may exist keeps its application as firmly as an open one.
const HOLDING_ATTEMPTS = `'confirmation_pending', 'approved', 'delivered', 'outcome_unknown'`;

/**
 * Issue 7: a delivered document without a result ends `outcome_unknown` (final for the receipt);
 * attempts refused at print time keep their reason; the prerendered document remembers the
 * data it was made from; rate limits and their refusal counts, signed audit checkpoints, server
 * keys and settings live in the database (shared by all nodes, kept across restarts).
 */
export const migration0002OutcomesLimitsCheckpoints: Migration = {
  name: '0002-outcomes-limits-checkpoints',
  sqlite: `
    CREATE TABLE applications_v2 (
      id TEXT PRIMARY KEY,
      receipt_number TEXT NOT NULL UNIQUE,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      certificate_type TEXT NOT NULL,
      options_json TEXT NOT NULL,
      copies INTEGER NOT NULL,
      fee INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN (${APPLICATION_STATUSES})),
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    INSERT INTO applications_v2 SELECT id, receipt_number, resident_id, device_key_sha256, certificate_type, options_json,
      copies, fee, status, created_at, expires_at, updated_at FROM applications;

    CREATE TABLE issuance_attempts_v2 (
      id TEXT PRIMARY KEY,
      request_id TEXT NOT NULL UNIQUE,
      application_id TEXT NOT NULL REFERENCES applications (id),
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      status TEXT NOT NULL CHECK (status IN (${ATTEMPT_STATUSES})),
      created_at INTEGER NOT NULL,
      confirmation_expires_at INTEGER NOT NULL,
      deadline_at INTEGER,
      kiosk_seen_status TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      result_detail TEXT,
      refusal_code TEXT,
      document BLOB,
      document_sha256 TEXT,
      document_input_sha256 TEXT,
      verification_code TEXT,
      delivered_at INTEGER
    );
    INSERT INTO issuance_attempts_v2 (id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at,
        deadline_at, kiosk_seen_status, updated_at, result_detail, document, document_sha256)
      SELECT id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at,
        deadline_at, kiosk_seen_status, updated_at, result_detail, document, document_sha256 FROM issuance_attempts;

    DROP TABLE issuance_attempts;
    DROP TABLE applications;
    ALTER TABLE applications_v2 RENAME TO applications;
    ALTER TABLE issuance_attempts_v2 RENAME TO issuance_attempts;

    CREATE INDEX applications_resident ON applications (resident_id);
    CREATE INDEX applications_device ON applications (device_key_sha256);
    CREATE INDEX applications_open_expiry ON applications (expires_at) WHERE status = 'submitted';
    CREATE UNIQUE INDEX issuance_attempts_one_holding ON issuance_attempts (application_id) WHERE status IN (${HOLDING_ATTEMPTS});
    CREATE INDEX issuance_attempts_deadline ON issuance_attempts (deadline_at) WHERE status IN (${OPEN_ATTEMPTS});
    CREATE INDEX issuance_attempts_application ON issuance_attempts (application_id);

    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO settings (key, value) VALUES ('trust_generation', '1');
    CREATE TABLE rate_buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE rate_refusals (
      key TEXT NOT NULL,
      window_start INTEGER NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (key, window_start)
    );
    CREATE TABLE audit_checkpoints (
      seq INTEGER PRIMARY KEY,
      hash TEXT NOT NULL,
      at TEXT NOT NULL,
      key_id TEXT NOT NULL,
      signature TEXT NOT NULL
    );
    CREATE TABLE server_keys (
      purpose TEXT PRIMARY KEY,
      private_der BLOB NOT NULL,
      public_der BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
  `,
  postgres: `
    ALTER TABLE applications DROP CONSTRAINT applications_status_check;
    ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN (${APPLICATION_STATUSES}));
    ALTER TABLE issuance_attempts DROP CONSTRAINT issuance_attempts_status_check;
    ALTER TABLE issuance_attempts ADD CONSTRAINT issuance_attempts_status_check CHECK (status IN (${ATTEMPT_STATUSES}));
    ALTER TABLE issuance_attempts ADD COLUMN refusal_code TEXT, ADD COLUMN document_input_sha256 TEXT,
      ADD COLUMN verification_code TEXT, ADD COLUMN delivered_at BIGINT;
    DROP INDEX issuance_attempts_one_open;
    CREATE UNIQUE INDEX issuance_attempts_one_holding ON issuance_attempts (application_id) WHERE status IN (${HOLDING_ATTEMPTS});
    CREATE INDEX issuance_attempts_application ON issuance_attempts (application_id);

    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO settings (key, value) VALUES ('trust_generation', '1');
    CREATE TABLE rate_buckets (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, at BIGINT NOT NULL);
    CREATE TABLE rate_refusals (
      key TEXT NOT NULL,
      window_start BIGINT NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (key, window_start)
    );
    CREATE TABLE audit_checkpoints (
      seq BIGINT PRIMARY KEY,
      hash TEXT NOT NULL,
      at TEXT NOT NULL,
      key_id TEXT NOT NULL,
      signature TEXT NOT NULL
    );
    CREATE TABLE server_keys (
      purpose TEXT PRIMARY KEY,
      private_der BYTEA NOT NULL,
      public_der BYTEA NOT NULL,
      created_at BIGINT NOT NULL
    );
  `,
};
