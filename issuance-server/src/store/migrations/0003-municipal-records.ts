import type { Migration } from '../db/sql.ts';

// The resident columns certificates.md §1 (7) and §0 call for; every record the municipality's
// systems send carries the source system's version, so a late or repeated update never
// overwrites newer data.
const NEW_RESIDENT_COLUMNS = [
  'address_building TEXT',
  'resident_since TEXT',
  'address_since TEXT',
  'move_in_date TEXT',
  'move_out_notified_on TEXT',
  'move_out_planned_date TEXT',
  'suppressed_from TEXT',
  'suppressed_to TEXT',
  'old_surname TEXT',
  'alias TEXT',
  'nationality TEXT',
  'residence_status TEXT',
  'residence_card_number TEXT',
  'residence_expiry TEXT',
  'gaiji_pending INTEGER NOT NULL DEFAULT 0',
  'source_version BIGINT NOT NULL DEFAULT 0',
];
const OLD_RESIDENT_COLUMNS =
  'id, household_id, name, name_kana, birth_date, sex, address, relationship_to_head, domicile, domicile_head, status, support_measure, updated_at';

/** The new tables, the same in both engines but for the types of bytes and reals. */
const recordTables = (types: { blob: string; real: string }) => `
    CREATE TABLE seal_registrations (
      resident_id TEXT PRIMARY KEY REFERENCES residents (id),
      registration_number TEXT NOT NULL,
      registered_on TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'abolished', 'invalidated')),
      status_changed_on TEXT,
      image ${types.blob} NOT NULL,
      width_mm ${types.real} NOT NULL,
      height_mm ${types.real} NOT NULL,
      print_sex INTEGER,
      source_version BIGINT NOT NULL DEFAULT 0
    );

    CREATE TABLE tax_records (
      resident_id TEXT NOT NULL REFERENCES residents (id),
      fiscal_year INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('taxed', 'nontaxed', 'undeclared', 'dependentUndeclared')),
      record_json TEXT NOT NULL,
      source_version BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (resident_id, fiscal_year)
    );

    CREATE TABLE koseki (
      id TEXT PRIMARY KEY,
      honseki TEXT NOT NULL,
      head_surname TEXT NOT NULL,
      head_given_name TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('current', 'removed')),
      pending_notification INTEGER NOT NULL DEFAULT 0,
      record_json TEXT NOT NULL,
      source_version BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE koseki_members (
      koseki_id TEXT NOT NULL REFERENCES koseki (id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      resident_id TEXT,
      removed INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (koseki_id, seq)
    );
    CREATE INDEX koseki_members_resident ON koseki_members (resident_id);

    CREATE TABLE koseki_registrations (
      resident_id TEXT NOT NULL REFERENCES residents (id),
      koseki_id TEXT NOT NULL,
      registered_on TEXT NOT NULL,
      effective_from TEXT NOT NULL,
      source_version BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (resident_id, koseki_id)
    );

    CREATE TABLE municipal_assets (
      name TEXT PRIMARY KEY,
      bytes ${types.blob} NOT NULL,
      sha256 TEXT NOT NULL,
      updated_at BIGINT NOT NULL
    );

    CREATE TABLE api_clients (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      credential_sha256 TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      revoked_at BIGINT
    );

    CREATE TABLE issue_serials (
      day TEXT PRIMARY KEY,
      last INTEGER NOT NULL
    );
    -- What an application was decided against and must stay with (the 戸籍 its persons were chosen from).
    ALTER TABLE applications ADD COLUMN pinned_json TEXT NOT NULL DEFAULT '{}';
`;

/**
 * Issue 8: the data behind every certificate type — extended resident columns (and persons
 * registered for 本籍地 use only), seal registrations with their images, tax records per fiscal
 * year, 戸籍 with members, 身分事項 and 附票 addresses, 本籍地 利用登録, the municipality's
 * catalogue and images, clients of the live-update API, and per-day issue numbers.
 */
export const migration0003MunicipalRecords: Migration = {
  name: '0003-municipal-records',
  sqlite: `
    -- Rebuilt (SQLite cannot alter a CHECK): status gains non_resident, for persons registered
    -- for 本籍地 use only, who live elsewhere.
    CREATE TABLE residents_v3 (
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
      status TEXT NOT NULL CHECK (status IN ('active', 'moved_out', 'deceased', 'non_resident')),
      support_measure INTEGER NOT NULL CHECK (support_measure IN (0, 1)),
      updated_at INTEGER NOT NULL,
      ${NEW_RESIDENT_COLUMNS.join(',\n      ')}
    );
    INSERT INTO residents_v3 (${OLD_RESIDENT_COLUMNS}) SELECT ${OLD_RESIDENT_COLUMNS} FROM residents;
    DROP TABLE residents;
    ALTER TABLE residents_v3 RENAME TO residents;
    CREATE INDEX residents_household ON residents (household_id);

    ${recordTables({ blob: 'BLOB', real: 'REAL' })}
  `,
  postgres: `
    ${NEW_RESIDENT_COLUMNS.map((c) => `ALTER TABLE residents ADD COLUMN ${c};`).join('\n    ')}
    ALTER TABLE residents DROP CONSTRAINT residents_status_check;
    ALTER TABLE residents ADD CONSTRAINT residents_status_check CHECK (status IN ('active', 'moved_out', 'deceased', 'non_resident'));

    ${recordTables({ blob: 'BYTEA', real: 'DOUBLE PRECISION' })}
  `,
};
