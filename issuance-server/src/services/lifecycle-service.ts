import { FINAL_ISSUANCE_STATUSES, type ApplicationStatus, type IssuanceStatus } from '@cert/common';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { ApplicationRecord, ApplicationStore, AttemptRecord } from '../store/application-store.ts';
import type { AuditLog } from '../store/audit-log.ts';
import type { ApplicationChanged, AttemptChanged, LifecycleEvents } from './lifecycle-events.ts';
import { ServiceError } from './service-error.ts';

/** Who caused a transition, as written to the audit log. */
export type Actor = `kiosk:${string}` | `resident:${string}` | `device:${string}` | 'system';

/** Changes to announce once the transaction that made them has committed. */
interface PendingEvents {
  applications: ApplicationChanged[];
  attempts: AttemptChanged[];
}

/**
 * The lifecycle state machine (DESIGN.md, Lifecycle). Every transition runs in one SQLite
 * transaction guarded by the expected status of both the attempt and its application, is
 * appended to the audit log, and is announced on `events` only after it has committed.
 */
export class LifecycleService {
  constructor(
    private readonly db: Database,
    private readonly store: ApplicationStore,
    private readonly audit: AuditLog,
    readonly events: LifecycleEvents,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {}

  /** Runs `body` in a transaction and emits the events it recorded after commit. */
  run<T>(body: (pending: PendingEvents) => T): T {
    const pending: PendingEvents = { applications: [], attempts: [] };
    const result = this.db.transaction(() => body(pending))();
    // The change has committed: a failing listener (a socket, a long-poll) must not turn it into
    // an error for the caller, nor keep the other listeners from hearing of it.
    const emit = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'lifecycle event listener failed');
      }
    };
    for (const a of pending.applications) emit(() => this.events.emit('application', a));
    for (const a of pending.attempts) emit(() => this.events.emit('attempt', a));
    return result;
  }

  /** Moves an application, failing the transaction when it is not in `from`. */
  moveApplication(pending: PendingEvents, app: ApplicationRecord, from: ApplicationStatus, to: ApplicationStatus, actor: Actor, now: number): void {
    if (!this.store.transitionApplication(app.id, from, to, now)) {
      throw new ServiceError('invalid_state', `application is no longer ${from}`);
    }
    this.audit.append({ actor, event: 'application.status', subject: app.id, details: { from, to } }, now);
    pending.applications.push({ applicationId: app.id, deviceKeySha256: app.deviceKeySha256, status: to });
  }

  /** The deadline an attempt gets on entering a status (null once final). */
  private deadlineFor(status: IssuanceStatus, attempt: AttemptRecord, now: number): number | null {
    if (status === 'confirmation_pending') return attempt.confirmationExpiresAt;
    if (status === 'approved' || status === 'delivered') return now + this.config.printTimeoutMs;
    return null;
  }

  /**
   * Moves an attempt from one of `from` to `to` and, when `to` ends it, its application out of
   * `in_issuance` (to `printed`, or back to `submitted` / on to `expired` when no print happened).
   */
  moveAttempt(pending: PendingEvents, attemptId: string, from: readonly IssuanceStatus[], to: IssuanceStatus, actor: Actor, now: number, detail?: string): AttemptRecord {
    const attempt = this.store.attempt(attemptId);
    if (!attempt) throw new ServiceError('not_found', 'no such issuance');
    if (!from.includes(attempt.status)) {
      throw new ServiceError('invalid_state', `issuance is ${attempt.status}, not ${from.join(' or ')}`);
    }
    if (!this.store.transitionAttempt(attempt.id, attempt.status, to, this.deadlineFor(to, attempt, now), now, detail)) {
      throw new ServiceError('invalid_state', 'issuance changed concurrently');
    }
    const app = this.store.get(attempt.applicationId)!;
    this.audit.append({ actor, event: 'issuance.status', subject: attempt.id, details: { application: app.id, from: attempt.status, to, ...(detail ? { detail } : {}) } }, now);
    pending.attempts.push({ attemptId: attempt.id, requestId: attempt.requestId, applicationId: app.id, deviceKeySha256: app.deviceKeySha256, status: to });
    if (to === 'printed') {
      this.moveApplication(pending, app, 'in_issuance', 'printed', actor, now);
    } else if (FINAL_ISSUANCE_STATUSES.includes(to)) {
      this.moveApplication(pending, app, 'in_issuance', app.expiresAt <= now ? 'expired' : 'submitted', actor, now);
    }
    return { ...attempt, status: to };
  }

  /** Ends overdue attempts and expires unclaimed receipts; returns how many records changed. */
  sweep(now: number = Date.now()): number {
    let changed = 0;
    for (const attempt of this.store.overdueAttempts(now)) {
      try {
        this.run((p) => this.moveAttempt(p, attempt.id, [attempt.status], 'expired', 'system', now, `timeout in ${attempt.status}`));
        changed++;
      } catch (e) {
        // Another transition won the race; nothing to expire.
        if (!(e instanceof ServiceError)) throw e;
      }
    }
    for (const app of this.store.dueForExpiry(now)) {
      try {
        this.run((p) => this.moveApplication(p, app, 'submitted', 'expired', 'system', now));
        changed++;
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
      }
    }
    if (changed > 0) this.log.info({ changed }, 'lifecycle sweep');
    return changed;
  }

  /** Expires the attempt now if its deadline has passed (so a late answer never wins). */
  expireIfOverdue(attemptId: string, now: number): void {
    const a = this.store.attempt(attemptId);
    if (a && a.deadlineAt !== null && a.deadlineAt <= now && !FINAL_ISSUANCE_STATUSES.includes(a.status)) this.sweep(now);
  }
}
