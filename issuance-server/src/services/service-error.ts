import type { ErrorCode } from '@cert/common';
import { StoreUnavailableError, UnstorableValueError } from '../store/db/sql.ts';

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

/**
 * The contract error for what the database refused without the request being at fault of the
 * server: locked, full or unreachable → 503 `service_unavailable` with Retry-After (the client
 * can retry); a text it cannot store → 400 `invalid_request`. Null for anything else.
 */
export function storeFailure(err: unknown): ServiceError | null {
  if (err instanceof UnstorableValueError) return new ServiceError('invalid_request', err.message);
  if (!(err instanceof StoreUnavailableError)) return null;
  return new ServiceError('service_unavailable', 'the service is busy; try again shortly', { 'Retry-After': String(err.retryAfterSeconds) });
}
