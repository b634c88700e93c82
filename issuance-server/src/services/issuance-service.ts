import {
  FINAL_ISSUANCE_STATUSES,
  confirmationSignedText,
  parseReceiptNumber,
  type CreateIssuanceResponse,
  type IssuanceResultRequest,
  type IssuanceStatus,
  type PrintConfirmationRequest,
} from '@cert/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { ApplicationStore, AttemptRecord } from '../store/application-store.ts';
import type { AuditLog } from '../store/audit-log.ts';
import type { Kiosk, KioskStore } from '../store/kiosk-store.ts';
import type { DocumentService } from './document-service.ts';
import type { AttemptChanged } from './lifecycle-events.ts';
import type { LifecycleService } from './lifecycle-service.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ServiceError } from './service-error.ts';
import type { DeviceKey } from './device-keys.ts';
import { verifyDeviceSignature } from './device-keys.ts';

const NOT_FOUND_MESSAGE = 'no printable certificate has this receipt number (wrong, expired, cancelled or already printed)';

/** Kiosk-side issuance (claim, wait, document, result, abandon) and the applicant's confirmation. */
export class IssuanceService {
  private readonly kioskLimiter: RateLimiter;
  private readonly globalLimiter: RateLimiter;

  constructor(
    private readonly store: ApplicationStore,
    private readonly kiosks: KioskStore,
    private readonly audit: AuditLog,
    private readonly lifecycle: LifecycleService,
    private readonly documents: DocumentService,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.kioskLimiter = new RateLimiter(config.kioskRateLimit);
    this.globalLimiter = new RateLimiter(config.globalRateLimit);
  }

  private rateLimit(kiosk: Kiosk, now: number): void {
    let wait = this.kioskLimiter.take(kiosk.id, now);
    if (wait === 0) {
      wait = this.globalLimiter.take('*', now);
      // A lookup refused by the global limit should not also cost the kiosk its own allowance.
      if (wait > 0) this.kioskLimiter.refund(kiosk.id);
    }
    if (wait > 0) {
      this.lifecycle.run(() => this.audit.append({ actor: `kiosk:${kiosk.id}`, event: 'kiosk.rate_limited', subject: kiosk.id }, now));
      throw new ServiceError('rate_limited', 'too many receipt lookups; try again later', { 'Retry-After': String(Math.ceil(wait / 1000)) });
    }
  }

  /** A kiosk claims a receipt: opens an attempt and asks the applicant's device to confirm. */
  start(kiosk: Kiosk, receiptInput: string, now: number = Date.now()): CreateIssuanceResponse {
    this.rateLimit(kiosk, now);
    const parsed = parseReceiptNumber(receiptInput);
    if (!parsed.ok) throw new ServiceError('receipt_malformed', 'the receipt number must be 12 digits with a valid check digit');
    this.lifecycle.sweep(now);
    const actor = `kiosk:${kiosk.id}` as const;
    try {
      return this.lifecycle.run((pending) => {
        const app = this.store.byReceipt(parsed.receiptNumber);
        if (!app || app.expiresAt <= now || (app.status !== 'submitted' && app.status !== 'in_issuance')) {
          throw new ServiceError('receipt_not_found', NOT_FOUND_MESSAGE);
        }
        if (app.status === 'in_issuance') throw new ServiceError('issuance_in_progress', 'this receipt is being issued at another kiosk');
        const attempt: AttemptRecord = {
          id: randomUUID(),
          requestId: randomUUID(),
          applicationId: app.id,
          kioskId: kiosk.id,
          status: 'confirmation_pending',
          createdAt: now,
          confirmationExpiresAt: now + this.config.confirmationTimeoutMs,
          deadlineAt: now + this.config.confirmationTimeoutMs,
          kioskSeenStatus: 'confirmation_pending',
          documentSha256: null,
        };
        this.lifecycle.moveApplication(pending, app, 'submitted', 'in_issuance', actor, now);
        this.store.insertAttempt(attempt);
        this.audit.append({ actor, event: 'issuance.started', subject: attempt.id, details: { application: app.id } }, now);
        pending.attempts.push({ attemptId: attempt.id, requestId: attempt.requestId, applicationId: app.id, deviceKeySha256: app.deviceKeySha256, status: 'confirmation_pending' });
        return {
          issuanceId: attempt.id,
          status: 'confirmation_pending' as const,
          certificateType: app.certificateType,
          copies: app.copies,
          fee: app.fee,
          expiresAt: new Date(attempt.confirmationExpiresAt).toISOString(),
        };
      });
    } catch (e) {
      if (e instanceof ServiceError) {
        this.lifecycle.run(() => this.audit.append({ actor, event: 'kiosk.lookup_refused', subject: kiosk.id, details: { code: e.code } }, now));
      }
      throw e;
    }
  }

  private own(kiosk: Kiosk, id: string): AttemptRecord {
    const a = this.store.attempt(id);
    if (!a || a.kioskId !== kiosk.id) throw new ServiceError('not_found', 'no such issuance for this kiosk');
    return a;
  }

  /** Long-poll: answers when the status differs from `since` (default: what the kiosk last saw) or after `waitMs`. */
  async status(kiosk: Kiosk, id: string, waitMs: number, since: IssuanceStatus | undefined, signal: AbortSignal): Promise<IssuanceStatus> {
    this.lifecycle.expireIfOverdue(id, Date.now());
    const first = this.own(kiosk, id);
    const baseline = since ?? first.kioskSeenStatus;
    let status = first.status;
    if (status === baseline && waitMs > 0 && !FINAL_ISSUANCE_STATUSES.includes(status)) {
      status = await new Promise<IssuanceStatus>((resolve) => {
        const done = (s: IssuanceStatus) => {
          clearTimeout(timer);
          this.lifecycle.events.off('attempt', onChange);
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        };
        const onChange = (c: AttemptChanged) => {
          if (c.attemptId === id && c.status !== baseline) done(c.status);
        };
        const onAbort = () => done(status);
        const timer = setTimeout(() => done(this.store.attempt(id)?.status ?? status), waitMs);
        this.lifecycle.events.on('attempt', onChange);
        signal.addEventListener('abort', onAbort);
      });
    }
    this.store.setKioskSeen(id, status);
    return status;
  }

  /** The certificate PDF, rendered on first fetch after approval; the attempt becomes `delivered`. */
  async document(kiosk: Kiosk, id: string, now: number = Date.now()): Promise<Buffer> {
    this.lifecycle.expireIfOverdue(id, now);
    const attempt = this.own(kiosk, id);
    if (attempt.status === 'delivered') {
      const stored = this.store.document(id);
      if (stored) return stored;
    }
    if (attempt.status !== 'approved') {
      throw new ServiceError('invalid_state', `the document is available only once the applicant has approved (issuance is ${attempt.status})`);
    }
    const app = this.store.get(attempt.applicationId)!;
    const rendered = await this.documents.render(app, new Date(now));
    try {
      this.lifecycle.run((pending) => {
        this.lifecycle.moveAttempt(pending, id, ['approved'], 'delivered', `kiosk:${kiosk.id}`, now);
        this.store.storeDocument(id, rendered.pdf, rendered.sha256, rendered.verificationCode, app.certificateType, now);
        this.store.setKioskSeen(id, 'delivered');
      });
    } catch (e) {
      // A concurrent fetch by this same kiosk delivered first while we rendered: hand out that
      // document (a resume), never a second one with another verification code.
      const stored = e instanceof ServiceError && this.store.attempt(id)?.status === 'delivered' ? this.store.document(id) : null;
      if (stored) return stored;
      throw e;
    }
    return rendered.pdf;
  }

  /** The kiosk reports how the print job ended. */
  result(kiosk: Kiosk, id: string, req: IssuanceResultRequest, now: number = Date.now()): IssuanceStatus {
    this.lifecycle.expireIfOverdue(id, now);
    const attempt = this.own(kiosk, id);
    const to: IssuanceStatus = req.outcome === 'printed' ? 'printed' : 'print_failed';
    if (attempt.status === to) return to;
    const from: IssuanceStatus[] = to === 'printed' ? ['delivered'] : ['approved', 'delivered'];
    this.lifecycle.run((pending) => {
      this.lifecycle.moveAttempt(pending, id, from, to, `kiosk:${kiosk.id}`, now, req.detail);
      this.store.setKioskSeen(id, to);
    });
    if (to === 'print_failed') this.log.warn({ issuanceId: id, kioskId: kiosk.id, detail: req.detail }, 'print failed');
    return to;
  }

  /** The kiosk gives up (the resident walked away); the receipt stays printable. */
  abandon(kiosk: Kiosk, id: string, now: number = Date.now()): IssuanceStatus {
    this.lifecycle.expireIfOverdue(id, now);
    const attempt = this.own(kiosk, id);
    if (attempt.status === 'abandoned') return 'abandoned';
    this.lifecycle.run((pending) => {
      this.lifecycle.moveAttempt(pending, id, ['confirmation_pending', 'approved', 'delivered'], 'abandoned', `kiosk:${kiosk.id}`, now);
      this.store.setKioskSeen(id, 'abandoned');
    });
    return 'abandoned';
  }

  /** Requests awaiting an answer from this device, to (re)send on authentication. */
  pendingRequests(deviceKeySha256: string, now: number = Date.now()): PrintConfirmationRequest[] {
    return this.store.pendingForDevice(deviceKeySha256, now).map((a) => this.confirmationRequest(a));
  }

  /** The socket message asking the device to approve an attempt. */
  confirmationRequest(a: AttemptRecord): PrintConfirmationRequest {
    const app = this.store.get(a.applicationId)!;
    const kiosk = this.kiosks.get(a.kioskId)!;
    return {
      type: 'print-confirmation-request',
      requestId: a.requestId,
      applicationId: app.id,
      receiptNumber: app.receiptNumber,
      certificateType: app.certificateType,
      copies: app.copies,
      fee: app.fee,
      kiosk: { id: kiosk.id, name: kiosk.name, location: kiosk.location },
      expiresAt: new Date(a.confirmationExpiresAt).toISOString(),
    };
  }

  /** Applies a device's signed answer; only the device key bound to the application counts. */
  confirm(device: DeviceKey, requestId: string, approved: boolean, signature: string, now: number = Date.now()): IssuanceStatus {
    const attempt = this.store.attemptByRequest(requestId);
    const app = attempt && this.store.get(attempt.applicationId);
    if (!attempt || !app || app.deviceKeySha256 !== device.sha256) {
      throw new ServiceError('not_found', 'no print confirmation request with this id for this device');
    }
    if (!verifyDeviceSignature(device.key, confirmationSignedText(requestId, approved), signature)) {
      throw new ServiceError('signature_invalid', 'the confirmation signature does not verify with this device key');
    }
    this.lifecycle.expireIfOverdue(attempt.id, now);
    return this.lifecycle.run((pending) =>
      this.lifecycle.moveAttempt(pending, attempt.id, ['confirmation_pending'], approved ? 'approved' : 'declined', `device:${device.sha256.slice(0, 16)}`, now),
    ).status;
  }
}
