// Payment at the kiosk (issue 11): what a kiosk reports about the money of one issuance attempt,
// in integer yen. The same report is kept in the kiosk's journal until the server has it.
import { z } from 'zod';

/** The coins and notes a kiosk takes and gives, in yen (both ¥500 coins are ¥500). */
export const YEN_DENOMINATIONS = [10, 50, 100, 500, 1000] as const;
/** One coin or note value. */
export type YenDenomination = (typeof YEN_DENOMINATIONS)[number];

const yen = z.number().int().nonnegative().max(10_000_000);
const denomination = z.union(YEN_DENOMINATIONS.map((d) => z.literal(d)) as [z.ZodLiteral<10>, z.ZodLiteral<50>, z.ZodLiteral<100>, z.ZodLiteral<500>, z.ZodLiteral<1000>]);
/** How many pieces of each value (only values with a count appear). */
export const denominationCountsSchema = z.array(z.strictObject({ yen: denomination, count: z.number().int().positive().max(10_000) })).max(YEN_DENOMINATIONS.length);
/** How many pieces of each value. */
export type DenominationCounts = z.infer<typeof denominationCountsSchema>;

/** A refund slip code: what the resident shows the store for money the kiosk could not pay back. */
export const slipCodeSchema = z.string().regex(/^R-[0-9A-HJ-NP-Z]{4}-[0-9A-HJ-NP-Z]{4}$/, 'must look like R-XXXX-XXXX');

/** The money of one attempt: `collected` = inserted − change − refunded − refundOwed (the fee kept, or 0). */
export const paymentReportSchema = z
  .strictObject({
    /** Which payment device took it (`cctalk-cash`; an e-money terminal would name itself). */
    device: z.string().min(1).max(40),
    /** The fee asked for (the application's fee: catalogue fee × copies). */
    due: yen,
    /** Everything the resident put in. */
    inserted: yen,
    /** Change paid out. */
    change: yen,
    /** Paid back because the certificate did not print (or the resident cancelled). */
    refunded: yen,
    /** Could not be paid out (change or refund): the store pays it against `slipCode`. */
    refundOwed: yen,
    slipCode: slipCodeSchema.optional(),
    /** Inserted, by value. */
    credits: denominationCountsSchema,
    /** Paid out (change and refunds), by value. */
    payouts: denominationCountsSchema,
  })
  .refine((p) => p.inserted === countsTotal(p.credits), { message: 'inserted must equal the credits by denomination', path: ['inserted'] })
  .refine((p) => p.change + p.refunded === countsTotal(p.payouts), { message: 'change + refunded must equal the payouts by denomination', path: ['payouts'] })
  .refine((p) => p.change + p.refunded + p.refundOwed <= p.inserted, { message: 'more paid out and owed than inserted', path: ['refundOwed'] })
  .refine((p) => (p.refundOwed > 0) === (p.slipCode !== undefined), { message: 'a slip code goes with a refund owed, and only then', path: ['slipCode'] });
/** The money of one attempt. */
export type PaymentReport = z.infer<typeof paymentReportSchema>;

/** The total of counts by denomination. */
export function countsTotal(counts: DenominationCounts): number {
  return counts.reduce((sum, c) => sum + c.yen * c.count, 0);
}

/** Pieces (each a value in yen) grouped by value, highest first. */
export function countPieces(pieces: readonly number[]): DenominationCounts {
  return YEN_DENOMINATIONS.filter((d) => pieces.includes(d))
    .reverse()
    .map((d) => ({ yen: d, count: pieces.filter((p) => p === d).length }));
}

/** What the attempt kept of the money. */
export function paymentCollected(p: Pick<PaymentReport, 'inserted' | 'change' | 'refunded' | 'refundOwed'>): number {
  return p.inserted - p.change - p.refunded - p.refundOwed;
}
