import { z } from 'zod';
import { refusalReasonSchema } from '../contract/errors.ts';
import { createIssuanceResponseSchema, issuanceStatusSchema } from '../contract/http.ts';
import { paymentReportSchema } from '../contract/payment.ts';
import { channel } from './ipc-contract.ts';

/** The printer's condition as the kiosk classifies it; everything but `ready` blocks printing. */
export const printerConditionSchema = z.enum(['ready', 'media-empty', 'media-jam', 'door-open', 'toner-empty', 'stopped', 'offline']);
/** The printer's condition as the kiosk classifies it. */
export type PrinterConditionView = z.infer<typeof printerConditionSchema>;

/** The printer's state, classified, with the raw IPP values it came from. */
export const printerStatusSchema = z.object({
  condition: printerConditionSchema,
  ready: z.boolean(),
  message: z.string(),
  state: z.enum(['idle', 'processing', 'stopped', 'unknown']),
  reasons: z.array(z.string()),
  acceptingJobs: z.boolean().nullable(),
  stateMessage: z.string().nullable(),
});

/** One observation of an IPP job. */
export const jobStatusSchema = z.object({
  jobId: z.number().int(),
  state: z.enum(['pending', 'pending-held', 'processing', 'processing-stopped', 'canceled', 'aborted', 'completed']),
  reasons: z.array(z.string()),
  message: z.string().nullable(),
  /** job-name as the printer reports it (the journal finds its job by it). */
  name: z.string().nullable(),
});

/** Where a kiosk session is; `recovering` waits for the previous job's fate before a new receipt. */
export const kioskPhaseSchema = z.enum(['idle', 'recovering', 'checking_printer', 'claiming', 'awaiting_confirmation', 'paying', 'fetching_document', 'printing', 'refunding', 'reporting', 'abandoning']);

/** Something the resident should be told during a payment (the UI says it in their language). */
export const paymentNoticeSchema = z.enum([
  /** A ¥1,000 note was handed back: the kiosk could not give its change. */
  'note_returned_no_change',
  /** A note or coin was not recognised and came back. */
  'money_returned',
  /** The coin slot jammed: the payment stops and what was inserted is paid back. */
  'coin_jam',
  /** The change could not be paid in full: the rest is owed against a slip code. */
  'change_short',
  /** The payment device stopped answering. */
  'device_unavailable',
]);
/** A payment notice. */
export type PaymentNotice = z.infer<typeof paymentNoticeSchema>;

/** A payment as the resident watches it, in yen. */
export const paymentProgressSchema = z.object({
  /** `inserting`: put money in; `paying_change`/`refunding`: coins are coming out; `paid`: done, the print follows. */
  state: z.enum(['inserting', 'paying_change', 'refunding', 'paid']),
  due: z.number().int().nonnegative(),
  inserted: z.number().int().nonnegative(),
  remaining: z.number().int().nonnegative(),
  /** Change or refund paid out so far. */
  paidOut: z.number().int().nonnegative(),
  /** What the kiosk takes now (values in yen); empty once nothing more is taken. */
  accepting: z.array(z.number().int().positive()),
  notice: paymentNoticeSchema.optional(),
  /** When the kiosk gives up waiting for money (ms since the epoch), while inserting. */
  deadline: z.number().int().optional(),
});
/** A payment as the resident watches it. */
export type PaymentProgressView = z.infer<typeof paymentProgressSchema>;

/** How one receipt ended at the kiosk. */
export const kioskOutcomeSchema = z.object({
  receiptNumber: z.string(),
  status: z.enum([
    'printed', 'declined', 'expired', 'print_failed', 'abandoned', 'refused', 'outcome_unknown', 'printed_unreported', 'receipt_malformed',
    'receipt_not_found', 'issuance_in_progress', 'rate_limited', 'kiosk_unauthorized', 'printer_unavailable', 'payment_unavailable', 'server_unreachable', 'cancelled', 'error',
  ]),
  /** For `refused`: the refusal code (possibly one this build does not know by name). */
  reason: refusalReasonSchema.optional(),
  issuanceId: z.string().optional(),
  jobId: z.number().int().optional(),
  error: z.string().optional(),
  printer: printerConditionSchema.optional(),
  retryAfterSeconds: z.number().optional(),
  receiptProblem: z.enum(['not_digits', 'too_short', 'too_long', 'check_digit']).optional(),
  /** The money of the attempt, when the resident paid or put money in (refunds and slip code included). */
  payment: paymentReportSchema.optional(),
  /** Why a payment ended without the fee. */
  paymentEnd: z.enum(['cancelled', 'timeout', 'fault']).optional(),
  paymentNotice: paymentNoticeSchema.optional(),
});
/** How one receipt ended at the kiosk. */
export type KioskOutcomeView = z.infer<typeof kioskOutcomeSchema>;

/** Progress of a kiosk session, in the order it happens. */
export const kioskProgressSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('phase'), phase: kioskPhaseSchema, receiptNumber: z.string().optional(), issuanceId: z.string().optional() }),
  z.object({ kind: z.literal('claimed'), issuance: createIssuanceResponseSchema }),
  z.object({ kind: z.literal('issuance-status'), issuanceId: z.string(), status: issuanceStatusSchema }),
  z.object({ kind: z.literal('printer'), status: printerStatusSchema }),
  z.object({ kind: z.literal('job'), job: jobStatusSchema, printer: printerStatusSchema }),
  z.object({ kind: z.literal('outcome'), outcome: kioskOutcomeSchema }),
  z.object({ kind: z.literal('payment'), payment: paymentProgressSchema }),
]);
/** Progress of a kiosk session. */
export type KioskProgressView = z.infer<typeof kioskProgressSchema>;

/** What the kiosk UI needs to know about its appliance. */
export const kioskInfoSchema = z.object({
  storeName: z.string(),
  location: z.string(),
  inactivityMs: z.number().int().positive(),
  decisionTimeoutMs: z.number().int().positive(),
  /** `free`: the kiosk prints without taking money (a municipal building); `cash`: the fee is paid at the kiosk. */
  payment: z.enum(['free', 'cash']),
});

/** What the kiosk UI needs to know about its appliance. */
export type KioskInfo = z.infer<typeof kioskInfoSchema>;

/** The kiosk's print journal as staff see it on the admin screen (job names only: no receipt, no person). */
export const kioskJournalViewSchema = z.object({
  /** A previous job's fate is still being found out: new receipts wait. */
  recovering: z.boolean(),
  /** Jobs the printer no longer knows: staff settle them on the server (`issuances unsettled`). */
  staffChecks: z.array(z.object({ jobName: z.string(), jobId: z.number().int().optional(), since: z.string() })),
});
/** The kiosk's print journal as staff see it. */
export type KioskJournalView = z.infer<typeof kioskJournalViewSchema>;

/** The kiosk app's IPC channels (main ⇄ renderer). */
export const kioskChannels = {
  'kiosk.info': channel(z.tuple([]), kioskInfoSchema),
  'kiosk.issue': channel(z.tuple([z.string().max(64)]), kioskOutcomeSchema),
  'kiosk.cancel': channel(z.tuple([]), z.null()),
  'printer.status': channel(z.tuple([]), printerStatusSchema),
  'kiosk.journal': channel(z.tuple([]), kioskJournalViewSchema),
  // Staff leave the locked-down shell with the appliance's admin code (checked in the main process).
  'kiosk.adminExit': channel(z.tuple([z.string().max(32)]), z.null()),
};

/** Events main → renderer of the kiosk app. */
export const kioskEvents = {
  progress: kioskProgressSchema,
};
