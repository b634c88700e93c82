import { OPEN_ISSUANCE_STATUSES, type ApplicationStatus, type IssuanceStatus } from '@cert/common';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { ApplicationRecord, AttemptRecord } from '../store/application-store.ts';
import type { Store, Tx } from '../store/store.ts';
import { flushRefusalWindows } from './rate-limiter.ts';
import { ServiceError } from './service-error.ts';

/** Who caused a transition, as written to the audit log. */
export type Actor = `kiosk:${string}` | `resident:${string}` | `device:${string}` | `phone:${string}` | 'system' | 'admin';

/** Optional facts a transition records on the attempt. */
export interface TransitionExtra {
  detail?: string;
  refusalCode?: string;
  /** The kiosk learns the new status in the answer to the call that made it. */
  kioskSeen?: boolean;
}

const SWEEP_BATCH = 200;

/**
 * The lifecycle state machine (DESIGN.md, Lifecycle). Every transition runs inside the caller's
 * write transaction, locks the application and then the attempt (always in that order, so that
 * two nodes never wait on each other in a cycle), is guarded by the expected status of both,
 * is audited, and is announced only after the commit.
 */
export class LifecycleService {
  constructor(
    private readonly store: Store,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {}

  /** Moves an application, failing the transaction when it is not in `from`. */
  async moveApplication(tx: Tx, app: ApplicationRecord, from: ApplicationStatus, to: ApplicationStatus, actor: Actor, now: number): Promise<void> {
    if (!(await tx.applications.transitionApplication(app.id, from, to, now))) {
      throw new ServiceError('invalid_state', `application is no longer ${from}`);
    }
    tx.audit({ actor, event: 'application.status', subject: app.id, details: { from, to } }, now);
    tx.announce({ kind: 'application', applicationId: app.id, residentId: app.residentId, deviceKeySha256: app.deviceKeySha256, status: to });
  }

  /** The deadline an attempt gets on entering a status (null once it no longer runs). */
  private deadlineFor(status: IssuanceStatus, attempt: AttemptRecord, now: number): number | null {
    if (status === 'confirmation_pending') return attempt.confirmationExpiresAt;
    if (status === 'approved' || status === 'delivered') return now + this.config.printTimeoutMs;
    return null;
  }

  /** Where an attempt's ending leaves its application. */
  private applicationAfter(app: ApplicationRecord, to: IssuanceStatus, now: number): ApplicationStatus | null {
    if (to === 'printed') return 'printed';
    if (to === 'outcome_unknown') return 'outcome_unknown';
    if (OPEN_ISSUANCE_STATUSES.includes(to)) return null;
    // Nothing printed: the receipt can be used again until it expires.
    return app.expiresAt <= now ? 'expired' : 'submitted';
  }

  /**
   * Moves an attempt from one of `from` to `to` and its application along (to `printed`, to
   * `outcome_unknown`, or back to `submitted` / on to `expired` when nothing printed). An open
   * attempt past its deadline moves nowhere but to its timeout (see {@link expireOverdue}).
   */
  async moveAttempt(tx: Tx, attemptId: string, from: readonly IssuanceStatus[], to: IssuanceStatus, actor: Actor, now: number, extra: TransitionExtra = {}): Promise<AttemptRecord> {
    const locked = await this.lockAttempt(tx, attemptId);
    if (!locked) throw new ServiceError('not_found', 'no such issuance');
    const { app, attempt } = locked;
    if (!from.includes(attempt.status)) {
      throw new ServiceError('invalid_state', `issuance is ${attempt.status}, not ${from.join(' or ')}`);
    }
    // Both records are guarded: an attempt that holds its application finds it in_issuance (or
    // outcome_unknown for an unknown outcome); anything else means a record changed under us.
    const expectedApp: ApplicationStatus = attempt.status === 'outcome_unknown' ? 'outcome_unknown' : 'in_issuance';
    if (app.status !== expectedApp) throw new ServiceError('invalid_state', `application is ${app.status}, not ${expectedApp}`);
    const timeout = timeoutOf(attempt, now);
    // A kiosk's report of what its printer did is the truth even after the deadline (which only
    // exists because reports can get lost); anything else past the deadline is too late.
    const report = attempt.status === 'delivered' && (to === 'printed' || to === 'print_failed');
    if (timeout && timeout !== to && !report) throw new ServiceError('invalid_state', `issuance passed its deadline in ${attempt.status}`);
    const keepDocument = to === 'delivered' || to === 'approved';
    if (!(await tx.applications.transitionAttempt(attempt.id, attempt.status, to, this.deadlineFor(to, attempt, now), now, { ...extra, keepDocument }))) {
      throw new ServiceError('invalid_state', 'issuance changed concurrently');
    }
    tx.audit(
      {
        actor,
        event: 'issuance.status',
        subject: attempt.id,
        details: { application: app.id, from: attempt.status, to, ...(extra.detail ? { detail: extra.detail } : {}), ...(extra.refusalCode ? { reason: extra.refusalCode } : {}) },
      },
      now,
    );
    tx.announce({ kind: 'attempt', attemptId: attempt.id, requestId: attempt.requestId, applicationId: app.id, residentId: app.residentId, deviceKeySha256: app.deviceKeySha256, status: to });
    const appTo = this.applicationAfter(app, to, now);
    if (appTo && appTo !== expectedApp) await this.moveApplication(tx, app, expectedApp, appTo, actor, now);
    return { ...attempt, status: to, ...(extra.refusalCode ? { refusalCode: extra.refusalCode } : {}) };
  }

  /**
   * Locks an attempt's application and then the attempt: the order every transition keeps, so
   * that two transactions on two nodes never wait for each other in a cycle. With `skipLocked`,
   * null when another transaction holds the application (a sweep leaves it to that one).
   */
  private async lockAttempt(tx: Tx, attemptId: string, skipLocked = false): Promise<{ app: ApplicationRecord; attempt: AttemptRecord } | null> {
    const peek = await tx.applications.attempt(attemptId);
    const app = peek && (await tx.applications.get(peek.applicationId, skipLocked ? 'skip-locked' : true));
    const attempt = app && (await tx.applications.attempt(attemptId, true));
    return app && attempt ? { app, attempt } : null;
  }

  /** Ends an attempt that passed its deadline, inside the caller's transaction; true when it did. */
  async expireIfOverdue(tx: Tx, attempt: AttemptRecord, now: number): Promise<boolean> {
    const timeout = timeoutOf(attempt, now);
    if (!timeout) return false;
    await this.moveAttempt(tx, attempt.id, [attempt.status], timeout, 'system', now, { detail: `timeout in ${attempt.status}` });
    return true;
  }

  /** Ends the attempt now if it is past its deadline, so that a late answer never wins. */
  async expireOverdue(attemptId: string, now: number): Promise<void> {
    const a = await this.store.read((tx) => tx.applications.attempt(attemptId));
    if (!a || !timeoutOf(a, now)) return;
    await this.store.write(async (tx) => {
      const fresh = await this.lockAttempt(tx, attemptId);
      if (fresh) await this.expireIfOverdue(tx, fresh.attempt, now);
    });
  }

  /**
   * Ends overdue attempts, expires unclaimed receipts and writes closed rate-limit windows to the
   * audit log; returns how many records changed. Safe to run on every node at once: each record
   * is re-read under its lock (skipped when another node or request holds it: that one moves it,
   * or the next sweep does) and moved only from the status it was found in.
   */
  async sweep(now: number = this.config.clock()): Promise<number> {
    let changed = 0;
    for (const due of await this.store.read((tx) => tx.applications.overdueAttempts(now, SWEEP_BATCH))) {
      changed += await this.sweepOne(async (tx) => {
        const locked = await this.lockAttempt(tx, due.id, true);
        return !!locked && (await this.expireIfOverdue(tx, locked.attempt, now));
      });
    }
    for (const id of await this.store.read((tx) => tx.applications.dueForExpiry(now, SWEEP_BATCH))) {
      changed += await this.sweepOne(async (tx) => {
        const app = await tx.applications.get(id, 'skip-locked');
        if (app?.status !== 'submitted' || app.expiresAt > now) return false;
        await this.moveApplication(tx, app, 'submitted', 'expired', 'system', now);
        return true;
      });
    }
    await this.store.write((tx) => flushRefusalWindows(tx, now));
    await this.store.write((tx) => tx.sessions.purgeExpired(now));
    if (changed > 0) this.log.info({ changed }, 'lifecycle sweep');
    return changed;
  }

  private async sweepOne(body: (tx: Tx) => Promise<boolean>): Promise<number> {
    try {
      return (await this.store.write(body)) ? 1 : 0;
    } catch (e) {
      // Another node or request moved the record first; nothing left to do for it.
      if (e instanceof ServiceError) return 0;
      throw e;
    }
  }
}

/** The status an open attempt times out to once past its deadline, or null. */
function timeoutOf(a: AttemptRecord, now: number): IssuanceStatus | null {
  if (!OPEN_ISSUANCE_STATUSES.includes(a.status) || a.deadlineAt === null || a.deadlineAt > now) return null;
  // A delivered document may be on paper already: its receipt must never print again.
  return a.status === 'delivered' ? 'outcome_unknown' : 'expired';
}
