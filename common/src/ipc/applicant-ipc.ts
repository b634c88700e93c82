import { z } from 'zod';
import { printConfirmationRequestSchema } from '../contract/applicant-socket.ts';
import { catalogResponseSchema } from '../contract/catalog.ts';
import { refusalReasonSchema } from '../contract/errors.ts';
import { applicationSchema, createApplicationRequestSchema, issuanceStatusSchema, subjectsResponseSchema } from '../contract/http.ts';
import { createPairingResponseSchema, pairedPhoneSchema, pairingStateSchema, phoneLabelSchema } from '../contract/phone.ts';
import { channel } from './ipc-contract.ts';

/** Kinds of card failure the applicant UI explains (see the core's CardError). */
export const cardErrorKindSchema = z.enum([
  'pcsc_unavailable',
  'no_reader',
  'no_card',
  'card_removed',
  'card_busy',
  'not_jpki',
  'pin_format',
  'wrong_pin',
  'last_try_needs_confirmation',
  'blocked',
  'pcsc_restarted',
  'card_error',
]);
/** A kind of card failure. */
export type CardErrorKind = z.infer<typeof cardErrorKindSchema>;

/** What the card reports before the resident types the PIN. */
export const cardInfoSchema = z.object({ kind: z.enum(['card', 'smartphone']), label: z.string(), triesLeft: z.number().int().min(0) });
/** What the card reports before the resident types the PIN. */
export type CardInfo = z.infer<typeof cardInfoSchema>;

/** The live card status the UI shows. */
export const cardStatusSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('pcsc_unavailable') }),
  z.object({ state: z.literal('no_reader') }),
  z.object({ state: z.literal('no_card'), readers: z.array(z.string()) }),
  z.object({ state: z.literal('reading'), reader: z.string() }),
  z.object({ state: z.literal('card_ready'), reader: z.string(), info: cardInfoSchema }),
  z.object({ state: z.literal('card_error'), reader: z.string(), error: z.object({ kind: cardErrorKindSchema, message: z.string() }) }),
]);
/** The live card status the UI shows. */
export type CardStatus = z.infer<typeof cardStatusSchema>;

/** The print-confirmation socket's state. */
export const socketStateSchema = z.enum(['connecting', 'authenticated', 'offline', 'rejected', 'stopped']);
/** The print-confirmation socket's state. */
export type SocketState = z.infer<typeof socketStateSchema>;

/** A receipt the app keeps: the application as last seen, and the server it belongs to. */
export const storedReceiptSchema = applicationSchema.extend({ serverUrl: z.string() });
/** A receipt the app keeps. */
export type StoredReceipt = z.infer<typeof storedReceiptSchema>;

/** The applicant app's IPC channels (main ⇄ renderer), one spec each. */
export const applicantChannels = {
  'settings.get': channel(z.tuple([]), z.object({ serverUrl: z.string().nullable() })),
  'server.connect': channel(z.tuple([z.string().url().max(500)]), catalogResponseSchema),
  'catalog.get': channel(z.tuple([]), catalogResponseSchema),
  'card.status': channel(z.tuple([]), cardStatusSchema),
  'card.refresh': channel(z.tuple([]), cardInfoSchema),
  'auth.login': channel(z.tuple([z.string().max(16), z.boolean()]), z.object({ displayName: z.string(), expiresAt: z.string() })),
  'auth.session': channel(z.tuple([]), z.object({ displayName: z.string(), expiresAt: z.string() }).nullable()),
  'connection.state': channel(z.tuple([]), socketStateSchema),
  'subjects.get': channel(z.tuple([]), subjectsResponseSchema),
  'applications.apply': channel(z.tuple([createApplicationRequestSchema]), applicationSchema),
  'applications.list': channel(z.tuple([]), z.array(storedReceiptSchema)),
  'applications.cancel': channel(z.tuple([z.string().max(100)]), z.null()),
  'receipt.qr': channel(z.tuple([z.string().regex(/^\d{12}$/)]), z.string()),
  'confirmations.pending': channel(z.tuple([]), z.array(printConfirmationRequestSchema)),
  'confirmations.respond': channel(z.tuple([z.string().max(100), z.boolean()]), z.null()),
  /** Starts pairing a phone; `qr` is the pairing URL as a QR code (SVG data URL). */
  'phones.pair': channel(z.tuple([]), createPairingResponseSchema.extend({ qr: z.string() })),
  'phones.pairing': channel(z.tuple([z.string().max(100)]), pairingStateSchema),
  'phones.confirm': channel(z.tuple([z.string().max(100)]), pairingStateSchema),
  'phones.cancel': channel(z.tuple([z.string().max(100)]), pairingStateSchema),
  'phones.list': channel(z.tuple([]), z.array(pairedPhoneSchema)),
  'phones.rename': channel(z.tuple([z.string().max(100), phoneLabelSchema]), z.null()),
  'phones.remove': channel(z.tuple([z.string().max(100)]), z.null()),
};

/** Events main → renderer of the applicant app. */
export const applicantEvents = {
  card: cardStatusSchema,
  connection: socketStateSchema,
  'confirmation-request': printConfirmationRequestSchema,
  'confirmation-closed': z.object({ requestId: z.string(), status: issuanceStatusSchema, reason: refusalReasonSchema.optional() }),
  receipts: z.array(storedReceiptSchema),
};
