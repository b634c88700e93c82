import { z } from 'zod';
import { refusalReasonSchema } from '../contract/errors.ts';
import { createIssuanceResponseSchema, issuanceStatusSchema } from '../contract/http.ts';
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
export const kioskPhaseSchema = z.enum(['idle', 'recovering', 'checking_printer', 'claiming', 'awaiting_confirmation', 'fetching_document', 'printing', 'reporting', 'abandoning']);

/** How one receipt ended at the kiosk. */
export const kioskOutcomeSchema = z.object({
  receiptNumber: z.string(),
  status: z.enum([
    'printed', 'declined', 'expired', 'print_failed', 'abandoned', 'refused', 'outcome_unknown', 'printed_unreported', 'receipt_malformed',
    'receipt_not_found', 'issuance_in_progress', 'rate_limited', 'kiosk_unauthorized', 'printer_unavailable', 'server_unreachable', 'cancelled', 'error',
  ]),
  /** For `refused`: the refusal code (possibly one this build does not know by name). */
  reason: refusalReasonSchema.optional(),
  issuanceId: z.string().optional(),
  jobId: z.number().int().optional(),
  error: z.string().optional(),
  printer: printerConditionSchema.optional(),
  retryAfterSeconds: z.number().optional(),
  receiptProblem: z.enum(['not_digits', 'too_short', 'too_long', 'check_digit']).optional(),
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
]);
/** Progress of a kiosk session. */
export type KioskProgressView = z.infer<typeof kioskProgressSchema>;

/** What the kiosk UI needs to know about its appliance. */
export const kioskInfoSchema = z.object({
  storeName: z.string(),
  location: z.string(),
  inactivityMs: z.number().int().positive(),
  decisionTimeoutMs: z.number().int().positive(),
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
