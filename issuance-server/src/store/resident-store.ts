import type { Database } from 'better-sqlite3';

/** A resident record as the register holds it. */
export interface Resident {
  id: string;
  householdId: string;
  name: string;
  nameKana: string;
  birthDate: string;
  sex: '1' | '2' | '9';
  address: string;
  relationshipToHead: string;
  domicile: string | null;
  domicileHead: string | null;
  status: 'active' | 'moved_out' | 'deceased';
  supportMeasure: boolean;
}

interface ResidentRow {
  id: string;
  household_id: string;
  name: string;
  name_kana: string;
  birth_date: string;
  sex: Resident['sex'];
  address: string;
  relationship_to_head: string;
  domicile: string | null;
  domicile_head: string | null;
  status: Resident['status'];
  support_measure: number;
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
    relationshipToHead: r.relationship_to_head,
    domicile: r.domicile,
    domicileHead: r.domicile_head,
    status: r.status,
    supportMeasure: r.support_measure === 1,
  };
}

/** Municipality settings and the resident register. */
export class ResidentStore {
  constructor(private readonly db: Database) {}

  /** The municipality this server issues for, or null before `admin init`. */
  municipality(): { code: string; name: string } | null {
    return this.db.prepare<[], { code: string; name: string }>('SELECT code, name FROM municipality WHERE id = 1').get() ?? null;
  }

  /** Sets the municipality (init, or re-init with new values). */
  setMunicipality(code: string, name: string, now: number): void {
    this.db
      .prepare('INSERT INTO municipality (id, code, name, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name')
      .run(code, name, now);
  }

  /** Inserts or replaces one resident record. */
  upsert(r: Resident, now: number): void {
    this.db
      .prepare(
        `INSERT INTO residents (id, household_id, name, name_kana, birth_date, sex, address, relationship_to_head,
           domicile, domicile_head, status, support_measure, updated_at)
         VALUES (@id, @householdId, @name, @nameKana, @birthDate, @sex, @address, @relationshipToHead,
           @domicile, @domicileHead, @status, @supportMeasure, @now)
         ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, name = excluded.name,
           name_kana = excluded.name_kana, birth_date = excluded.birth_date, sex = excluded.sex,
           address = excluded.address, relationship_to_head = excluded.relationship_to_head,
           domicile = excluded.domicile, domicile_head = excluded.domicile_head, status = excluded.status,
           support_measure = excluded.support_measure, updated_at = excluded.updated_at`,
      )
      .run({ ...r, supportMeasure: r.supportMeasure ? 1 : 0, now });
  }

  /** One resident by id. */
  get(id: string): Resident | null {
    const row = this.db.prepare<[string], ResidentRow>('SELECT * FROM residents WHERE id = ?').get(id);
    return row ? fromRow(row) : null;
  }

  /** Active members of a household, head of household first. */
  activeHousehold(householdId: string): Resident[] {
    return this.db
      .prepare<[string], ResidentRow>(
        `SELECT * FROM residents WHERE household_id = ? AND status = 'active'
         ORDER BY CASE relationship_to_head WHEN '世帯主' THEN 0 ELSE 1 END, birth_date, id`,
      )
      .all(householdId)
      .map(fromRow);
  }
}
