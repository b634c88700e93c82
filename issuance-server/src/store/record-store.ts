import type { KosekiRecord, KosekiRegistration, SealRegistrationRecord, TaxRecord } from '@cert/common';
import type { SqlExecutor } from './db/sql.ts';

/** What an upsert did: stored, the same version again, or older than what is stored. */
export type UpsertResult = 'applied' | 'unchanged' | 'stale';

/** A stored seal registration; the image as bytes. */
export type StoredSeal = Omit<SealRegistrationRecord, 'imagePngBase64'> & { image: Buffer };

/**
 * Compares an incoming version with the stored one (null when there is none) and says what the
 * upsert should do: a version equal to the stored one is a repeat, a smaller one is late.
 */
export function upsertDecision(stored: number | null, incoming: number): UpsertResult {
  if (stored === null || incoming > stored) return 'applied';
  return incoming === stored ? 'unchanged' : 'stale';
}

/**
 * The lock of the municipal records (residents, seals, tax, 戸籍, 利用登録): a change takes it
 * exclusively, a decision on what to issue shared (DocumentService.prepare), so that with several
 * nodes every document comes from data committed before the change (audit order included) or after it.
 */
export const MUNICIPAL_RECORDS_LOCK = 'municipal_records';

/** Seal registrations, tax records, 戸籍 and 本籍地 利用登録, each upserted by its source version. */
export class RecordStore {
  constructor(private readonly sql: SqlExecutor) {}

  private async storedVersion(table: string, where: string, params: unknown[]): Promise<number | null> {
    await this.sql.lockExclusive(MUNICIPAL_RECORDS_LOCK);
    const r = await this.sql.get<{ v: number }>(`SELECT source_version AS v FROM ${table} WHERE ${where}${this.sql.forUpdate}`, params);
    return r ? Number(r.v) : null;
  }

  /** Upserts a seal registration unless a newer version is stored. */
  async upsertSeal(s: SealRegistrationRecord): Promise<UpsertResult> {
    const decision = upsertDecision(await this.storedVersion('seal_registrations', 'resident_id = ?', [s.residentId]), s.version);
    if (decision !== 'applied') return decision;
    await this.sql.run(
      `INSERT INTO seal_registrations (resident_id, registration_number, registered_on, status, status_changed_on, image, width_mm, height_mm, print_sex, source_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (resident_id) DO UPDATE SET registration_number = excluded.registration_number, registered_on = excluded.registered_on,
         status = excluded.status, status_changed_on = excluded.status_changed_on, image = excluded.image, width_mm = excluded.width_mm,
         height_mm = excluded.height_mm, print_sex = excluded.print_sex, source_version = excluded.source_version`,
      [
        s.residentId,
        s.registrationNumber,
        s.registeredOn,
        s.status,
        s.statusChangedOn,
        Buffer.from(s.imagePngBase64, 'base64'),
        s.widthMm,
        s.heightMm,
        s.printSex === null ? null : s.printSex ? 1 : 0,
        s.version,
      ],
    );
    return 'applied';
  }

  /** A resident's seal registration, if any. */
  async seal(residentId: string): Promise<StoredSeal | null> {
    const r = await this.sql.get<{
      resident_id: string;
      registration_number: string;
      registered_on: string;
      status: StoredSeal['status'];
      status_changed_on: string | null;
      image: Buffer;
      width_mm: number;
      height_mm: number;
      print_sex: number | null;
      source_version: number;
    }>('SELECT * FROM seal_registrations WHERE resident_id = ?', [residentId]);
    if (!r) return null;
    return {
      residentId: r.resident_id,
      registrationNumber: r.registration_number,
      registeredOn: r.registered_on,
      status: r.status,
      statusChangedOn: r.status_changed_on,
      image: r.image,
      widthMm: Number(r.width_mm),
      heightMm: Number(r.height_mm),
      printSex: r.print_sex === null ? null : r.print_sex === 1,
      version: Number(r.source_version),
    };
  }

  /** Upserts a tax record unless a newer version is stored. */
  async upsertTax(t: TaxRecord): Promise<UpsertResult> {
    const decision = upsertDecision(await this.storedVersion('tax_records', 'resident_id = ? AND fiscal_year = ?', [t.residentId, t.fiscalYear]), t.version);
    if (decision !== 'applied') return decision;
    await this.sql.run(
      `INSERT INTO tax_records (resident_id, fiscal_year, status, record_json, source_version) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (resident_id, fiscal_year) DO UPDATE SET status = excluded.status, record_json = excluded.record_json, source_version = excluded.source_version`,
      [t.residentId, t.fiscalYear, t.status, JSON.stringify(t), t.version],
    );
    return 'applied';
  }

  /** A resident's tax record for a fiscal year. */
  async tax(residentId: string, fiscalYear: number): Promise<TaxRecord | null> {
    const r = await this.sql.get<{ record_json: string }>('SELECT record_json FROM tax_records WHERE resident_id = ? AND fiscal_year = ?', [residentId, fiscalYear]);
    return r ? (JSON.parse(r.record_json) as TaxRecord) : null;
  }

  /** The fiscal years a resident has tax records for, newest first. */
  async taxYears(residentId: string): Promise<number[]> {
    const rows = await this.sql.all<{ fiscal_year: number }>('SELECT fiscal_year FROM tax_records WHERE resident_id = ? ORDER BY fiscal_year DESC', [residentId]);
    return rows.map((r) => Number(r.fiscal_year));
  }

  /** Upserts a whole 戸籍 (members, 身分事項 and 附票 addresses together) unless a newer version is stored. */
  async upsertKoseki(k: KosekiRecord): Promise<UpsertResult> {
    const decision = upsertDecision(await this.storedVersion('koseki', 'id = ?', [k.kosekiId]), k.version);
    if (decision !== 'applied') return decision;
    await this.sql.run(
      `INSERT INTO koseki (id, honseki, head_surname, head_given_name, status, pending_notification, record_json, source_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET honseki = excluded.honseki, head_surname = excluded.head_surname, head_given_name = excluded.head_given_name,
         status = excluded.status, pending_notification = excluded.pending_notification, record_json = excluded.record_json, source_version = excluded.source_version`,
      [k.kosekiId, k.honseki, k.headSurname, k.headGivenName, k.status, k.pendingNotification ? 1 : 0, JSON.stringify(k), k.version],
    );
    // The member index answers "which 戸籍 is this resident in" without reading every record.
    await this.sql.run('DELETE FROM koseki_members WHERE koseki_id = ?', [k.kosekiId]);
    for (const m of k.members) {
      await this.sql.run('INSERT INTO koseki_members (koseki_id, seq, resident_id, removed) VALUES (?, ?, ?, ?)', [k.kosekiId, m.seq, m.residentId, m.removed ? 1 : 0]);
    }
    return 'applied';
  }

  /** One 戸籍 by id. */
  async koseki(kosekiId: string): Promise<KosekiRecord | null> {
    const r = await this.sql.get<{ record_json: string }>('SELECT record_json FROM koseki WHERE id = ?', [kosekiId]);
    return r ? (JSON.parse(r.record_json) as KosekiRecord) : null;
  }

  /** The 戸籍 a person is 在籍 in (not 除籍), a current one first; null when none is kept here. */
  async kosekiIdOf(residentId: string): Promise<string | null> {
    const row = await this.sql.get<{ koseki_id: string }>(
      `SELECT m.koseki_id FROM koseki_members m JOIN koseki k ON k.id = m.koseki_id
       WHERE m.resident_id = ? AND m.removed = 0 ORDER BY CASE k.status WHEN 'current' THEN 0 ELSE 1 END, m.koseki_id LIMIT 1`,
      [residentId],
    );
    return row?.koseki_id ?? null;
  }

  /** Upserts a 本籍地 利用登録 unless a newer version is stored. */
  async upsertRegistration(r: KosekiRegistration): Promise<UpsertResult> {
    const decision = upsertDecision(await this.storedVersion('koseki_registrations', 'resident_id = ? AND koseki_id = ?', [r.residentId, r.kosekiId]), r.version);
    if (decision !== 'applied') return decision;
    await this.sql.run(
      `INSERT INTO koseki_registrations (resident_id, koseki_id, registered_on, effective_from, source_version) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (resident_id, koseki_id) DO UPDATE SET registered_on = excluded.registered_on, effective_from = excluded.effective_from, source_version = excluded.source_version`,
      [r.residentId, r.kosekiId, r.registeredOn, r.effectiveFrom, r.version],
    );
    return 'applied';
  }

  /** A person's 本籍地 利用登録 for a 戸籍. */
  async registration(residentId: string, kosekiId: string): Promise<KosekiRegistration | null> {
    const r = await this.sql.get<{ registered_on: string; effective_from: string; source_version: number }>(
      'SELECT registered_on, effective_from, source_version FROM koseki_registrations WHERE resident_id = ? AND koseki_id = ?',
      [residentId, kosekiId],
    );
    return r ? { residentId, kosekiId, registeredOn: r.registered_on, effectiveFrom: r.effective_from, version: Number(r.source_version) } : null;
  }

  /** Stores a named asset of the municipality (the 公印 image). */
  async putAsset(name: string, bytes: Buffer, sha256: string, now: number): Promise<void> {
    await this.sql.run(
      'INSERT INTO municipal_assets (name, bytes, sha256, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET bytes = excluded.bytes, sha256 = excluded.sha256, updated_at = excluded.updated_at',
      [name, bytes, sha256, now],
    );
  }

  /** A named asset of the municipality. */
  async asset(name: string): Promise<Buffer | null> {
    return (await this.sql.get<{ bytes: Buffer }>('SELECT bytes FROM municipal_assets WHERE name = ?', [name]))?.bytes ?? null;
  }

  /** Takes `count` consecutive 発行番号 serials of a day (1, 2, …), shared by every node; returns the first. */
  async takeSerials(day: string, count: number): Promise<number> {
    await this.sql.run('INSERT INTO issue_serials (day, last) VALUES (?, 0) ON CONFLICT DO NOTHING', [day]);
    await this.sql.run('UPDATE issue_serials SET last = last + ? WHERE day = ?', [count, day]);
    return Number((await this.sql.get<{ last: number }>('SELECT last FROM issue_serials WHERE day = ?', [day]))!.last) - count + 1;
  }
}
