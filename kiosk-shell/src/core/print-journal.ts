// The kiosk's print journal: one small record per certificate on its way to paper, written
// before each step it describes, so that a kiosk that dies (or cannot reach the server) can find
// out afterwards what really happened instead of guessing. It holds ids and the job's name only:
// never the document, never anything about the resident.
//
//   paying       written before the kiosk takes money (issue 11); every credit and payout is
//                written into the entry's `payment` before the kiosk acts on it
//   fetching     written before the document is fetched: no Print-Job has been sent
//   submitting   written before Print-Job, with the job-name the printer will know the job by
//   printing     the printer accepted the job and named its id
//   reporting    the job's end is known (`outcome`); the server has not acknowledged it yet
//   needs_staff  the printer no longer knows the job: nothing is reported, staff settle it
//
// The entry is removed once the server has acknowledged the outcome (or staff settled it).
import { countPieces, slipCodeSchema, type PaymentReport } from '@cert/common';
import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';

const stamp = z.string().datetime({ offset: true });
// Ids become file names in the state directory: no separators, nothing that walks out of it.
const fileSafeId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a plain id (letters, digits, - and _)');

const yen = z.number().int().nonnegative();

/** The money of an entry: every credit (with the device's event number) and every payout, in yen. */
export const journalPaymentSchema = z.strictObject({
  device: z.string().min(1).max(40),
  due: yen,
  credits: z.array(z.strictObject({ yen: z.number().int().positive(), source: z.string().max(20), counter: z.number().int().nonnegative() })),
  /** Pieces paid out (change and refunds). */
  payouts: z.array(z.number().int().positive()),
  change: yen,
  refunded: yen,
  /** Change or refund the kiosk could not pay: the store pays it against `slipCode`. */
  owed: yen,
  slipCode: slipCodeSchema.optional(),
  /** A payout under way. Should the kiosk die before it is recorded, this much is owed (never paid twice). */
  dispensing: z.strictObject({ purpose: z.enum(['change', 'refund']), yen: z.number().int().positive() }).optional(),
});
/** The money of a journal entry. */
export type JournalPayment = z.infer<typeof journalPaymentSchema>;

const common = {
  /** Format version of the entry. */
  v: z.literal(1),
  issuanceId: fileSafeId,
  receiptNumber: z.string().regex(/^\d{12}$/),
  /** The IPP job-name, unique per print, by which the job is found when its id was never learnt. */
  jobName: z.string().regex(/^[a-z0-9-]{1,64}$/),
  jobId: z.number().int().positive().optional(),
  createdAt: stamp,
  updatedAt: stamp,
  payment: journalPaymentSchema.optional(),
};

/** One journal entry as written to disk (validated when read back: it crosses process lifetimes). */
export const journalEntrySchema = z.discriminatedUnion('phase', [
  z.strictObject({ ...common, phase: z.literal('paying') }),
  z.strictObject({ ...common, phase: z.literal('fetching') }),
  z.strictObject({ ...common, phase: z.literal('submitting') }),
  z.strictObject({ ...common, phase: z.literal('printing'), jobId: z.number().int().positive() }),
  z.strictObject({ ...common, phase: z.literal('reporting'), outcome: z.enum(['printed', 'failed']), detail: z.string().max(500) }),
  z.strictObject({ ...common, phase: z.literal('needs_staff'), detail: z.string().max(500) }),
]);
/** One journal entry. */
export type JournalEntry = z.infer<typeof journalEntrySchema>;
/** Where an entry is. */
export type JournalPhase = JournalEntry['phase'];
/** An entry whose outcome is known and waits for the server. */
export type ReportingEntry = Extract<JournalEntry, { phase: 'reporting' }>;

/** Phases in which the printer may still be working on the job (the kiosk waits before a new receipt). */
export const UNJUDGED_PHASES: readonly JournalPhase[] = ['fetching', 'submitting', 'printing'];

/** Where journal entries live; every write replaces the entry atomically. */
export interface JournalStore {
  /** Every entry, oldest first. */
  list(): JournalEntry[];
  /** Writes (or replaces) the entry of its issuance; throws when it could not be made durable. */
  write(entry: JournalEntry): void;
  /** Removes the entry of an issuance (a missing one is fine). */
  remove(issuanceId: string): void;
}

/** The journal of a session that was given none: it lives as long as the process (tests, the demo). */
export class MemoryJournalStore implements JournalStore {
  private readonly entries = new Map<string, JournalEntry>();

  list(): JournalEntry[] {
    return [...this.entries.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  write(entry: JournalEntry): void {
    this.entries.set(entry.issuanceId, journalEntrySchema.parse(entry));
  }

  remove(issuanceId: string): void {
    this.entries.delete(issuanceId);
  }
}

/** A job-name unique to one print: the issuance's prefix (for people reading the printer's log) and a random tail. */
export function newJobName(issuanceId: string): string {
  const prefix = issuanceId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  return `certificate-${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The first entry of a print: before the document is fetched, or (with `payment`: device and fee) before money is taken. */
export function firstEntry(issuanceId: string, receiptNumber: string, payment?: { device: string; due: number }): JournalEntry {
  const now = new Date().toISOString();
  const money = payment ? { phase: 'paying', payment: { ...payment, credits: [], payouts: [], change: 0, refunded: 0, owed: 0 } } : { phase: 'fetching' };
  return journalEntrySchema.parse({ v: 1, issuanceId, receiptNumber, jobName: newJobName(issuanceId), ...money, createdAt: now, updatedAt: now });
}

/** The entry with its payment replaced, stamped now. */
export function withPayment<E extends JournalEntry>(entry: E, payment: JournalPayment): E {
  return journalEntrySchema.parse({ ...entry, payment, updatedAt: new Date().toISOString() }) as E;
}

/** Yen inserted. */
export function insertedYen(p: JournalPayment): number {
  return p.credits.reduce((sum, c) => sum + c.yen, 0);
}

/** Yen the kiosk holds for this entry: inserted, less what was paid out or is owed. */
export function heldYen(p: JournalPayment): number {
  return insertedYen(p) - p.change - p.refunded - p.owed - (p.dispensing?.yen ?? 0);
}

// Crockford-like: no I, O (they read as 1, 0).
const SLIP_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** A new refund slip code, `R-XXXX-XXXX`. */
export function newSlipCode(): string {
  const part = () => Array.from({ length: 4 }, () => SLIP_ALPHABET[randomInt(SLIP_ALPHABET.length)]).join('');
  return `R-${part()}-${part()}`;
}

/** The payment as the server's contract reports it. */
export function paymentReport(p: JournalPayment): PaymentReport {
  return {
    device: p.device,
    due: p.due,
    inserted: insertedYen(p),
    change: p.change,
    refunded: p.refunded,
    refundOwed: p.owed,
    ...(p.slipCode ? { slipCode: p.slipCode } : {}),
    credits: countPieces(p.credits.map((c) => c.yen)),
    payouts: countPieces(p.payouts),
  };
}

/** What moving an entry to another phase adds. */
export type JournalStep =
  | { phase: 'fetching' }
  | { phase: 'submitting' }
  | { phase: 'printing'; jobId: number }
  | { phase: 'reporting'; outcome: 'printed' | 'failed'; detail: string; jobId?: number }
  | { phase: 'needs_staff'; detail: string };

/** The entry moved to its next phase, stamped now (the fields of the phase it leaves are dropped). */
export function advance<S extends JournalStep>(entry: JournalEntry, step: S): Extract<JournalEntry, { phase: S['phase'] }> {
  const { v, issuanceId, receiptNumber, jobName, jobId, createdAt, payment } = entry;
  const given = Object.fromEntries(Object.entries(step).filter(([, x]) => x !== undefined));
  if (typeof given['detail'] === 'string') given['detail'] = given['detail'].slice(0, 500);
  const next = { v, issuanceId, receiptNumber, jobName, createdAt, ...(jobId !== undefined ? { jobId } : {}), ...(payment ? { payment } : {}), ...given, updatedAt: new Date().toISOString() };
  return journalEntrySchema.parse(next) as Extract<JournalEntry, { phase: S['phase'] }>;
}
