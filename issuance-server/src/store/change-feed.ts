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

/** One committed lifecycle change. */
export type LifecycleChange = ({ kind: 'application' } & ApplicationChanged) | ({ kind: 'attempt' } & AttemptChanged);

/**
 * Committed lifecycle changes, announced only after their transaction committed (long-polls
 * and sockets listen here). With several nodes the engine also feeds in other nodes' changes.
 */
export class ChangeFeed extends EventEmitter<{ application: [ApplicationChanged]; attempt: [AttemptChanged]; error: [unknown] }> {
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
        else {
          this.emit('attempt', { attemptId: c.attemptId, requestId: c.requestId, applicationId: c.applicationId, residentId: c.residentId, deviceKeySha256: c.deviceKeySha256, status: c.status });
        }
      } catch (err) {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      }
    }
  }
}
