import type { Migration } from '../db/sql.ts';

/** Both engines' DDL with the engine's blob and integer types. */
function phoneTables(t: { blob: string; int: string }): string {
  return `
    ALTER TABLE sessions ADD COLUMN card_anchor_sha256 TEXT;
    ALTER TABLE sessions ADD COLUMN card_serial TEXT;
    ALTER TABLE sessions ADD COLUMN card_not_after ${t.int};

    CREATE TABLE phone_pairings (
      id TEXT PRIMARY KEY,
      secret_sha256 TEXT NOT NULL UNIQUE,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      pc_device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      session_token_sha256 TEXT NOT NULL,
      card_anchor_sha256 TEXT NOT NULL,
      card_serial TEXT NOT NULL,
      card_not_after ${t.int} NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'registered', 'confirmed', 'cancelled')),
      phone_key_sha256 TEXT,
      phone_key_der ${t.blob},
      phone_label TEXT,
      challenge TEXT,
      phone_id TEXT,
      created_at ${t.int} NOT NULL,
      expires_at ${t.int} NOT NULL,
      updated_at ${t.int} NOT NULL
    );
    CREATE INDEX phone_pairings_expiry ON phone_pairings (expires_at);

    CREATE TABLE phones (
      id TEXT PRIMARY KEY,
      resident_id TEXT NOT NULL REFERENCES residents (id),
      pc_device_key_sha256 TEXT NOT NULL REFERENCES devices (key_sha256),
      device_key_sha256 TEXT NOT NULL UNIQUE,
      public_key_der ${t.blob} NOT NULL,
      label TEXT NOT NULL,
      credential_id TEXT NOT NULL UNIQUE,
      credential_public_key ${t.blob} NOT NULL,
      sign_count ${t.int} NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'removed')),
      card_anchor_sha256 TEXT NOT NULL,
      card_serial TEXT NOT NULL,
      card_not_after ${t.int} NOT NULL,
      created_at ${t.int} NOT NULL,
      confirmed_at ${t.int},
      expires_at ${t.int} NOT NULL,
      last_seen_at ${t.int},
      removed_at ${t.int},
      push_endpoint TEXT,
      push_p256dh TEXT,
      push_auth TEXT
    );
    CREATE INDEX phones_binding ON phones (pc_device_key_sha256, resident_id, status);
  `;
}

/**
 * Issue 9: phones paired from a card-authenticated session. A session remembers the card
 * certificate it was opened with (anchor, serial, expiry), so that a pairing and its phone stop
 * working when that certificate is revoked or expires; pairings hold the single-use secret (its
 * hash) until a phone registers and the PC confirms; phones hold their device key, passkey,
 * binding (resident + the PC's device key), expiry, last contact and push subscription.
 */
export const migration0005PairedPhones: Migration = {
  name: '0005-paired-phones',
  sqlite: phoneTables({ blob: 'BLOB', int: 'INTEGER' }),
  postgres: phoneTables({ blob: 'BYTEA', int: 'BIGINT' }),
};
