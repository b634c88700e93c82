import { generateReceiptNumber, type Application, type CertificateType, type CreateApplicationRequest, type SubjectsResponse } from '@cert/common';
import { randomUUID } from 'node:crypto';
import type { ServerConfig } from '../config.ts';
import type { ApplicationRecord } from '../store/application-store.ts';
import type { Session } from '../store/session-store.ts';
import type { Store, Tx } from '../store/store.ts';
import { resolveOrder, type CatalogService } from './catalog.ts';
import { fiscalYearsOn, tokyoMoment } from './catalog-config.ts';
import type { DocumentService } from './document-service.ts';
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
    private readonly store: Store,
    private readonly lifecycle: LifecycleService,
    private readonly documents: DocumentService,
    private readonly catalog: CatalogService,
    private readonly config: ServerConfig,
  ) {}

  /** Whom the resident may put on a certificate, and what they can ask for (`GET /api/v1/applicant/subjects`). */
  async subjects(session: Session): Promise<SubjectsResponse> {
    const now = this.config.clock();
    return this.store.read(async (tx) => {
      const me = await tx.residents.get(session.residentId);
      if (!me) throw new ServiceError('session_invalid', 'the resident is no longer on the register; log in again');
      const household = me.status === 'active' ? await tx.residents.activeHousehold(me.householdId) : [me];
      const kosekiId = await tx.records.kosekiIdOf(me.id);
      const koseki = kosekiId ? await tx.records.koseki(kosekiId) : null;
      const config = await this.catalog.config(tx);
      const offered = config ? fiscalYearsOn(config, tokyoMoment(now).date) : [];
      const recorded = await tx.records.taxYears(me.id);
      const seal = await tx.records.seal(me.id);
      return {
        household: household.map((r) => ({ id: r.id, name: r.name, relationship: r.relationshipToHead, self: r.id === me.id })),
        koseki: koseki && koseki.status === 'current' ? { persons: koseki.members.map((m) => ({ seq: m.seq, name: `${m.surname}\u3000${m.givenName}`, removed: m.removed, self: m.residentId === me.id })) } : null,
        taxYears: offered.filter((y) => recorded.includes(y)),
        seal: seal?.status === 'active',
        foreign: !!me.nationality,
      };
    });
  }

  /** Stores a new application under a fresh random receipt number bound to the session's device key, if the rules allow the certificate now. */
  async create(session: Session, req: CreateApplicationRequest): Promise<Application> {
    const now = this.config.clock();
    const type = req.certificateType as CertificateType;
    return this.store.write(async (tx) => {
      const config = await this.catalog.config(tx);
      if (!config) throw new ServiceError('service_unavailable', 'the server has not been initialised with a municipality');
      const order = resolveOrder(config, type, req.options ?? {}, req.copies, now);
      const prep = await this.documents.prepare(tx, { residentId: session.residentId, certificateType: type, options: order.options, pinned: {}, copies: req.copies }, now, 'application');
      if (!prep.ok) throw new ServiceError(prep.code, prep.message);
      for (;;) {
        const record: ApplicationRecord = {
          id: randomUUID(),
          receiptNumber: generateReceiptNumber(),
          residentId: session.residentId,
          deviceKeySha256: session.deviceKeySha256,
          certificateType: type,
          options: order.options,
          pinned: prep.pinned,
          copies: req.copies,
          fee: order.fee,
          status: 'submitted',
          createdAt: now,
          expiresAt: now + this.config.receiptValidityMs,
        };
        // A collision with an existing receipt number is astronomically rare; draw again.
        if (!(await tx.applications.insert(record))) continue;
        tx.audit({ actor: `resident:${session.residentId}`, event: 'application.created', subject: record.id, details: { type: record.certificateType, copies: record.copies } }, now);
        tx.announce({ kind: 'application', applicationId: record.id, residentId: record.residentId, deviceKeySha256: record.deviceKeySha256, status: 'submitted' });
        return toApplication(record);
      }
    });
  }

  /** The resident's own applications, newest first. */
  async list(session: Session): Promise<Application[]> {
    return (await this.store.read((tx) => tx.applications.listForResident(session.residentId))).map(toApplication);
  }

  /** One of the resident's own applications. */
  async get(session: Session, id: string): Promise<Application> {
    return toApplication(await this.store.read((tx) => this.own(tx, session, id)));
  }

  private async own(tx: Tx, session: Session, id: string, lock = false): Promise<ApplicationRecord> {
    const a = await tx.applications.get(id, lock);
    if (!a || a.residentId !== session.residentId) throw new ServiceError('not_found', 'no such application');
    return a;
  }

  /** Cancels an application; a pending print confirmation is declined, a print under way refuses. */
  async cancel(session: Session, id: string): Promise<{ status: 'cancelled' }> {
    const now = this.config.clock();
    const actor = `resident:${session.residentId}` as const;
    await this.store.write(async (tx) => {
      const a = await this.own(tx, session, id, true);
      if (a.status === 'cancelled') return;
      if (a.status === 'in_issuance') {
        const attempt = await tx.applications.holdingAttemptFor(a.id);
        if (attempt?.status !== 'confirmation_pending') {
          throw new ServiceError('invalid_state', 'the certificate is being printed at a kiosk and can no longer be cancelled');
        }
        await this.lifecycle.moveAttempt(tx, attempt.id, ['confirmation_pending'], 'declined', actor, now, { detail: 'application cancelled' });
      }
      const fresh = (await tx.applications.get(a.id))!;
      if (fresh.status !== 'submitted') throw new ServiceError('invalid_state', `an application that is ${fresh.status} cannot be cancelled`);
      await this.lifecycle.moveApplication(tx, fresh, 'submitted', 'cancelled', actor, now);
    });
    return { status: 'cancelled' };
  }
}
