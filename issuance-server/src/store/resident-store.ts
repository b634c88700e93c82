import type { ResidentRecord } from '@cert/common';
import type { SqlExecutor } from './db/sql.ts';
import { MUNICIPAL_RECORDS_LOCK, upsertDecision, type UpsertResult } from './record-store.ts';

/** A resident record as the register holds it. */
export type Resident = ResidentRecord;

interface ResidentRow {
  id: string;
  household_id: string;
  name: string;
  name_kana: string;
  birth_date: string;
  sex: Resident['sex'];
  address: string;
  address_building: string | null;
  relationship_to_head: string;
  domicile: string | null;
  domicile_head: string | null;
  status: Resident['status'];
  support_measure: number;
  resident_since: string | null;
  address_since: string | null;
  move_in_date: string | null;
  move_out_notified_on: string | null;
  move_out_planned_date: string | null;
  suppressed_from: string | null;
  suppressed_to: string | null;
  old_surname: string | null;
  alias: string | null;
  nationality: string | null;
  residence_status: string | null;
  residence_card_number: string | null;
  residence_expiry: string | null;
  gaiji_pending: number;
  source_version: number;
}

function fromRow(r: ResidentRow): Resident {
  return {
    id: r.id,
    householdId: r.household_id,
    name: r.name,
    nameKana: r.name_kana,
    birthDate: r.birth_date,
    sex: r.sex,
    address: r.address,
    addressBuilding: r.address_building,
    relationshipToHead: r.relationship_to_head,
    domicile: r.domicile,
    domicileHead: r.domicile_head,
    status: r.status,
    supportMeasure: r.support_measure === 1,
    residentSince: r.resident_since,
    addressSince: r.address_since,
    moveInDate: r.move_in_date,
    moveOutNotifiedOn: r.move_out_notified_on,
    moveOutPlannedDate: r.move_out_planned_date,
    suppressedFrom: r.suppressed_from,
    suppressedTo: r.suppressed_to,
    oldSurname: r.old_surname,
    alias: r.alias,
    nationality: r.nationality,
    residenceStatus: r.residence_status,
    residenceCardNumber: r.residence_card_number,
    residenceExpiry: r.residence_expiry,
    gaijiPending: r.gaiji_pending === 1,
    version: Number(r.source_version),
  };
}

/** Municipality settings and the resident register. */
export class ResidentStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** The municipality this server issues for, or null before `admin init`. */
  async municipality(): Promise<{ code: string; name: string } | null> {
    return (await this.sql.get<{ code: string; name: string }>('SELECT code, name FROM municipality WHERE id = 1')) ?? null;
  }

  /** Sets the municipality (init, or re-init with new values). */
  async setMunicipality(code: string, name: string, now: number): Promise<void> {
    await this.sql.run(
      'INSERT INTO municipality (id, code, name, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name',
      [code, name, now],
    );
  }

  /** Inserts or replaces one resident record unless a newer version of it is stored. */
  async upsert(r: Resident, now: number): Promise<UpsertResult> {
    await this.sql.lockExclusive(MUNICIPAL_RECORDS_LOCK);
    const stored = await this.sql.get<{ v: number }>(`SELECT source_version AS v FROM residents WHERE id = ?${this.sql.forUpdate}`, [r.id]);
    const decision = upsertDecision(stored ? Number(stored.v) : null, r.version);
    if (decision !== 'applied') return decision;
    await this.sql.run(
      `INSERT INTO residents (id, household_id, name, name_kana, birth_date, sex, address, address_building, relationship_to_head,
         domicile, domicile_head, status, support_measure, resident_since, address_since, move_in_date, move_out_notified_on,
         move_out_planned_date, suppressed_from, suppressed_to, old_surname, alias, nationality, residence_status,
         residence_card_number, residence_expiry, gaiji_pending, source_version, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, name = excluded.name, name_kana = excluded.name_kana,
         birth_date = excluded.birth_date, sex = excluded.sex, address = excluded.address, address_building = excluded.address_building,
         relationship_to_head = excluded.relationship_to_head, domicile = excluded.domicile, domicile_head = excluded.domicile_head,
         status = excluded.status, support_measure = excluded.support_measure, resident_since = excluded.resident_since,
         address_since = excluded.address_since, move_in_date = excluded.move_in_date, move_out_notified_on = excluded.move_out_notified_on,
         move_out_planned_date = excluded.move_out_planned_date, suppressed_from = excluded.suppressed_from, suppressed_to = excluded.suppressed_to,
         old_surname = excluded.old_surname, alias = excluded.alias, nationality = excluded.nationality, residence_status = excluded.residence_status,
         residence_card_number = excluded.residence_card_number, residence_expiry = excluded.residence_expiry, gaiji_pending = excluded.gaiji_pending,
         source_version = excluded.source_version, updated_at = excluded.updated_at`,
      [
        r.id,
        r.householdId,
        r.name,
        r.nameKana,
        r.birthDate,
        r.sex,
        r.address,
        r.addressBuilding,
        r.relationshipToHead,
        r.domicile,
        r.domicileHead,
        r.status,
        r.supportMeasure ? 1 : 0,
        r.residentSince,
        r.addressSince,
        r.moveInDate,
        r.moveOutNotifiedOn,
        r.moveOutPlannedDate,
        r.suppressedFrom,
        r.suppressedTo,
        r.oldSurname,
        r.alias,
        r.nationality,
        r.residenceStatus,
        r.residenceCardNumber,
        r.residenceExpiry,
        r.gaijiPending ? 1 : 0,
        r.version,
        now,
      ],
    );
    return 'applied';
  }

  /** One resident by id. */
  async get(id: string): Promise<Resident | null> {
    const row = await this.sql.get<ResidentRow>('SELECT * FROM residents WHERE id = ?', [id]);
    return row ? fromRow(row) : null;
  }

  /** Every member of a household still on the register (active), head of household first. */
  async activeHousehold(householdId: string): Promise<Resident[]> {
    const rows = await this.sql.all<ResidentRow>(
      `SELECT * FROM residents WHERE household_id = ? AND status = 'active'
       ORDER BY CASE relationship_to_head WHEN '世帯主' THEN 0 ELSE 1 END, birth_date, id`,
      [householdId],
    );
    return rows.map(fromRow);
  }
}
