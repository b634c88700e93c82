// The receipt number as it is being typed: at most 12 digits, checked (Damm) as soon as all are
// there, so a mistyped number is flagged on the screen and never sent. No DOM: unit-tested in Node.
import { RECEIPT_NUMBER_LENGTH, dammValid, stripReceiptSeparators } from '@cert/common';

/** Where the typing is: nothing yet, some digits, 12 digits that pass the check, 12 that do not. */
export type EntryState = 'empty' | 'partial' | 'complete' | 'mistyped';

/** The state of a digit string of at most 12 digits. */
export function entryState(digits: string): EntryState {
  if (digits.length === 0) return 'empty';
  if (digits.length < RECEIPT_NUMBER_LENGTH) return 'partial';
  return dammValid(digits) ? 'complete' : 'mistyped';
}

/** Adds one digit unless the number is already complete in length. */
export function pushDigit(digits: string, digit: string): string {
  return /^[0-9]$/.test(digit) && digits.length < RECEIPT_NUMBER_LENGTH ? digits + digit : digits;
}

/** The three groups of four as shown (`1234 5678 90__`), with `_` for digits still to type. */
export function displayGroups(digits: string): string[] {
  const padded = digits.padEnd(RECEIPT_NUMBER_LENGTH, '_');
  return [padded.slice(0, 4), padded.slice(4, 8), padded.slice(8, 12)];
}

/**
 * What a scanner sent, made into digits: the first 12-digit run (separators allowed) that
 * passes the check digit, else the first run of digits (so the entry screen can show what is
 * wrong with it), else null when the code held no digits at all.
 */
export function receiptFromScan(text: string): string | null {
  const runs = (text.match(/[0-9０-９](?:[0-9０-９\s-]*[0-9０-９])?/g) ?? []).map((r) => stripReceiptSeparators(r) ?? '');
  const valid = runs.find((r) => r.length === RECEIPT_NUMBER_LENGTH && dammValid(r));
  if (valid) return valid;
  const first = runs.find((r) => r.length > 0);
  return first === undefined ? null : first.slice(0, RECEIPT_NUMBER_LENGTH);
}
