import type { ApplicationStatus, CertificateType, IssuanceStatus } from '@cert/common';
import type { ChangeRef, LifecycleChange } from './change-feed.ts';
import type { SqlExecutor } from './db/sql.ts';

/** An application row. */
export interface ApplicationRecord {
  id: string;
  receiptNumber: string;
  residentId: string;
  deviceKeySha256: string;
  certificateType: CertificateType;
  options: Record<string, string>;
  /** What the rules tied the application to when it was made (the 戸籍 its persons were chosen from). */
  pinned: Record<string, string>;
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
  /** Why the data refused the certificate, for `refused`. */
  refusalCode: string | null;
  deliveredAt: number | null;
}

/** A document rendered for an attempt, with the digest of the data it was made from. */
export interface StoredDocument {
  pdf: Buffer;
  sha256: string;
  verificationCode: string;
  inputSha256: string;
}

interface ApplicationRow {
  id: string;
  receipt_number: string;
  resident_id: string;
  device_key_sha256: string;
  certificate_type: CertificateType;
  options_json: string;
  pinned_json: string;
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
  refusal_code: string | null;
  delivered_at: number | null;
}

function applicationFromRow(r: ApplicationRow): ApplicationRecord {
  return {
    id: r.id,
    receiptNumber: r.receipt_number,
    residentId: r.resident_id,
    deviceKeySha256: r.device_key_sha256,
    certificateType: r.certificate_type,
    options: JSON.parse(r.options_json) as Record<string, string>,
    pinned: JSON.parse(r.pinned_json) as Record<string, string>,
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
    refusalCode: r.refusal_code,
    deliveredAt: r.delivered_at,
  };
}

const ATTEMPT_COLUMNS =
  'id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at, deadline_at, kiosk_seen_status, document_sha256, refusal_code, delivered_at';
const OPEN_SQL = `('confirmation_pending', 'approved', 'delivered')`;

/** Applications, their issuance attempts and the issued-document register, inside one transaction. */
export class ApplicationStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Inserts a new application; false when the receipt number is already taken. */
  async insert(a: ApplicationRecord): Promise<boolean> {
    const r = await this.sql.run(
      `INSERT INTO applications (id, receipt_number, resident_id, device_key_sha256, certificate_type,
         options_json, pinned_json, copies, fee, status, created_at, expires_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [a.id, a.receiptNumber, a.residentId, a.deviceKeySha256, a.certificateType, JSON.stringify(a.options), JSON.stringify(a.pinned), a.copies, a.fee, a.status, a.createdAt, a.expiresAt, a.createdAt],
    );
    return r.changes === 1;
  }

  /**
   * One application by id; `lock` takes its row lock for the rest of the transaction, and
   * `'skip-locked'` does so only when nobody else holds it (null otherwise: a sweep moves on).
   */
  async get(id: string, lock: boolean | 'skip-locked' = false): Promise<ApplicationRecord | null> {
    const suffix = lock === 'skip-locked' ? this.sql.forUpdateSkipLocked : lock ? this.sql.forUpdate : '';
    const r = await this.sql.get<ApplicationRow>(`SELECT * FROM applications WHERE id = ?${suffix}`, [id]);
    return r ? applicationFromRow(r) : null;
  }

  /** One application by receipt number, row-locked. */
  async byReceipt(receiptNumber: string): Promise<ApplicationRecord | null> {
    const r = await this.sql.get<ApplicationRow>(`SELECT * FROM applications WHERE receipt_number = ?${this.sql.forUpdate}`, [receiptNumber]);
    return r ? applicationFromRow(r) : null;
  }

  /** A resident's applications, newest first. */
  async listForResident(residentId: string): Promise<ApplicationRecord[]> {
    const rows = await this.sql.all<ApplicationRow>('SELECT * FROM applications WHERE resident_id = ? ORDER BY created_at DESC, id', [residentId]);
    return rows.map(applicationFromRow);
  }

  /** Moves an application from `from` to `to`; false when it was not in `from`. */
  async transitionApplication(id: string, from: ApplicationStatus, to: ApplicationStatus, now: number): Promise<boolean> {
    const r = await this.sql.run('UPDATE applications SET status = ?, updated_at = ? WHERE id = ? AND status = ?', [to, now, id, from]);
    return r.changes === 1;
  }

  /** Ids of submitted applications whose receipt validity has passed. */
  async dueForExpiry(now: number, limit: number): Promise<string[]> {
    const rows = await this.sql.all<{ id: string }>(`SELECT id FROM applications WHERE status = 'submitted' AND expires_at <= ? LIMIT ?`, [now, limit]);
    return rows.map((r) => r.id);
  }

  /** Inserts a new open attempt. */
  async insertAttempt(a: AttemptRecord): Promise<void> {
    await this.sql.run(
      `INSERT INTO issuance_attempts (id, request_id, application_id, kiosk_id, status, created_at, confirmation_expires_at,
         deadline_at, kiosk_seen_status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [a.id, a.requestId, a.applicationId, a.kioskId, a.status, a.createdAt, a.confirmationExpiresAt, a.deadlineAt, a.kioskSeenStatus, a.createdAt],
    );
  }

  /** One attempt by id; `lock` takes its row lock for the rest of the transaction. */
  async attempt(id: string, lock = false): Promise<AttemptRecord | null> {
    const r = await this.sql.get<AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE id = ?${lock ? this.sql.forUpdate : ''}`, [id]);
    return r ? attemptFromRow(r) : null;
  }

  /** One attempt by its confirmation request id, row-locked. */
  async attemptByRequest(requestId: string): Promise<AttemptRecord | null> {
    const r = await this.sql.get<AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE request_id = ?${this.sql.forUpdate}`, [requestId]);
    return r ? attemptFromRow(r) : null;
  }

  /** Moves an attempt from one status to another with its next deadline (`kioskSeen`: the kiosk is told in the answer); false when it was not in `from`. Final statuses drop the document. */
  async transitionAttempt(
    id: string,
    from: IssuanceStatus,
    to: IssuanceStatus,
    deadlineAt: number | null,
    now: number,
    extra: { detail?: string; refusalCode?: string; keepDocument?: boolean; kioskSeen?: boolean } = {},
  ): Promise<boolean> {
    const r = await this.sql.run(
      `UPDATE issuance_attempts SET status = ?, deadline_at = ?, updated_at = ?, result_detail = COALESCE(?, result_detail),
         refusal_code = COALESCE(?, refusal_code), kiosk_seen_status = COALESCE(?, kiosk_seen_status),
         document = CASE WHEN ? = 1 THEN document ELSE NULL END
       WHERE id = ? AND status = ?`,
      [to, deadlineAt, now, extra.detail ?? null, extra.refusalCode ?? null, extra.kioskSeen ? to : null, extra.keepDocument ? 1 : 0, id, from],
    );
    return r.changes === 1;
  }

  /** Remembers which status the kiosk was last told, for the long-poll. */
  async setKioskSeen(id: string, status: IssuanceStatus): Promise<void> {
    await this.sql.run('UPDATE issuance_attempts SET kiosk_seen_status = ? WHERE id = ? AND kiosk_seen_status <> ?', [status, id, status]);
  }

  /** Open attempts whose deadline has passed (ids and statuses). */
  async overdueAttempts(now: number, limit: number): Promise<{ id: string; status: IssuanceStatus }[]> {
    return this.sql.all<{ id: string; status: IssuanceStatus }>(
      `SELECT id, status FROM issuance_attempts WHERE status IN ${OPEN_SQL} AND deadline_at <= ? ORDER BY deadline_at LIMIT ?`,
      [now, limit],
    );
  }

  /** The attempt that holds an application (open, or delivered with an unknown outcome), if any. */
  async holdingAttemptFor(applicationId: string): Promise<AttemptRecord | null> {
    const r = await this.sql.get<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM issuance_attempts WHERE application_id = ?
         AND status IN ('confirmation_pending', 'approved', 'delivered', 'outcome_unknown')${this.sql.forUpdate}`,
      [applicationId],
    );
    return r ? attemptFromRow(r) : null;
  }

  /** Attempts awaiting an answer from any of these device keys, oldest first. */
  async pendingForDevices(deviceKeySha256s: readonly string[], now: number): Promise<AttemptRecord[]> {
    if (deviceKeySha256s.length === 0) return [];
    const rows = await this.sql.all<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS.split(', ').map((c) => 't.' + c).join(', ')} FROM issuance_attempts t
       JOIN applications a ON a.id = t.application_id
       WHERE a.device_key_sha256 IN (${deviceKeySha256s.map(() => '?').join(', ')})
         AND t.status = 'confirmation_pending' AND t.confirmation_expires_at > ?
       ORDER BY t.created_at`,
      [...deviceKeySha256s, now],
    );
    return rows.map(attemptFromRow);
  }

  /** Keeps a rendered document on its attempt while it is still `approved`; false when another render was kept first. */
  async storeRendered(attemptId: string, doc: StoredDocument): Promise<boolean> {
    const r = await this.sql.run(
      `UPDATE issuance_attempts SET document = ?, document_sha256 = ?, verification_code = ?, document_input_sha256 = ?
       WHERE id = ? AND status = 'approved' AND document IS NULL`,
      [doc.pdf, doc.sha256, doc.verificationCode, doc.inputSha256, attemptId],
    );
    return r.changes === 1;
  }

  /** Forgets a rendered document made from data that has since changed. */
  async discardRendered(attemptId: string): Promise<void> {
    await this.sql.run(
      `UPDATE issuance_attempts SET document = NULL, document_sha256 = NULL, verification_code = NULL, document_input_sha256 = NULL
       WHERE id = ? AND status = 'approved'`,
      [attemptId],
    );
  }

  /** The document kept on an attempt still in flight. */
  async document(attemptId: string): Promise<StoredDocument | null> {
    const r = await this.sql.get<{ document: Buffer | null; document_sha256: string; verification_code: string; document_input_sha256: string }>(
      'SELECT document, document_sha256, verification_code, document_input_sha256 FROM issuance_attempts WHERE id = ?',
      [attemptId],
    );
    return r?.document ? { pdf: r.document, sha256: r.document_sha256, verificationCode: r.verification_code, inputSha256: r.document_input_sha256 } : null;
  }

  /** Marks the attempt's document delivered at `now` and registers it for public verification. */
  async registerDelivered(attemptId: string, doc: StoredDocument, certificateType: CertificateType, now: number): Promise<void> {
    await this.sql.run('UPDATE issuance_attempts SET delivered_at = ? WHERE id = ?', [now, attemptId]);
    await this.sql.run(
      'INSERT INTO issued_documents (verification_code, attempt_id, certificate_type, issued_at, document_sha256) VALUES (?, ?, ?, ?, ?)',
      [doc.verificationCode, attemptId, certificateType, now, doc.sha256],
    );
  }

  /** A document registered for verification, with the status of the attempt that issued it. */
  async issuedDocument(code: string): Promise<{ certificateType: CertificateType; issuedAt: number; documentSha256: string; attemptStatus: IssuanceStatus } | null> {
    const r = await this.sql.get<{ certificate_type: CertificateType; issued_at: number; document_sha256: string; status: IssuanceStatus }>(
      `SELECT d.certificate_type, d.issued_at, d.document_sha256, t.status FROM issued_documents d
       JOIN issuance_attempts t ON t.id = d.attempt_id WHERE d.verification_code = ?`,
      [code],
    );
    return r ? { certificateType: r.certificate_type, issuedAt: r.issued_at, documentSha256: r.document_sha256, attemptStatus: r.status } : null;
  }

  /** The application and attempt changes another node announced, as the records are now (records that no longer exist, and other kinds, are left out). */
  async lifecycleChanges(refs: readonly ChangeRef[]): Promise<LifecycleChange[]> {
    const ids = (kind: ChangeRef['kind']) => [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id))];
    const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
    const appIds = ids('application');
    const attemptIds = ids('attempt');
    const apps = appIds.length
      ? await this.sql.all<{ id: string; resident_id: string; device_key_sha256: string; status: ApplicationStatus }>(
          `SELECT id, resident_id, device_key_sha256, status FROM applications WHERE id IN (${marks(appIds.length)})`,
          appIds,
        )
      : [];
    const attempts = attemptIds.length
      ? await this.sql.all<{ id: string; request_id: string; application_id: string; status: IssuanceStatus; resident_id: string; device_key_sha256: string }>(
          `SELECT t.id, t.request_id, t.application_id, t.status, a.resident_id, a.device_key_sha256 FROM issuance_attempts t
           JOIN applications a ON a.id = t.application_id WHERE t.id IN (${marks(attemptIds.length)})`,
          attemptIds,
        )
      : [];
    const appById = new Map(apps.map((r) => [r.id, r]));
    const attemptById = new Map(attempts.map((r) => [r.id, r]));
    return refs.flatMap((ref): LifecycleChange[] => {
      if (ref.kind === 'application') {
        const r = appById.get(ref.id);
        return r ? [{ kind: 'application', applicationId: r.id, residentId: r.resident_id, deviceKeySha256: r.device_key_sha256, status: r.status }] : [];
      }
      const t = ref.kind === 'attempt' ? attemptById.get(ref.id) : undefined;
      return t ? [{ kind: 'attempt', attemptId: t.id, requestId: t.request_id, applicationId: t.application_id, residentId: t.resident_id, deviceKeySha256: t.device_key_sha256, status: t.status }] : [];
    });
  }

  /** Attempts whose outcome nobody knows yet, oldest first (for staff to settle). */
  async unsettled(): Promise<(AttemptRecord & { receiptNumber: string; certificateType: CertificateType })[]> {
    const rows = await this.sql.all<AttemptRow & { receipt_number: string; certificate_type: CertificateType }>(
      `SELECT ${ATTEMPT_COLUMNS.split(', ').map((c) => 't.' + c).join(', ')}, a.receipt_number, a.certificate_type
       FROM issuance_attempts t JOIN applications a ON a.id = t.application_id
       WHERE t.status = 'outcome_unknown' ORDER BY t.updated_at`,
    );
    return rows.map((r) => ({ ...attemptFromRow(r), receiptNumber: r.receipt_number, certificateType: r.certificate_type }));
  }
}
