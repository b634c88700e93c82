import {
  OPEN_ISSUANCE_STATUSES,
  confirmationSignedText,
  parseReceiptNumber,
  type CreateIssuanceResponse,
  paymentCollected,
  type IssuanceResultRequest,
  type IssuanceStatus,
  type PaymentReport,
  type PrintConfirmationRequest,
  type Assertion,
  type RefusalCode,
} from '@cert/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { AttemptRecord, StoredDocument } from '../store/application-store.ts';
import type { AttemptChanged, ChangeFeed } from '../store/change-feed.ts';
import type { Kiosk } from '../store/kiosk-store.ts';
import type { PaymentOutcome, PaymentRecord } from '../store/payment-store.ts';
import type { Store, Tx } from '../store/store.ts';
import type { DeviceKey } from './device-keys.ts';
import { verifyDeviceSignature } from './device-keys.ts';
import { DocumentRefused, RendererBusy, type DocumentService, type Preparation } from './document-service.ts';
import { toIsoDateJst } from '../documents/wareki.ts';
import type { LifecycleService } from './lifecycle-service.ts';
import type { PhoneService } from './phone-service.ts';
import { takeTokens } from './rate-limiter.ts';
import { ServiceError } from './service-error.ts';

const NOT_FOUND_MESSAGE = 'no printable certificate has this receipt number (wrong, expired, cancelled or already printed)';
/** How often a document fetch renders again because the records changed meanwhile before it answers 503. */
const STALE_DOCUMENT_ROUNDS = 3;

/** What a kiosk is told about its issuance. */
export interface IssuanceView {
  status: IssuanceStatus;
  reason?: RefusalCode;
}

type ClaimOutcome = { ok: true; response: CreateIssuanceResponse; attemptId: string } | { ok: false; error: ServiceError };

/** Kiosk-side issuance (claim, wait, document, result, abandon) and the applicant's confirmation. */
export class IssuanceService {
  /** Renders started when a resident approved, so that the kiosk's fetch finds the document ready. */
  private readonly prerenders = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleService,
    private readonly documents: DocumentService,
    private readonly config: ServerConfig,
    private readonly log: Logger,
    private readonly phones: PhoneService,
  ) {}

  /** Committed lifecycle changes (long-polls and sockets listen here). */
  get changes(): ChangeFeed {
    return this.store.changes;
  }

  /**
   * A kiosk claims a receipt: rate limit, lookup, the rules and the glyph check on the data as
   * it is now, then an attempt that asks the applicant's devices to confirm. One transaction,
   * committed also when the claim is refused (the refusal is counted and audited).
   */
  async start(kiosk: Kiosk, receiptInput: string): Promise<CreateIssuanceResponse> {
    const now = this.config.clock();
    const actor = `kiosk:${kiosk.id}` as const;
    const outcome = await this.store.write(async (tx): Promise<ClaimOutcome> => {
      const wait = await takeTokens(
        tx,
        [
          { key: `kiosk:${kiosk.id}`, limit: this.config.kioskRateLimit },
          { key: 'kiosk:*', limit: this.config.globalRateLimit },
        ],
        now,
      );
      if (wait > 0) return { ok: false, error: new ServiceError('rate_limited', 'too many receipt lookups; try again later', { 'Retry-After': String(Math.ceil(wait / 1000)) }) };
      const refuse = (error: ServiceError): ClaimOutcome => {
        tx.audit({ actor, event: 'kiosk.lookup_refused', subject: kiosk.id, details: { code: error.code } }, now);
        return { ok: false, error };
      };
      const parsed = parseReceiptNumber(receiptInput);
      if (!parsed.ok) return refuse(new ServiceError('receipt_malformed', 'the receipt number must be 12 digits with a valid check digit'));
      let app = await tx.applications.byReceipt(parsed.receiptNumber);
      if (app?.status === 'in_issuance') {
        // An attempt left behind past its deadline must not block the receipt until the next sweep.
        const holding = await tx.applications.holdingAttemptFor(app.id);
        if (holding && (await this.lifecycle.expireIfOverdue(tx, holding, now))) app = await tx.applications.get(app.id, true);
      }
      if (!app || app.expiresAt <= now || (app.status !== 'submitted' && app.status !== 'in_issuance')) {
        return refuse(new ServiceError('receipt_not_found', NOT_FOUND_MESSAGE));
      }
      if (app.status === 'in_issuance') return refuse(new ServiceError('issuance_in_progress', 'this receipt is being issued at another kiosk'));
      const prep = await this.documents.prepare(tx, app, now, 'claim');
      if (!prep.ok) return refuse(new ServiceError(prep.code, prep.message));
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
        refusalCode: null,
        deliveredAt: null,
      };
      await this.lifecycle.moveApplication(tx, app, 'submitted', 'in_issuance', actor, now);
      await tx.applications.insertAttempt(attempt);
      tx.audit({ actor, event: 'issuance.started', subject: attempt.id, details: { application: app.id } }, now);
      tx.announce({ kind: 'attempt', attemptId: attempt.id, requestId: attempt.requestId, applicationId: app.id, residentId: app.residentId, deviceKeySha256: app.deviceKeySha256, status: 'confirmation_pending' });
      return {
        ok: true,
        attemptId: attempt.id,
        response: {
          issuanceId: attempt.id,
          status: 'confirmation_pending',
          certificateType: app.certificateType,
          copies: app.copies,
          fee: app.fee,
          expiresAt: new Date(attempt.confirmationExpiresAt).toISOString(),
        },
      };
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.response;
  }

  private async own(tx: Tx, kiosk: Kiosk, id: string): Promise<AttemptRecord> {
    const a = await tx.applications.attempt(id);
    if (!a || a.kioskId !== kiosk.id) throw new ServiceError('not_found', 'no such issuance for this kiosk');
    return a;
  }

  private view(a: AttemptRecord): IssuanceView {
    return { status: a.status, ...(a.status === 'refused' && a.refusalCode ? { reason: a.refusalCode as RefusalCode } : {}) };
  }

  /** Long-poll: answers when the status differs from `since` (default: what the kiosk last saw) or after `waitMs`. */
  async status(kiosk: Kiosk, id: string, waitMs: number, since: IssuanceStatus | undefined, signal: AbortSignal): Promise<IssuanceView> {
    let current = await this.current(kiosk, id);
    const baseline = since ?? current.kioskSeenStatus;
    if (current.status === baseline && waitMs > 0 && OPEN_ISSUANCE_STATUSES.includes(current.status)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.changes.off('attempt', onChange);
          // Changes other nodes made may have been missed: the answer reads the database again.
          this.changes.off('resync', done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const onChange = (c: AttemptChanged) => {
          if (c.attemptId === id && c.status !== baseline) done();
        };
        // The attempt's own deadline also ends the wait: it is moved then (here, or by the sweep).
        const until = current.deadlineAt === null ? waitMs : Math.min(waitMs, Math.max(0, current.deadlineAt - this.config.clock()) + this.config.sweepIntervalMs);
        const timer = setTimeout(done, until);
        this.changes.on('attempt', onChange);
        this.changes.on('resync', done);
        signal.addEventListener('abort', done);
      });
      // The event says that something changed; what it changed to is read back from the database.
      current = await this.current(kiosk, id);
    }
    // Kiosks that say which status they saw (ours do) need nothing remembered for them.
    if (since === undefined && current.status !== current.kioskSeenStatus && !signal.aborted) {
      await this.store.write((tx) => tx.applications.setKioskSeen(id, current.status));
    }
    return this.view(current);
  }

  /** The kiosk's own attempt, moved to its timeout first if it has passed its deadline. */
  private async current(kiosk: Kiosk, id: string): Promise<AttemptRecord> {
    const a = await this.store.read((tx) => this.own(tx, kiosk, id));
    const now = this.config.clock();
    if (a.deadlineAt === null || a.deadlineAt > now || !OPEN_ISSUANCE_STATUSES.includes(a.status)) return a;
    await this.lifecycle.expireOverdue(id, now);
    return this.store.read((tx) => this.own(tx, kiosk, id));
  }

  /** The refusal of an attempt whose data no longer allows the certificate. */
  private async refuse(attempt: AttemptRecord, prep: Extract<Preparation, { ok: false }>, actor: `kiosk:${string}` | 'system', now: number): Promise<never> {
    try {
      await this.store.write((tx) => this.lifecycle.moveAttempt(tx, attempt.id, ['confirmation_pending', 'approved'], 'refused', actor, now, { refusalCode: prep.code, detail: prep.message }));
    } catch (e) {
      // On PostgreSQL the render started at the approval and the kiosk's fetch can refuse side by
      // side: the one that finds the attempt already refused answers with that refusal too.
      if (!(e instanceof ServiceError && e.code === 'invalid_state')) throw e;
      const ended = await this.store.read((tx) => tx.applications.attempt(attempt.id));
      if (ended?.status !== 'refused' || !ended.refusalCode) throw e;
      throw new ServiceError(ended.refusalCode as RefusalCode, 'the data no longer allows this certificate');
    }
    this.log.warn({ issuanceId: attempt.id, reason: prep.code }, 'issuance refused at print time');
    throw new ServiceError(prep.code, prep.message);
  }

  /**
   * The certificate PDF. The rules are applied again to the data as it is now; the document
   * rendered when the resident approved is handed out when it was made from that same data,
   * else it is rendered again. The attempt becomes `delivered` and its print deadline counts
   * from this moment.
   */
  async document(kiosk: Kiosk, id: string): Promise<Buffer> {
    const attempt = await this.current(kiosk, id);
    if (attempt.status === 'delivered') {
      // A resume by the same kiosk (its first answer was lost): the same document, never a second one.
      const stored = await this.store.read((tx) => tx.applications.document(id));
      if (stored) return stored.pdf;
    }
    if (attempt.status === 'refused' && attempt.refusalCode) throw new ServiceError(attempt.refusalCode as RefusalCode, 'the data no longer allows this certificate');
    if (attempt.status !== 'approved') {
      throw new ServiceError('invalid_state', `the document is available only once the applicant has approved (issuance is ${attempt.status})`);
    }
    await this.prerenders.get(id);
    for (let round = 1; ; round++) {
      const doc = await this.readyDocument(attempt, `kiosk:${kiosk.id}`);
      const now = this.config.clock();
      let current: boolean;
      try {
        current = await this.store.write(async (tx) => {
          const app = (await tx.applications.get(attempt.applicationId))!;
          // The document was made outside this transaction: hand it out only if the data as
          // committed now (a records change may have committed meanwhile, on any node) still
          // gives it, so that the audit log never shows a delivery after a change that forbade it.
          const prep = await this.documents.prepare(tx, app, now, 'delivery');
          if (!prep.ok || prep.contentSha256 !== doc.inputSha256) return false;
          await this.lifecycle.moveAttempt(tx, id, ['approved'], 'delivered', `kiosk:${kiosk.id}`, now, { kioskSeen: true });
          await tx.applications.registerDelivered(id, doc, app.certificateType, now);
          return true;
        });
      } catch (e) {
        // A concurrent fetch by this same kiosk delivered first: hand out that document.
        const stored = e instanceof ServiceError ? await this.store.read(async (tx) => ((await tx.applications.attempt(id))?.status === 'delivered' ? tx.applications.document(id) : null)) : null;
        if (stored) return stored.pdf;
        throw e;
      }
      if (current) return doc.pdf;
      // The data changed: the next round refuses (no longer allowed) or renders it again.
      if (round >= STALE_DOCUMENT_ROUNDS) throw new ServiceError('service_unavailable', 'the records changed while the certificate was being prepared; fetch it again shortly', { 'Retry-After': '1' });
    }
  }

  /** The approved attempt's document for the data as it is now (kept from the approval when still current). */
  private async readyDocument(attempt: AttemptRecord, actor: `kiosk:${string}` | 'system'): Promise<StoredDocument> {
    const { prep, stored } = await this.store.read(async (tx) => {
      const app = (await tx.applications.get(attempt.applicationId))!;
      return { prep: await this.documents.prepare(tx, app, this.config.clock(), 'delivery'), stored: await tx.applications.document(attempt.id) };
    });
    if (!prep.ok) return this.refuse(attempt, prep, actor, this.config.clock());
    if (stored?.inputSha256 === prep.contentSha256) return stored;
    let rendered: StoredDocument;
    try {
      const issuedAt = new Date(this.config.clock());
      const firstSerial = await this.store.write((tx) => tx.records.takeSerials(toIsoDateJst(issuedAt), prep.copies));
      rendered = await this.documents.render(prep, { issuanceId: attempt.id, terminal: attempt.kioskId }, issuedAt, firstSerial);
    } catch (e) {
      if (e instanceof RendererBusy) throw new ServiceError('service_unavailable', 'the certificate is being prepared; fetch it again shortly', { 'Retry-After': '1' });
      if (!(e instanceof DocumentRefused)) throw e;
      // Checked at the claim, so this is a bug or a font changed under us: the attempt ends, with its reason.
      this.log.error({ err: e, issuanceId: attempt.id }, 'document could not be rendered after approval');
      return this.refuse(attempt, { ok: false, code: e.code, message: e.message }, actor, this.config.clock());
    }
    const kept = await this.store.write(async (tx) => {
      if (stored) await tx.applications.discardRendered(attempt.id);
      return (await tx.applications.storeRendered(attempt.id, rendered)) ? rendered : tx.applications.document(attempt.id);
    });
    if (!kept) throw new ServiceError('invalid_state', 'the issuance ended while its document was being prepared');
    return kept;
  }

  /** Starts rendering as soon as the resident approved (errors are logged; the kiosk's fetch retries). */
  private prerender(attempt: AttemptRecord): void {
    const job = this.readyDocument({ ...attempt, status: 'approved' }, 'system').then(
      () => undefined,
      (err: unknown) => {
        if (!(err instanceof ServiceError)) this.log.error({ err, issuanceId: attempt.id }, 'prerender failed');
      },
    );
    this.prerenders.set(attempt.id, job);
    void job.finally(() => this.prerenders.delete(attempt.id));
  }

  /** Resolves when the render started at the approval of `issuanceId` has ended (at once when none runs). */
  async prepared(issuanceId: string): Promise<void> {
    await this.prerenders.get(issuanceId);
  }

  /**
   * The kiosk reports how the print job ended (also late, for an outcome the server did not
   * know), with the money of a paid attempt: recorded in the same transaction as the outcome,
   * once however often the report is retried.
   */
  async result(kiosk: Kiosk, id: string, req: IssuanceResultRequest): Promise<IssuanceStatus> {
    const to: IssuanceStatus = req.outcome === 'printed' ? 'printed' : 'print_failed';
    const from: IssuanceStatus[] = to === 'printed' ? ['delivered', 'outcome_unknown'] : ['approved', 'delivered', 'outcome_unknown'];
    const now = this.config.clock();
    const status = await this.settled(kiosk, id, req.outcome, req.payment, now, async (tx) => {
      const attempt = await this.own(tx, kiosk, id);
      if (attempt.status === to) return to;
      await this.lifecycle.moveAttempt(tx, id, from, to, `kiosk:${kiosk.id}`, now, { kioskSeen: true, ...(req.detail ? { detail: req.detail } : {}) });
      return to;
    });
    if (to === 'print_failed') this.log.warn({ issuanceId: id, kioskId: kiosk.id }, 'print failed');
    return status;
  }

  /** The kiosk gives up (the resident walked away); the receipt stays printable. `payment`: money put in and paid back (or owed). */
  async abandon(kiosk: Kiosk, id: string, payment?: PaymentReport): Promise<IssuanceStatus> {
    await this.current(kiosk, id);
    const now = this.config.clock();
    return this.settled(kiosk, id, 'abandoned', payment, now, async (tx) => {
      const attempt = await this.own(tx, kiosk, id);
      if (attempt.status === 'abandoned') return 'abandoned';
      await this.lifecycle.moveAttempt(tx, id, OPEN_ISSUANCE_STATUSES, 'abandoned', `kiosk:${kiosk.id}`, now, { kioskSeen: true });
      return 'abandoned';
    });
  }

  /**
   * Runs a status change and records its payment in the same transaction. An attempt that had
   * already ended otherwise (expired while the kiosk was cut off) still gets its money recorded,
   * in a transaction of its own, before the refusal goes back: the coins moved whatever the
   * status says (a settlement report then shows the conflict: a fee without a printed issuance).
   */
  private async settled(kiosk: Kiosk, id: string, outcome: PaymentOutcome, payment: PaymentReport | undefined, now: number, change: (tx: Tx) => Promise<IssuanceStatus>): Promise<IssuanceStatus> {
    const once = () =>
      this.store.write(async (tx) => {
        const status = await change(tx);
        if (payment) await this.recordPayment(tx, kiosk, id, outcome, payment, now);
        return status;
      });
    try {
      return await once();
    } catch (e) {
      if (!(e instanceof ServiceError && e.code === 'invalid_state')) throw e;
    }
    // On PostgreSQL copies of one report (a kiosk retrying a slow answer) run side by side: the
    // others read the attempt before the first moved it and find it moved only under its lock.
    // Read afresh, they are retries like any other.
    try {
      return await once();
    } catch (e) {
      if (!(payment && e instanceof ServiceError && e.code === 'invalid_state')) throw e;
      await this.store.write((tx) => this.recordPayment(tx, kiosk, id, outcome, payment, now));
      throw e;
    }
  }

  /** Checks a payment against the attempt and records it once (audited); a retried report finds it recorded and changes nothing. */
  private async recordPayment(tx: Tx, kiosk: Kiosk, id: string, outcome: PaymentOutcome, p: PaymentReport, now: number): Promise<void> {
    const attempt = await this.own(tx, kiosk, id);
    const app = (await tx.applications.get(attempt.applicationId))!;
    if (p.due !== app.fee) throw new ServiceError('invalid_request', `payment: due ¥${p.due} is not the fee of this application (¥${app.fee})`);
    const collected = paymentCollected(p);
    const expected = outcome === 'printed' ? p.due : 0;
    if (collected !== expected) {
      throw new ServiceError('invalid_request', `payment: a${outcome === 'printed' ? ' printed' : 'n unprinted'} attempt keeps ¥${expected}, but inserted − change − refunded − owed is ¥${collected}`);
    }
    if (!(await tx.payments.insert({ issuanceId: id, kioskId: kiosk.id, outcome, report: p, collected, recordedAt: now }))) {
      // Not inserted: a retry of the report (nothing to do), or money the server cannot take as
      // reported. Refused in the contract's words: the kiosk keeps its journal entry for staff.
      const stored = await tx.payments.get(id);
      if (!stored) throw new ServiceError('invalid_state', `payment: refund slip ${p.slipCode ?? ''} is already another attempt's`);
      if (!samePayment(stored, kiosk.id, outcome, p)) throw new ServiceError('invalid_state', 'payment: this attempt already has a different payment recorded');
      return;
    }
    tx.audit(
      {
        actor: `kiosk:${kiosk.id}`,
        event: 'payment.recorded',
        subject: id,
        details: { outcome, device: p.device, due: p.due, inserted: p.inserted, change: p.change, refunded: p.refunded, refundOwed: p.refundOwed, ...(p.slipCode ? { slipCode: p.slipCode } : {}) },
      },
      now,
    );
  }

  /** Requests awaiting an answer from these devices (of one resident, for a phone), to (re)send on authentication. */
  async pendingRequests(deviceKeySha256s: readonly string[], residentId?: string): Promise<PrintConfirmationRequest[]> {
    const now = this.config.clock();
    return this.store.read(async (tx) => {
      const out: PrintConfirmationRequest[] = [];
      for (const a of await tx.applications.pendingForDevices(deviceKeySha256s, now)) {
        const request = await this.confirmationRequest(tx, a, residentId);
        if (request) out.push(request);
      }
      return out;
    });
  }

  /** The request message of one attempt if it still awaits an answer. */
  async pendingRequest(attemptId: string): Promise<PrintConfirmationRequest | null> {
    const now = this.config.clock();
    return this.store.read(async (tx) => {
      const a = await tx.applications.attempt(attemptId);
      return a && a.status === 'confirmation_pending' && a.confirmationExpiresAt > now ? this.confirmationRequest(tx, a) : null;
    });
  }

  /** The refusal reason of an attempt, if it was refused. */
  async refusalOf(attemptId: string): Promise<RefusalCode | undefined> {
    const a = await this.store.read((tx) => tx.applications.attempt(attemptId));
    return a?.status === 'refused' ? ((a.refusalCode as RefusalCode | null) ?? undefined) : undefined;
  }

  private async confirmationRequest(tx: Tx, a: AttemptRecord, residentId?: string): Promise<PrintConfirmationRequest | null> {
    const app = (await tx.applications.get(a.applicationId))!;
    if (residentId !== undefined && app.residentId !== residentId) return null;
    const kiosk = (await tx.kiosks.get(a.kioskId))!;
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

  /**
   * Applies a device's signed answer. A PC counts when its device key is the application's; a
   * paired phone (`phone`) when the binding rule of PhoneService admits it, and its approval also
   * needs its passkey's assertion with user verification. The first valid answer wins: the
   * attempt moves once, and every later answer finds it no longer pending.
   */
  async confirm(device: DeviceKey, requestId: string, approved: boolean, signature: string, phone?: { id: string; assertion?: Assertion }): Promise<IssuanceStatus> {
    const found = await this.store.read(async (tx) => {
      const attempt = await tx.applications.attemptByRequest(requestId);
      const app = attempt && (await tx.applications.get(attempt.applicationId));
      if (!attempt || !app) return null;
      if (!phone) return app.deviceKeySha256 === device.sha256 ? { attempt, answering: null } : null;
      const answering = await this.phones.answeringPhone(tx, phone.id, app);
      return answering && answering.deviceKeySha256 === device.sha256 ? { attempt, answering } : null;
    });
    if (!found) throw new ServiceError('not_found', 'no print confirmation request with this id for this device');
    if (!verifyDeviceSignature(device.key, confirmationSignedText(requestId, approved), signature)) {
      throw new ServiceError('signature_invalid', 'the confirmation signature does not verify with this device key');
    }
    const { attempt, answering } = found;
    // Decline needs no verification: it can only stop a print.
    const counter = answering && approved ? { from: answering.signCount, to: await this.phones.verifyApproval(answering, requestId, phone?.assertion) } : null;
    const now = this.config.clock();
    // A late answer never wins: past its deadline the attempt is moved to its timeout first.
    if (attempt.deadlineAt !== null && attempt.deadlineAt <= now) await this.lifecycle.expireOverdue(attempt.id, now);
    const actor = answering ? (`phone:${answering.id}` as const) : (`device:${device.sha256.slice(0, 16)}` as const);
    const moved = await this.store.write(async (tx) => {
      if (answering) {
        const app = (await tx.applications.get(attempt.applicationId))!;
        if (!(await this.phones.answeringPhone(tx, answering.id, app))) throw new ServiceError('not_found', 'this phone may no longer answer for this application');
        // The counter moves once per assertion: a replayed assertion finds it moved.
        if (counter && !(await tx.phones.advanceCounter(answering.id, counter.from, counter.to))) throw new ServiceError('passkey_invalid', 'this assertion was already used');
      }
      const m = await this.lifecycle.moveAttempt(tx, attempt.id, ['confirmation_pending'], approved ? 'approved' : 'declined', actor, now);
      if (answering) tx.audit({ actor, event: approved ? 'phone.approve' : 'phone.decline', subject: attempt.id, details: { phone: answering.id, userVerified: approved } }, now);
      return m;
    });
    if (moved.status === 'approved') this.prerender(moved);
    return moved.status;
  }
}

/** True when a stored payment is the one reported again (a retried report), to the yen and the coin. */
function samePayment(stored: PaymentRecord, kioskId: string, outcome: PaymentOutcome, p: PaymentReport): boolean {
  const a = stored.report;
  return (
    stored.kioskId === kioskId &&
    stored.outcome === outcome &&
    a.device === p.device &&
    a.due === p.due &&
    a.inserted === p.inserted &&
    a.change === p.change &&
    a.refunded === p.refunded &&
    a.refundOwed === p.refundOwed &&
    (a.slipCode ?? null) === (p.slipCode ?? null) &&
    JSON.stringify(a.credits) === JSON.stringify(p.credits) &&
    JSON.stringify(a.payouts) === JSON.stringify(p.payouts)
  );
}
