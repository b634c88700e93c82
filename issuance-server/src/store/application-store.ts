import type { Database } from 'better-sqlite3';
import type { ApplicationStatus, CertificateType, IssuanceStatus } from '@cert/common';

/** An application row. */
export interface ApplicationRecord {
  id: string;
  receiptNumber: string;
  residentId: string;
  deviceKeySha256: string;
  certificateType: CertificateType;
  options: Record<string, string>;
  copies: number;
  fee: number;
  status: ApplicationStatus;
  createdAt: number;
  expiresAt: number;
}

/** An issuance attempt row (without the document bytes). */
export interface AttemptRecord {
  id: string;
  requestId: string;
  applicationId: string;
  kioskId: string;
  status: IssuanceStatus;
  createdAt: number;
  confirmationExpiresAt: number;
  deadlineAt: number | null;
  kioskSeenStatus: IssuanceStatus;
  documentSha256: string | null;
}

/** Attempt statuses in which the attempt still holds its application. */
export const OPEN_ATTEMPT_STATUSES: readonly IssuanceStatus[] = ['confirmation_pending', 'approved', 'delivered'];

interface ApplicationRow {
  id: string;
  receipt_number: string;
  resident_id: string;
  device_key_sha256: string;
  certificate_type: CertificateType;
  options_json: string;
  copies: number;
  fee: number;
  status: ApplicationStatus;
  created_at: number;
  expires_at: number;
}

interface AttemptRow {
  id: string;
  request_id: string;
  application_id: string;
  kiosk_id: string;
  status: IssuanceStatus;
  created_at: number;
  confirmation_expires_at: number;
  deadline_at: number | null;
  kiosk_seen_status: IssuanceStatus;
  document_sha256: string | null;
}

function applicationFromRow(r: ApplicationRow): ApplicationRecord {
  return {
    id: r.id,
    receiptNumber: r.receipt_number,
    residentId: r.resident_id,
    deviceKeySha256: r.device_key_sha256,
    certificateType: r.certificate_type,
    options: JSON.parse(r.options_json) as Record<string, string>,
    copies: r.copies,
    fee: r.fee,
    status: r.status,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

function attemptFromRow(r: AttemptRow): AttemptRecord {
  return {
    id: r.id,
    requestId: r.request_id,
    applicationId: r.application_id,
    kioskId: r.kiosk_id,
    status: r.status,
    createdAt: r.created_at,
    confirmationExpiresAt: r.confirmation_expires_at,
    deadlineAt: r.deadline_at,
    kioskSeenStatus: r.kiosk_seen_status,
    documentSha256: r.document_sha256,
  };
}

const ATTEMPT_COLUMNS =
  'id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at, deadline_at, kiosk_seen_status, document_sha256';
const OPEN_SQL = `('confirmation_pending', 'approved', 'delivered')`;

/** Applications, their issuance attempts and the issued-document register. Callers hold transactions. */
export class ApplicationStore {
  constructor(private readonly db: Database) {}

  /** Inserts a new application; false when the receipt number is already taken. */
  insert(a: ApplicationRecord): boolean {
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO applications (id, receipt_number, resident_id, device_key_sha256, certificate_type,
           options_json, copies, fee, status, created_at, expires_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.id, a.receiptNumber, a.residentId, a.deviceKeySha256, a.certificateType, JSON.stringify(a.options), a.copies, a.fee, a.status, a.createdAt, a.expiresAt, a.createdAt);
    return r.changes === 1;
  }

  /** One application by id. */
  get(id: string): ApplicationRecord | null {
    const r = this.db.prepare<[string], ApplicationRow>('SELECT * FROM applications WHERE id = ?').get(id);
    return r ? applicationFromRow(r) : null;
  }

  /** One application by receipt number. */
  byReceipt(receiptNumber: string): ApplicationRecord | null {
    const r = this.db.prepare<[string], ApplicationRow>('SELECT * FROM applications WHERE receipt_number = ?').get(receiptNumber);
    return r ? applicationFromRow(r) : null;
  }

  /** A resident's applications, newest first. */
  listForResident(residentId: string): ApplicationRecord[] {
    return this.db
      .prepare<[string], ApplicationRow>('SELECT * FROM applications WHERE resident_id = ? ORDER BY created_at DESC, id')
      .all(residentId)
      .map(applicationFromRow);
  }

  /** Moves an application from `from` to `to`; false when it was not in `from`. */
  transitionApplication(id: string, from: ApplicationStatus, to: ApplicationStatus, now: number): boolean {
    return this.db.prepare('UPDATE applications SET status = ?, updated_at = ? WHERE id = ? AND status = ?').run(to, now, id, from).changes === 1;
  }

  /** Submitted applications whose receipt validity has passed. */
  dueForExpiry(now: number): ApplicationRecord[] {
    return this.db
      .prepare<[number], ApplicationRow>(`SELECT * FROM applications WHERE status = 'submitted' AND expires_at <= ?`)
      .all(now)
      .map(applicationFromRow);
  }

  /** Inserts a new open attempt. */
  insertAttempt(a: AttemptRecord): void {
    this.db
      .prepare(
        `INSERT INTO issuance_attempts (id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at,
           deadline_at, kiosk_seen_status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.id, a.requestId, a.applicationId, a.kioskId, a.status, a.createdAt, a.confirmationExpiresAt, a.deadlineAt, a.kioskSeenStatus, a.createdAt);
  }

  /** One attempt by id. */
  attempt(id: string): AttemptRecord | null {
    const r = this.db.prepare<[string], AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE id = ?`).get(id);
    return r ? attemptFromRow(r) : null;
  }

  /** One attempt by its confirmation request id. */
  attemptByRequest(requestId: string): AttemptRecord | null {
    const r = this.db.prepare<[string], AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE request_id = ?`).get(requestId);
    return r ? attemptFromRow(r) : null;
  }

  /** Moves an attempt from one status to another, setting its next deadline; false when it was not in `from`. */
  transitionAttempt(id: string, from: IssuanceStatus, to: IssuanceStatus, deadlineAt: number | null, now: number, detail?: string): boolean {
    const final = !OPEN_ATTEMPT_STATUSES.includes(to);
    return (
      this.db
        .prepare(
          `UPDATE issuance_attempts SET status = ?, deadline_at = ?, updated_at = ?, result_detail = COALESCE(?, result_detail),
             document = CASE WHEN ? THEN NULL ELSE document END
           WHERE id = ? AND status = ?`,
        )
        .run(to, deadlineAt, now, detail ?? null, final ? 1 : 0, id, from).changes === 1
    );
  }

  /** Remembers which status the kiosk was last told, for the long-poll. */
  setKioskSeen(id: string, status: IssuanceStatus): void {
    this.db.prepare('UPDATE issuance_attempts SET kiosk_seen_status = ? WHERE id = ?').run(status, id);
  }

  /** Open attempts whose deadline has passed. */
  overdueAttempts(now: number): AttemptRecord[] {
    return this.db
      .prepare<[number], AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE status IN ${OPEN_SQL} AND deadline_at <= ?`)
      .all(now)
      .map(attemptFromRow);
  }

  /** Open attempts of an application (zero or one). */
  openAttemptFor(applicationId: string): AttemptRecord | null {
    const r = this.db
      .prepare<[string], AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE application_id = ? AND status IN ${OPEN_SQL}`)
      .get(applicationId);
    return r ? attemptFromRow(r) : null;
  }

  /** Attempts awaiting an answer from a device key, oldest first. */
  pendingForDevice(deviceKeySha256: string, now: number): AttemptRecord[] {
    return this.db
      .prepare<[string, number], AttemptRow>(
        `SELECT ${ATTEMPT_COLUMNS.split(', ').map((c) => 't.' + c).join(', ')} FROM issuance_attempts t
         JOIN applications a ON a.id = t.application_id
         WHERE a.device_key_sha256 = ? AND t.status = 'confirmation_pending' AND t.confirmation_expires_at > ?
         ORDER BY t.created_at`,
      )
      .all(deviceKeySha256, now)
      .map(attemptFromRow);
  }

  /** Stores the delivered document on its attempt and registers it for public verification. */
  storeDocument(attemptId: string, doc: Buffer, sha256: string, verificationCode: string, certificateType: CertificateType, issuedAt: number): void {
    this.db.prepare('UPDATE issuance_attempts SET document = ?, document_sha256 = ? WHERE id = ?').run(doc, sha256, attemptId);
    this.db
      .prepare('INSERT INTO issued_documents (verification_code, attempt_id, certificate_type, issued_at, document_sha256) VALUES (?, ?, ?, ?, ?)')
      .run(verificationCode, attemptId, certificateType, issuedAt, sha256);
  }

  /** The stored document of an attempt still in flight. */
  document(attemptId: string): Buffer | null {
    return this.db.prepare<[string], { document: Buffer | null }>('SELECT document FROM issuance_attempts WHERE id = ?').get(attemptId)?.document ?? null;
  }

  /** A document registered for verification, with the status of the attempt that issued it. */
  issuedDocument(code: string): { certificateType: CertificateType; issuedAt: number; documentSha256: string; attemptStatus: IssuanceStatus } | null {
    const r = this.db
      .prepare<[string], { certificate_type: CertificateType; issued_at: number; document_sha256: string; status: IssuanceStatus }>(
        `SELECT d.certificate_type, d.issued_at, d.document_sha256, t.status FROM issued_documents d
         JOIN issuance_attempts t ON t.id = d.attempt_id WHERE d.verification_code = ?`,
      )
      .get(code);
    return r ? { certificateType: r.certificate_type, issuedAt: r.issued_at, documentSha256: r.document_sha256, attemptStatus: r.status } : null;
  }
}
