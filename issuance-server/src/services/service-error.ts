import type { ErrorCode } from '@cert/common';

/** A failure with a stable contract code; routes turn it into the JSON error body. */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
