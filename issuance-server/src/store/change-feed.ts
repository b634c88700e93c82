import type { ApplicationStatus, IssuanceStatus } from '@cert/common';
import { EventEmitter } from 'node:events';

/** A committed change to an application. */
export interface ApplicationChanged {
  applicationId: string;
  residentId: string;
  deviceKeySha256: string;
  status: ApplicationStatus;
}

/** A committed change to an issuance attempt. */
export interface AttemptChanged {
  attemptId: string;
  requestId: string;
  applicationId: string;
  residentId: string;
  deviceKeySha256: string;
  status: IssuanceStatus;
}

/** A committed change to a paired phone's trust or label (confirmed, renamed, removed, dropped). */
export interface PhoneChanged {
  phoneId: string;
  deviceKeySha256: string;
}

/** One committed change: an application's or attempt's lifecycle, or a paired phone's. */
export type LifecycleChange = ({ kind: 'application' } & ApplicationChanged) | ({ kind: 'attempt' } & AttemptChanged) | ({ kind: 'phone' } & PhoneChanged);

/** Which record a change was made to: all another node is told (its state is read from the database). */
export interface ChangeRef {
  kind: LifecycleChange['kind'];
  id: string;
}

/** The record a change was made to. */
export function changeRef(c: LifecycleChange): ChangeRef {
  if (c.kind === 'application') return { kind: 'application', id: c.applicationId };
  return c.kind === 'attempt' ? { kind: 'attempt', id: c.attemptId } : { kind: 'phone', id: c.phoneId };
}

/**
 * Committed lifecycle and paired-phone changes, announced only after their transaction committed
 * (long-polls and sockets listen here). With several nodes the engine also feeds in other nodes' changes;
 * `resync` says that some may have been missed (the connection that hears them was lost), so
 * whoever waits for one reads the database again.
 */
export class ChangeFeed extends EventEmitter<{ application: [ApplicationChanged]; attempt: [AttemptChanged]; phone: [PhoneChanged]; resync: []; error: [unknown] }> {
  constructor() {
    super();
    // One listener per waiting kiosk long-poll; the default limit of 10 would warn under load.
    this.setMaxListeners(0);
  }

  /** Announces changes; a failing listener neither hides the change from the others nor reaches the caller. */
  publish(changes: readonly LifecycleChange[]): void {
    for (const c of changes) {
      try {
        if (c.kind === 'application') this.emit('application', { applicationId: c.applicationId, residentId: c.residentId, deviceKeySha256: c.deviceKeySha256, status: c.status });
        else if (c.kind === 'attempt') {
          this.emit('attempt', { attemptId: c.attemptId, requestId: c.requestId, applicationId: c.applicationId, residentId: c.residentId, deviceKeySha256: c.deviceKeySha256, status: c.status });
        } else this.emit('phone', { phoneId: c.phoneId, deviceKeySha256: c.deviceKeySha256 });
      } catch (err) {
        this.failed(err);
      }
    }
  }

  /** Tells every listener that changes may have been missed. */
  resync(): void {
    try {
      this.emit('resync');
    } catch (err) {
      this.failed(err);
    }
  }

  /** Reports a failure to the `error` listeners, if any (never to the caller). */
  failed(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
