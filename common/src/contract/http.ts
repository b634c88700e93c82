import { z } from 'zod';
import { certificateTypeSchema } from './catalog.ts';
import { refusalReasonSchema } from './errors.ts';
import { paymentReportSchema } from './payment.ts';

/** Standard base64 with padding, bounded in length so bodies stay small. */
export function base64Field(maxBytes: number) {
  return z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4)
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be standard base64 with padding')
    .min(4);
}

const isoTime = z.string().datetime({ offset: true });
const id = z.string().min(1).max(100);

/** `GET /api/v1/health` response. */
export const healthResponseSchema = z.object({ status: z.literal('ok'), version: z.string() });

/** `GET /api/v1/verify/{code}` response. */
export const verifyResponseSchema = z.object({
  valid: z.literal(true),
  certificateType: certificateTypeSchema,
  issuedAt: isoTime,
  municipality: z.object({ code: z.string(), name: z.string() }),
  documentSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
/** `GET /api/v1/verify/{code}` response. */
export type VerifyResponse = z.infer<typeof verifyResponseSchema>;

/** `POST /api/v1/auth/challenge` response. */
export const challengeResponseSchema = z.object({ challengeId: id, nonce: z.string(), expiresAt: isoTime });
/** `POST /api/v1/auth/challenge` response. */
export type ChallengeResponse = z.infer<typeof challengeResponseSchema>;

/** `POST /api/v1/auth/login` request. */
export const loginRequestSchema = z.strictObject({
  challengeId: id,
  certificate: base64Field(16 * 1024),
  signature: base64Field(1024),
  devicePublicKey: base64Field(1024),
});
/** `POST /api/v1/auth/login` request. */
export type LoginRequest = z.infer<typeof loginRequestSchema>;

/** `POST /api/v1/auth/login` response. */
export const loginResponseSchema = z.object({
  sessionToken: z.string(),
  expiresAt: isoTime,
  resident: z.object({ displayName: z.string() }),
});
/** `POST /api/v1/auth/login` response. */
export type LoginResponse = z.infer<typeof loginResponseSchema>;

/**
 * Application lifecycle statuses (DESIGN.md, Lifecycle). `outcome_unknown` is our addition: a
 * document was delivered to a kiosk and no result came back, so the paper may exist; the
 * receipt stays final until the kiosk reports or staff settle it.
 */
export const APPLICATION_STATUSES = ['submitted', 'in_issuance', 'printed', 'cancelled', 'expired', 'outcome_unknown'] as const;
/** An application status. */
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];
/** Zod schema of an application status. */
export const applicationStatusSchema = z.enum(APPLICATION_STATUSES);

/** `POST /api/v1/applications` request. */
export const createApplicationRequestSchema = z.strictObject({
  certificateType: certificateTypeSchema,
  options: z.record(z.string().max(50), z.string().max(400)).default({}),
  copies: z.number().int().min(1).max(100),
});
/** `POST /api/v1/applications` request. */
export type CreateApplicationRequest = z.input<typeof createApplicationRequestSchema>;

/** One application as the applicant sees it. */
export const applicationSchema = z.object({
  applicationId: id,
  receiptNumber: z.string().regex(/^[0-9]{12}$/),
  status: applicationStatusSchema,
  expiresAt: isoTime,
  fee: z.number().int().nonnegative(),
  certificateType: certificateTypeSchema,
  options: z.record(z.string(), z.string()),
  copies: z.number().int().positive(),
  createdAt: isoTime,
});
/** One application as the applicant sees it. */
export type Application = z.infer<typeof applicationSchema>;

/**
 * `GET /api/v1/applicant/subjects` response (our addition): whom the logged-in resident may put
 * on a certificate, and what they can ask for — their household's members, the persons of their
 * 戸籍 kept here, the fiscal years of their tax records on offer, whether a seal is registered.
 */
export const subjectsResponseSchema = z.object({
  household: z.array(z.object({ id: z.string(), name: z.string(), relationship: z.string(), self: z.boolean() })),
  koseki: z.object({ persons: z.array(z.object({ seq: z.number().int(), name: z.string(), removed: z.boolean(), self: z.boolean() })) }).nullable(),
  taxYears: z.array(z.number().int()),
  seal: z.boolean(),
  foreign: z.boolean(),
});
/** `GET /api/v1/applicant/subjects` response. */
export type SubjectsResponse = z.infer<typeof subjectsResponseSchema>;

/** `GET /api/v1/applications` response. */
export const applicationListSchema = z.object({ applications: z.array(applicationSchema) });

/** `DELETE /api/v1/applications/{id}` response. */
export const cancelApplicationResponseSchema = z.object({ status: z.literal('cancelled') });

/**
 * Issuance attempt statuses as a kiosk sees them (DESIGN.md, Lifecycle). Our additions:
 * `outcome_unknown` (delivered, no result before the print deadline: the kiosk may still report,
 * staff may settle) and `refused` (the data no longer allows the certificate; `reason` says why).
 */
export const ISSUANCE_STATUSES = [
  'confirmation_pending',
  'approved',
  'declined',
  'expired',
  'delivered',
  'printed',
  'print_failed',
  'abandoned',
  'outcome_unknown',
  'refused',
] as const;
/** An issuance attempt status. */
export type IssuanceStatus = (typeof ISSUANCE_STATUSES)[number];
/** Zod schema of an issuance attempt status. */
export const issuanceStatusSchema = z.enum(ISSUANCE_STATUSES);
/** Statuses in which an attempt still runs (it holds its application and has a deadline). */
export const OPEN_ISSUANCE_STATUSES: readonly IssuanceStatus[] = ['confirmation_pending', 'approved', 'delivered'];
/** Statuses after which an attempt never changes again. */
export const FINAL_ISSUANCE_STATUSES: readonly IssuanceStatus[] = ['declined', 'expired', 'printed', 'print_failed', 'abandoned', 'refused'];

/** `POST /api/v1/kiosk/issuances` request. */
export const createIssuanceRequestSchema = z.strictObject({ receiptNumber: z.string().max(64) });

/** `POST /api/v1/kiosk/issuances` response. */
export const createIssuanceResponseSchema = z.object({
  issuanceId: id,
  status: z.literal('confirmation_pending'),
  certificateType: certificateTypeSchema,
  copies: z.number().int().positive(),
  fee: z.number().int().nonnegative(),
  expiresAt: isoTime,
});
/** `POST /api/v1/kiosk/issuances` response. */
export type CreateIssuanceResponse = z.infer<typeof createIssuanceResponseSchema>;

/** Query of `GET /api/v1/kiosk/issuances/{id}`; `since` is our addition (defaults to the last status sent). */
export const issuanceStatusQuerySchema = z.strictObject({
  waitMs: z.coerce.number().int().min(0).max(30000).default(0),
  since: issuanceStatusSchema.optional(),
});

/** `GET /api/v1/kiosk/issuances/{id}` response; `reason` (our addition) says why an attempt was `refused` (a refusal code, possibly newer than this build). */
export const issuanceStatusResponseSchema = z.object({ issuanceId: id, status: issuanceStatusSchema, reason: refusalReasonSchema.optional() });
/** `GET /api/v1/kiosk/issuances/{id}` response. */
export type IssuanceStatusResponse = z.infer<typeof issuanceStatusResponseSchema>;

/** `POST /api/v1/kiosk/issuances/{id}/result` request. */
export const issuanceResultRequestSchema = z.strictObject({
  outcome: z.enum(['printed', 'failed']),
  detail: z.string().max(500).optional(),
  /** Our addition (issue 11): the money of a paid attempt; absent on a kiosk in free mode. */
  payment: paymentReportSchema.optional(),
});
/** `POST /api/v1/kiosk/issuances/{id}/result` request. */
export type IssuanceResultRequest = z.infer<typeof issuanceResultRequestSchema>;

/** `DELETE /api/v1/kiosk/issuances/{id}` optional body (our addition): the money a resident put in before giving up, all paid back or owed. */
export const issuanceAbandonRequestSchema = z.strictObject({ payment: paymentReportSchema.optional() });
/** `DELETE /api/v1/kiosk/issuances/{id}` optional body. */
export type IssuanceAbandonRequest = z.infer<typeof issuanceAbandonRequestSchema>;

/** `POST .../result` and `DELETE /api/v1/kiosk/issuances/{id}` response. */
export const issuanceStatusOnlySchema = z.object({ status: issuanceStatusSchema });
