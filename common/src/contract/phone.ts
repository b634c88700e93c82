// Contract additions for paired phones (issue 9): the PC pairs a phone from a card-authenticated
// session, the phone registers its device key and a passkey with the pairing secret, the
// resident confirms on the PC. The phone then uses the applicant socket as any device does, with
// the additions at the end of this file.
import { z } from 'zod';
import { certificateTypeSchema } from './catalog.ts';
import { applicationStatusSchema, base64Field } from './http.ts';

const id = z.string().min(1).max(100);
const isoTime = z.string().datetime();
/** base64url without padding, as WebAuthn's JSON encodings use it. */
const base64url = (maxChars: number) => z.string().max(maxChars).regex(/^[A-Za-z0-9_-]*$/, 'must be base64url without padding');

/** Public base path of the phone approval web app. */
export const PHONE_APP_PATH = '/phone/';

/** A phone's name as the resident sees it on the PC ("iPhone", "花子のスマホ"). */
export const phoneLabelSchema = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'no control characters');

/** `POST /api/v1/phones/pairings` response: the secret travels only in `url` (its fragment). */
export const createPairingResponseSchema = z.object({
  pairingId: id,
  url: z.string().url(),
  expiresAt: isoTime,
});
/** `POST /api/v1/phones/pairings` response. */
export type CreatePairingResponse = z.infer<typeof createPairingResponseSchema>;

/** Where a pairing stands, as the PC polls it. */
export const pairingStatusSchema = z.enum(['waiting', 'registered', 'confirmed', 'cancelled', 'expired']);
/** Where a pairing stands. */
export type PairingStatus = z.infer<typeof pairingStatusSchema>;

/** `GET /api/v1/phones/pairings/{id}` response; `phone` once a phone registered. */
export const pairingStateSchema = z.object({
  pairingId: id,
  status: pairingStatusSchema,
  expiresAt: isoTime,
  phone: z.object({ phoneId: id, label: phoneLabelSchema, code: z.string().regex(/^\d{3} \d{3}$/) }).optional(),
});
/** `GET /api/v1/phones/pairings/{id}` response. */
export type PairingState = z.infer<typeof pairingStateSchema>;

/** A paired phone as the PC lists it. */
export const pairedPhoneSchema = z.object({
  phoneId: id,
  label: phoneLabelSchema,
  code: z.string(),
  pairedAt: isoTime,
  lastSeenAt: isoTime.nullable(),
  expiresAt: isoTime,
  push: z.boolean(),
});
/** A paired phone as the PC lists it. */
export type PairedPhone = z.infer<typeof pairedPhoneSchema>;

/** `GET /api/v1/phones` response: the trusted phones of this resident on this PC. */
export const pairedPhonesResponseSchema = z.object({ phones: z.array(pairedPhoneSchema) });

/** `PATCH /api/v1/phones/{id}` request. */
export const renamePhoneRequestSchema = z.strictObject({ label: phoneLabelSchema });

/** `PATCH` and `DELETE /api/v1/phones/{id}` response. */
export const phoneActionResponseSchema = z.object({ status: z.enum(['renamed', 'removed']) });

/** `POST /api/v1/phone/registration/options` request: the phone claims the pairing secret for its key. */
export const registrationOptionsRequestSchema = z.strictObject({
  secret: base64url(64).min(22),
  devicePublicKey: base64Field(1024),
  label: phoneLabelSchema,
});
/** `POST /api/v1/phone/registration/options` request. */
export type RegistrationOptionsRequest = z.infer<typeof registrationOptionsRequestSchema>;

/** WebAuthn creation options (the JSON form of PublicKeyCredentialCreationOptions). */
export const creationOptionsSchema = z.looseObject({
  challenge: base64url(512),
  rp: z.looseObject({ id: z.string().optional(), name: z.string() }),
  user: z.looseObject({ id: base64url(128), name: z.string(), displayName: z.string() }),
  pubKeyCredParams: z.array(z.looseObject({ type: z.literal('public-key'), alg: z.number() })),
});

/** `POST /api/v1/phone/registration/options` response. */
export const registrationOptionsResponseSchema = z.object({
  pairingId: id,
  options: creationOptionsSchema,
  expiresAt: isoTime,
});
/** `POST /api/v1/phone/registration/options` response. */
export type RegistrationOptionsResponse = z.infer<typeof registrationOptionsResponseSchema>;

const transportsSchema = z.array(z.enum(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'])).max(8);

/** A passkey registration as the browser returns it (RegistrationResponseJSON). */
export const registrationCredentialSchema = z.strictObject({
  id: base64url(1400),
  rawId: base64url(1400),
  type: z.literal('public-key'),
  response: z.strictObject({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(16_384),
    authenticatorData: base64url(8192).optional(),
    transports: transportsSchema.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(4096).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
});

/** `POST /api/v1/phone/registration` request: the passkey, and the device key's signature over the pairing text. */
export const registrationRequestSchema = z.strictObject({
  pairingId: id,
  secret: base64url(64).min(22),
  credential: registrationCredentialSchema,
  signature: base64Field(256),
});
/** `POST /api/v1/phone/registration` request. */
export type RegistrationRequest = z.infer<typeof registrationRequestSchema>;

/** `POST /api/v1/phone/registration` response: the phone now waits for the resident's confirmation on the PC. */
export const registrationResponseSchema = z.object({
  phoneId: id,
  status: z.literal('awaiting_confirmation'),
  credentialId: base64url(1400),
  rpId: z.string(),
});
/** `POST /api/v1/phone/registration` response. */
export type RegistrationResponse = z.infer<typeof registrationResponseSchema>;

/** A passkey assertion as the browser returns it (AuthenticationResponseJSON). */
export const assertionSchema = z.strictObject({
  id: base64url(1400),
  rawId: base64url(1400),
  type: z.literal('public-key'),
  response: z.strictObject({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(8192),
    signature: base64url(1024),
    userHandle: base64url(128).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
});
/** A passkey assertion. */
export type Assertion = z.infer<typeof assertionSchema>;

/** An open receipt as a paired phone shows it (number, type, expiry). */
export const phoneReceiptSchema = z.object({
  applicationId: id,
  receiptNumber: z.string().regex(/^[0-9]{12}$/),
  certificateType: certificateTypeSchema,
  copies: z.number().int().positive(),
  fee: z.number().int().nonnegative(),
  status: applicationStatusSchema,
  expiresAt: isoTime,
});
/** An open receipt as a paired phone shows it. */
export type PhoneReceipt = z.infer<typeof phoneReceiptSchema>;

/**
 * server → phone (addition): what the phone is and shows, sent after `authenticated` and again on
 * every change (confirmed on the PC, renamed, a receipt changed).
 */
export const phoneStateMessageSchema = z.object({
  type: z.literal('phone-state'),
  status: z.enum(['awaiting_confirmation', 'active']),
  label: phoneLabelSchema,
  expiresAt: isoTime,
  receipts: z.array(phoneReceiptSchema),
  /** The server's VAPID public key (base64url, uncompressed P-256 point) for PushManager.subscribe. */
  vapidPublicKey: base64url(100),
  push: z.boolean(),
});
/** server → phone: the phone's state. */
export type PhoneStateMessage = z.infer<typeof phoneStateMessageSchema>;

/** A Web Push subscription as PushSubscription.toJSON() gives it. */
export const pushSubscriptionSchema = z.strictObject({
  endpoint: z.string().url().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: base64url(120), auth: base64url(40) }),
});
/** A Web Push subscription. */
export type PushSubscriptionJson = z.infer<typeof pushSubscriptionSchema>;

/** phone → server (addition): store (or with null, forget) the phone's push subscription. */
export const pushSubscriptionMessageSchema = z.strictObject({
  type: z.literal('push-subscription'),
  subscription: pushSubscriptionSchema.nullable(),
});

/** The whole payload of every Web Push message: no personal data, only "open the app". */
export const pushPayloadSchema = z.strictObject({ kind: z.literal('print-confirmation') });
/** The whole payload of every Web Push message. */
export type PushPayload = z.infer<typeof pushPayloadSchema>;
