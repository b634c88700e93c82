import { EventEmitter } from 'node:events';
import type { ApplicationStatus, IssuanceStatus } from '@cert/common';

/** Emitted after a committed change to an application. */
export interface ApplicationChanged {
  applicationId: string;
  deviceKeySha256: string;
  status: ApplicationStatus;
}

/** Emitted after a committed change to an issuance attempt. */
export interface AttemptChanged {
  attemptId: string;
  requestId: string;
  applicationId: string;
  deviceKeySha256: string;
  status: IssuanceStatus;
}

/** In-process notifications of committed lifecycle changes (long-polls and sockets listen here). */
export class LifecycleEvents extends EventEmitter<{ application: [ApplicationChanged]; attempt: [AttemptChanged] }> {
  constructor() {
    super();
    // One listener per waiting kiosk long-poll; the default limit of 10 would warn under load.
    this.setMaxListeners(0);
  }
}
