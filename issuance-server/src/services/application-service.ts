import { generateReceiptNumber, type Application, type CreateApplicationRequest, type CertificateType } from '@cert/common';
import { randomUUID } from 'node:crypto';
import type { ServerConfig } from '../config.ts';
import type { ApplicationRecord, ApplicationStore } from '../store/application-store.ts';
import type { AuditLog } from '../store/audit-log.ts';
import type { ResidentStore } from '../store/resident-store.ts';
import type { Session } from '../store/session-store.ts';
import { resolveOrder } from './catalog.ts';
import type { LifecycleService } from './lifecycle-service.ts';
import { ServiceError } from './service-error.ts';

/** The applicant's view of an application record. */
export function toApplication(a: ApplicationRecord): Application {
  return {
    applicationId: a.id,
    receiptNumber: a.receiptNumber,
    status: a.status,
    expiresAt: new Date(a.expiresAt).toISOString(),
    fee: a.fee,
    certificateType: a.certificateType,
    options: a.options,
    copies: a.copies,
    createdAt: new Date(a.createdAt).toISOString(),
  };
}

/** Applications made by a logged-in resident: apply, list, read, cancel. */
export class ApplicationService {
  constructor(
    private readonly store: ApplicationStore,
    private readonly residents: ResidentStore,
    private readonly audit: AuditLog,
    private readonly lifecycle: LifecycleService,
    private readonly config: ServerConfig,
  ) {}

  /** Stores a new application under a fresh random receipt number bound to the session's device key. */
  create(session: Session, req: CreateApplicationRequest, now: number = Date.now()): Application {
    const order = resolveOrder(req.certificateType as CertificateType, req.options ?? {}, req.copies);
    const resident = this.residents.get(session.residentId);
    if (!resident || resident.status !== 'active') throw new ServiceError('resident_not_found', 'the resident is no longer in the register');
    if (resident.supportMeasure) {
      // Residents under a DV/stalking support measure are issued in person only, by law and practice.
      throw new ServiceError('issuance_restricted', 'this certificate can only be issued at the municipal office counter');
    }
    return this.lifecycle.run((pending) => {
      for (;;) {
        const record: ApplicationRecord = {
          id: randomUUID(),
          receiptNumber: generateReceiptNumber(),
          residentId: resident.id,
          deviceKeySha256: session.deviceKeySha256,
          certificateType: req.certificateType as CertificateType,
          options: order.options,
          copies: req.copies,
          fee: order.fee,
          status: 'submitted',
          createdAt: now,
          expiresAt: now + this.config.receiptValidityMs,
        };
        // A collision with an existing receipt number is astronomically rare; draw again.
        if (!this.store.insert(record)) continue;
        this.audit.append({ actor: `resident:${resident.id}`, event: 'application.created', subject: record.id, details: { type: record.certificateType, copies: record.copies } }, now);
        pending.applications.push({ applicationId: record.id, deviceKeySha256: record.deviceKeySha256, status: 'submitted' });
        return toApplication(record);
      }
    });
  }

  /** The resident's own applications, newest first. */
  list(session: Session): Application[] {
    return this.store.listForResident(session.residentId).map(toApplication);
  }

  /** One of the resident's own applications. */
  get(session: Session, id: string): Application {
    return toApplication(this.own(session, id));
  }

  private own(session: Session, id: string): ApplicationRecord {
    const a = this.store.get(id);
    if (!a || a.residentId !== session.residentId) throw new ServiceError('not_found', 'no such application');
    return a;
  }

  /** Cancels an application; a pending print confirmation is declined, a print under way refuses. */
  cancel(session: Session, id: string, now: number = Date.now()): { status: 'cancelled' } {
    const actor = `resident:${session.residentId}` as const;
    this.lifecycle.run((pending) => {
      const a = this.own(session, id);
      if (a.status === 'cancelled') return;
      if (a.status === 'in_issuance') {
        const attempt = this.store.openAttemptFor(a.id);
        if (attempt?.status !== 'confirmation_pending') {
          throw new ServiceError('invalid_state', 'the certificate is being printed at a kiosk and can no longer be cancelled');
        }
        this.lifecycle.moveAttempt(pending, attempt.id, ['confirmation_pending'], 'declined', actor, now, 'application cancelled');
      }
      const fresh = this.store.get(a.id)!;
      if (fresh.status !== 'submitted') throw new ServiceError('invalid_state', `an application that is ${fresh.status} cannot be cancelled`);
      this.lifecycle.moveApplication(pending, fresh, 'submitted', 'cancelled', actor, now);
    });
    return { status: 'cancelled' };
  }
}
