import { z } from 'zod';
import { certificateTypeSchema } from './catalog.ts';
import { refusalReasonSchema } from './errors.ts';
import { applicationStatusSchema, base64Field, issuanceStatusSchema } from './http.ts';
import { assertionSchema, phoneStateMessageSchema, pushSubscriptionMessageSchema } from './phone.ts';

/** Path of the applicant WebSocket. */
export const APPLICANT_SOCKET_PATH = '/api/v1/applicant/socket';

const id = z.string().min(1).max(100);

/** server → device: first message, with the nonce to sign. */
export const helloMessageSchema = z.object({ type: z.literal('hello'), nonce: z.string() });
/** server → device: the device key was accepted. */
export const authenticatedMessageSchema = z.object({ type: z.literal('authenticated') });
/** server → device: something the device sent was refused. */
export const socketErrorMessageSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string().optional(),
  requestId: z.string().optional(),
});
/** server → device: a kiosk asks to print one of the device's applications. */
export const printConfirmationRequestSchema = z.object({
  type: z.literal('print-confirmation-request'),
  requestId: id,
  applicationId: id,
  receiptNumber: z.string(),
  certificateType: certificateTypeSchema,
  copies: z.number().int().positive(),
  fee: z.number().int().nonnegative(),
  kiosk: z.object({ id: z.string(), name: z.string(), location: z.string() }),
  expiresAt: z.string(),
});
/** A print confirmation request as the device receives it. */
export type PrintConfirmationRequest = z.infer<typeof printConfirmationRequestSchema>;
/** server → device: an application's status changed. */
export const applicationStatusMessageSchema = z.object({
  type: z.literal('application-status'),
  applicationId: id,
  status: applicationStatusSchema,
});
/** server → device (our addition): a request is no longer open; `status` is the attempt's, `reason` why it was refused (a refusal code, possibly newer than this build). */
export const printConfirmationClosedSchema = z.object({
  type: z.literal('print-confirmation-closed'),
  requestId: id,
  status: issuanceStatusSchema,
  reason: refusalReasonSchema.optional(),
});

/** Any message the server sends on the applicant socket. */
export const serverSocketMessageSchema = z.discriminatedUnion('type', [
  helloMessageSchema,
  authenticatedMessageSchema,
  socketErrorMessageSchema,
  printConfirmationRequestSchema,
  applicationStatusMessageSchema,
  printConfirmationClosedSchema,
  phoneStateMessageSchema,
]);
/** Any message the server sends on the applicant socket. */
export type ServerSocketMessage = z.infer<typeof serverSocketMessageSchema>;

/** device → server: proof of the device key over the hello nonce. */
export const authenticateMessageSchema = z.strictObject({
  type: z.literal('authenticate'),
  devicePublicKey: base64Field(1024),
  signature: base64Field(256),
});
/**
 * device → server: the resident's answer to a print confirmation request. A paired phone's
 * approval also carries `assertion` (our addition): its passkey's WebAuthn assertion over
 * passkeyApprovalChallenge(requestId), made with user verification.
 */
export const printConfirmationResponseSchema = z.strictObject({
  type: z.literal('print-confirmation-response'),
  requestId: id,
  approved: z.boolean(),
  signature: base64Field(256),
  assertion: assertionSchema.optional(),
});

/** Any message a device sends on the applicant socket. */
export const deviceSocketMessageSchema = z.discriminatedUnion('type', [
  authenticateMessageSchema,
  printConfirmationResponseSchema,
  pushSubscriptionMessageSchema,
]);
/** Any message a device sends on the applicant socket. */
export type DeviceSocketMessage = z.infer<typeof deviceSocketMessageSchema>;
