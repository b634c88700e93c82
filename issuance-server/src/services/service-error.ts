import type { ErrorCode } from '@cert/common';
import { StoreUnavailableError } from '../store/db/sql.ts';

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
 * The contract error for a failure the client did not cause but can retry: the database is
 * locked, full or unreachable → 503 `service_unavailable` with Retry-After. Null for anything else.
 */
export function unavailable(err: unknown): ServiceError | null {
  if (!(err instanceof StoreUnavailableError)) return null;
  return new ServiceError('service_unavailable', 'the service is busy; try again shortly', { 'Retry-After': String(err.retryAfterSeconds) });
}
