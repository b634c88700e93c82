import type { SqlExecutor } from './db/sql.ts';

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

  /** Inserts or replaces one resident record. */
  async upsert(r: Resident, now: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO residents (id, household_id, name, name_kana, birth_date, sex, address, relationship_to_head,
         domicile, domicile_head, status, support_measure, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, name = excluded.name,
         name_kana = excluded.name_kana, birth_date = excluded.birth_date, sex = excluded.sex,
         address = excluded.address, relationship_to_head = excluded.relationship_to_head,
         domicile = excluded.domicile, domicile_head = excluded.domicile_head, status = excluded.status,
         support_measure = excluded.support_measure, updated_at = excluded.updated_at`,
      [r.id, r.householdId, r.name, r.nameKana, r.birthDate, r.sex, r.address, r.relationshipToHead, r.domicile, r.domicileHead, r.status, r.supportMeasure ? 1 : 0, now],
    );
  }

  /** One resident by id. */
  async get(id: string): Promise<Resident | null> {
    const row = await this.sql.get<ResidentRow>('SELECT * FROM residents WHERE id = ?', [id]);
    return row ? fromRow(row) : null;
  }

  /** Active members of a household, head of household first. */
  async activeHousehold(householdId: string): Promise<Resident[]> {
    const rows = await this.sql.all<ResidentRow>(
      `SELECT * FROM residents WHERE household_id = ? AND status = 'active'
       ORDER BY CASE relationship_to_head WHEN '世帯主' THEN 0 ELSE 1 END, birth_date, id`,
      [householdId],
    );
    return rows.map(fromRow);
  }
}
