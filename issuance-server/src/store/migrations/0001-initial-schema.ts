import type { Migration } from '../db/sql.ts';

/** Residents, trust, kiosks, applications, issuance attempts and the audit log. */
export const migration0001InitialSchema: Migration = {
  name: '0001-initial-schema',
  sqlite: `
    CREATE TABLE municipality (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      code TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );

    CREATE TABLE residents (
      id TEXT PRIMARY KEY,
      household_id TEXT NOT NULL,
      name TEXT NOT NULL,
      name_kana TEXT NOT NULL,
      birth_date TEXT NOT NULL,
      sex TEXT NOT NULL CHECK (sex IN ('1', '2', '9')),
      address TEXT NOT NULL,
      relationship_to_head TEXT NOT NULL,
      domicile TEXT,
      domicile_head TEXT,
      status TEXT NOT NULL CHECK (status IN ('active', 'moved_out', 'deceased')),
      support_measure INTEGER NOT NULL CHECK (support_measure IN (0, 1)),
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX residents_household ON residents (household_id);

    CREATE TABLE trust_anchors (
      sha256 TEXT PRIMARY KEY,
      subject TEXT NOT NULL,
      der BLOB NOT NULL,
      not_after INTEGER NOT NULL,
      added_at INTEGER NOT NULL
    );

    CREATE TABLE crls (
      anchor_sha256 TEXT PRIMARY KEY REFERENCES trust_anchors (sha256),
      this_update INTEGER NOT NULL,
      next_update INTEGER,
      der BLOB NOT NULL,
      imported_at INTEGER NOT NULL
    );
    CREATE TABLE revoked_serials (
      anchor_sha256 TEXT NOT NULL REFERENCES crls (anchor_sha256) ON DELETE CASCADE,
      serial TEXT NOT NULL,
      PRIMARY KEY (anchor_sha256, serial)
    );

    CREATE TABLE card_links (
      certificate_sha256 TEXT PRIMARY KEY,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      subject TEXT NOT NULL,
      serial TEXT NOT NULL,
      not_after INTEGER NOT NULL,
      linked_at INTEGER NOT NULL
    );
    CREATE INDEX card_links_resident ON card_links (resident_id);

    CREATE TABLE challenges (
      id TEXT PRIMARY KEY,
      nonce TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      used_at INTEGER
    );

    CREATE TABLE devices (
      key_sha256 TEXT PRIMARY KEY,
      public_key_der BLOB NOT NULL,
      registered_at INTEGER NOT NULL
    );

    CREATE TABLE sessions (
      token_sha256 TEXT PRIMARY KEY,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );

    CREATE TABLE kiosks (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      location TEXT NOT NULL,
      credential_sha256 TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );

    CREATE TABLE applications (
      id TEXT PRIMARY KEY,
      receipt_number TEXT NOT NULL UNIQUE,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      certificate_type TEXT NOT NULL,
      options_json TEXT NOT NULL,
      copies INTEGER NOT NULL,
      fee INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('submitted', 'in_issuance', 'printed', 'cancelled', 'expired')),
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX applications_resident ON applications (resident_id);
    CREATE INDEX applications_device ON applications (device_key_sha256);
    CREATE INDEX applications_open_expiry ON applications (expires_at) WHERE status = 'submitted';

    CREATE TABLE issuance_attempts (
      id TEXT PRIMARY KEY,
      request_id TEXT NOT NULL UNIQUE,
      application_id TEXT NOT NULL REFERENCES applications (id),
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      status TEXT NOT NULL CHECK (status IN ('confirmation_pending', 'approved', 'declined', 'expired',
        'delivered', 'printed', 'print_failed', 'abandoned')),
      created_at INTEGER NOT NULL,
      confirmation_expires_at INTEGER NOT NULL,
      deadline_at INTEGER,
      kiosk_seen_status TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      result_detail TEXT,
      document BLOB,
      document_sha256 TEXT
    );
    -- At most one open attempt per application, whatever the code above does.
    CREATE UNIQUE INDEX issuance_attempts_one_open ON issuance_attempts (application_id)
      WHERE status IN ('confirmation_pending', 'approved', 'delivered');
    CREATE INDEX issuance_attempts_deadline ON issuance_attempts (deadline_at)
      WHERE status IN ('confirmation_pending', 'approved', 'delivered');

    CREATE TABLE issued_documents (
      verification_code TEXT PRIMARY KEY,
      attempt_id TEXT NOT NULL UNIQUE REFERENCES issuance_attempts (id),
      certificate_type TEXT NOT NULL,
      issued_at INTEGER NOT NULL,
      document_sha256 TEXT NOT NULL
    );

    CREATE TABLE audit_log (
      seq INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      actor TEXT NOT NULL,
      event TEXT NOT NULL,
      subject TEXT,
      details TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
  `,
  postgres: `
    CREATE TABLE municipality (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      code TEXT NOT NULL,
      name TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );

    CREATE TABLE residents (
      id TEXT PRIMARY KEY,
      household_id TEXT NOT NULL,
      name TEXT NOT NULL,
      name_kana TEXT NOT NULL,
      birth_date TEXT NOT NULL,
      sex TEXT NOT NULL CHECK (sex IN ('1', '2', '9')),
      address TEXT NOT NULL,
      relationship_to_head TEXT NOT NULL,
      domicile TEXT,
      domicile_head TEXT,
      status TEXT NOT NULL CHECK (status IN ('active', 'moved_out', 'deceased')),
      support_measure INTEGER NOT NULL CHECK (support_measure IN (0, 1)),
      updated_at BIGINT NOT NULL
    );
    CREATE INDEX residents_household ON residents (household_id);

    CREATE TABLE trust_anchors (
      sha256 TEXT PRIMARY KEY,
      subject TEXT NOT NULL,
      der BYTEA NOT NULL,
      not_after BIGINT NOT NULL,
      added_at BIGINT NOT NULL
    );

    CREATE TABLE crls (
      anchor_sha256 TEXT PRIMARY KEY REFERENCES trust_anchors (sha256),
      this_update BIGINT NOT NULL,
      next_update BIGINT,
      der BYTEA NOT NULL,
      imported_at BIGINT NOT NULL
    );
    CREATE TABLE revoked_serials (
      anchor_sha256 TEXT NOT NULL REFERENCES crls (anchor_sha256) ON DELETE CASCADE,
      serial TEXT NOT NULL,
      PRIMARY KEY (anchor_sha256, serial)
    );

    CREATE TABLE card_links (
      certificate_sha256 TEXT PRIMARY KEY,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      subject TEXT NOT NULL,
      serial TEXT NOT NULL,
      not_after BIGINT NOT NULL,
      linked_at BIGINT NOT NULL
    );
    CREATE INDEX card_links_resident ON card_links (resident_id);

    CREATE TABLE challenges (
      id TEXT PRIMARY KEY,
      nonce TEXT NOT NULL,
      expires_at BIGINT NOT NULL,
      used_at BIGINT
    );

    CREATE TABLE devices (
      key_sha256 TEXT PRIMARY KEY,
      public_key_der BYTEA NOT NULL,
      registered_at BIGINT NOT NULL
    );

    CREATE TABLE sessions (
      token_sha256 TEXT PRIMARY KEY,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    );

    CREATE TABLE kiosks (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      location TEXT NOT NULL,
      credential_sha256 TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );

    CREATE TABLE applications (
      id TEXT PRIMARY KEY,
      receipt_number TEXT NOT NULL UNIQUE,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      certificate_type TEXT NOT NULL,
      options_json TEXT NOT NULL,
      copies INTEGER NOT NULL,
      fee INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('submitted', 'in_issuance', 'printed', 'cancelled', 'expired')),
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    );
    CREATE INDEX applications_resident ON applications (resident_id);
    CREATE INDEX applications_device ON applications (device_key_sha256);
    CREATE INDEX applications_open_expiry ON applications (expires_at) WHERE status = 'submitted';

    CREATE TABLE issuance_attempts (
      id TEXT PRIMARY KEY,
      request_id TEXT NOT NULL UNIQUE,
      application_id TEXT NOT NULL REFERENCES applications (id),
      kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
      status TEXT NOT NULL CHECK (status IN ('confirmation_pending', 'approved', 'declined', 'expired',
        'delivered', 'printed', 'print_failed', 'abandoned')),
      created_at BIGINT NOT NULL,
      confirmation_expires_at BIGINT NOT NULL,
      deadline_at BIGINT,
      kiosk_seen_status TEXT NOT NULL,
      updated_at BIGINT NOT NULL,
      result_detail TEXT,
      document BYTEA,
      document_sha256 TEXT
    );
    -- At most one open attempt per application, whatever the code above does.
    CREATE UNIQUE INDEX issuance_attempts_one_open ON issuance_attempts (application_id)
      WHERE status IN ('confirmation_pending', 'approved', 'delivered');
    CREATE INDEX issuance_attempts_deadline ON issuance_attempts (deadline_at)
      WHERE status IN ('confirmation_pending', 'approved', 'delivered');

    CREATE TABLE issued_documents (
      verification_code TEXT PRIMARY KEY,
      attempt_id TEXT NOT NULL UNIQUE REFERENCES issuance_attempts (id),
      certificate_type TEXT NOT NULL,
      issued_at BIGINT NOT NULL,
      document_sha256 TEXT NOT NULL
    );

    CREATE TABLE audit_log (
      seq BIGINT PRIMARY KEY,
      at TEXT NOT NULL,
      actor TEXT NOT NULL,
      event TEXT NOT NULL,
      subject TEXT,
      details TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
  `,
};
