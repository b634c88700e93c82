import { z } from 'zod';

/**
 * Stable error codes of the wire contract with their HTTP status. Codes listed in PROTOCOL.md
 * are public; the others are additions of ours and follow the same shape.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  receipt_malformed: 400,
  challenge_invalid: 401,
  signature_invalid: 401,
  certificate_untrusted: 401,
  certificate_expired: 401,
  certificate_revoked: 401,
  certificate_not_for_authentication: 401,
  session_invalid: 401,
  pairing_invalid: 401,
  passkey_invalid: 401,
  user_verification_required: 401,
  passkey_required: 401,
  kiosk_unauthorized: 401,
  api_client_unauthorized: 401,
  resident_not_found: 403,
  // Refusals: the municipality's rules do not allow this certificate now (also at print time).
  moved_out: 403,
  move_out_pending: 403,
  deceased: 403,
  support_measure: 403,
  moved_in_today: 403,
  issuance_suppressed: 403,
  household_has_pending_moveout: 403,
  not_in_same_household: 403,
  seal_not_registered: 403,
  seal_registration_invalid: 403,
  tax_year_not_available: 403,
  not_taxed_here: 403,
  tax_not_declared: 403,
  koseki_not_here: 403,
  koseki_registration_required: 403,
  koseki_pending_notification: 403,
  not_in_same_koseki: 403,
  outside_service_hours: 403,
  not_offered: 403,
  glyph_missing: 403,
  document_unavailable: 403,
  not_found: 404,
  receipt_not_found: 404,
  method_not_allowed: 405,
  invalid_state: 409,
  issuance_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

/** Every stable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Zod schema of an error code. */
export const errorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

/** The body of every error response. */
export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
/** The body of every error response. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The error codes that are refusals by the municipality's rules (an attempt ends `refused` with one of them). */
export const REFUSAL_CODES = [
  'moved_out',
  'move_out_pending',
  'deceased',
  'support_measure',
  'moved_in_today',
  'issuance_suppressed',
  'household_has_pending_moveout',
  'not_in_same_household',
  'seal_not_registered',
  'seal_registration_invalid',
  'tax_year_not_available',
  'not_taxed_here',
  'tax_not_declared',
  'koseki_not_here',
  'koseki_registration_required',
  'koseki_pending_notification',
  'not_in_same_koseki',
  'outside_service_hours',
  'not_offered',
  'glyph_missing',
  'document_unavailable',
] as const;
/** A refusal code. */
export type RefusalCode = (typeof REFUSAL_CODES)[number];
/** Zod schema of a refusal code. */
export const refusalCodeSchema = z.enum(REFUSAL_CODES);
/**
 * A refusal code as a client receives it: one of {@link REFUSAL_CODES} or a newer one ("more
 * codes will come"). Clients accept any well-formed code and show a generic text for the ones
 * they do not know, so that a newer server never makes a refusal unreadable.
 */
export const refusalReasonSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/);
/** True for the refusal codes this build knows by name. */
export function isRefusalCode(code: string): code is RefusalCode {
  return (REFUSAL_CODES as readonly string[]).includes(code);
}

/** Codes that only the applicant socket uses (sent in `{"type":"error"}` messages). */
export const SOCKET_ERROR_CODES = [
  'authentication_failed',
  'device_unknown',
  'authentication_timeout',
  'invalid_message',
  'signature_invalid',
  'not_found',
  'invalid_state',
  // Not the device's fault; the device may send the message again.
  'service_unavailable',
  'internal_error',
  // Paired phones (our additions): removed, expired or card revoked; an approval without a valid passkey assertion.
  'device_removed',
  'passkey_required',
  'passkey_invalid',
  'user_verification_required',
] as const;
/** A socket error code. */
export type SocketErrorCode = (typeof SOCKET_ERROR_CODES)[number];

/** WebSocket close code for a failed or missing device authentication. */
export const SOCKET_CLOSE_UNAUTHORIZED = 4401;
