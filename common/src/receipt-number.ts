/**
 * Receipt numbers (受付番号): 11 random decimal digits followed by their Damm check digit.
 * The Damm algorithm catches every single-digit error and every swap of neighbouring digits,
 * which are the mistakes people make on a keypad.
 */

// Totally anti-symmetric quasigroup of order 10 (Damm 2004).
const DAMM_TABLE: readonly (readonly number[])[] = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/** Number of digits in a receipt number, check digit included. */
export const RECEIPT_NUMBER_LENGTH = 12;

/** Damm check digit of a string of decimal digits. */
export function dammCheckDigit(digits: string): number {
  let interim = 0;
  for (const ch of digits) {
    const d = ch.charCodeAt(0) - 48;
    if (d < 0 || d > 9) throw new RangeError(`not a decimal digit: ${JSON.stringify(ch)}`);
    interim = DAMM_TABLE[interim]![d]!;
  }
  return interim;
}

/** True when the digits (check digit last) pass the Damm check. */
export function dammValid(digits: string): boolean {
  return /^[0-9]+$/.test(digits) && dammCheckDigit(digits) === 0;
}

/** Strips the spaces and hyphens people type; returns null when anything else is left. */
export function stripReceiptSeparators(input: string): string | null {
  const digits = input.replace(/[\s\-\u2010-\u2015\u30fc\uff0d]/g, '');
  const ascii = digits.replace(/[\uff10-\uff19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return /^[0-9]*$/.test(ascii) ? ascii : null;
}

/** Outcome of checking what a person typed as a receipt number. */
export type ReceiptCheck =
  | { ok: true; receiptNumber: string }
  | { ok: false; reason: 'not_digits' | 'too_short' | 'too_long' | 'check_digit' };

/** Normalises and validates a typed receipt number (spaces/hyphens anywhere, full-width digits). */
export function parseReceiptNumber(input: string): ReceiptCheck {
  const digits = stripReceiptSeparators(input);
  if (digits === null) return { ok: false, reason: 'not_digits' };
  if (digits.length < RECEIPT_NUMBER_LENGTH) return { ok: false, reason: 'too_short' };
  if (digits.length > RECEIPT_NUMBER_LENGTH) return { ok: false, reason: 'too_long' };
  if (!dammValid(digits)) return { ok: false, reason: 'check_digit' };
  return { ok: true, receiptNumber: digits };
}

/** Shows a receipt number grouped as people read it: `1234-5678-9012`. */
export function formatReceiptNumber(receiptNumber: string): string {
  return receiptNumber.replace(/(\d{4})(?=\d)/g, '$1-');
}

/** A fresh receipt number: 11 uniformly random digits plus the check digit. */
export function generateReceiptNumber(): string {
  const body: string[] = [];
  const buf = new Uint8Array(32);
  while (body.length < RECEIPT_NUMBER_LENGTH - 1) {
    globalThis.crypto.getRandomValues(buf);
    for (const byte of buf) {
      // Rejection sampling keeps every digit equally likely (250 = 25 * 10).
      if (byte < 250 && body.length < RECEIPT_NUMBER_LENGTH - 1) body.push(String(byte % 10));
    }
  }
  const head = body.join('');
  return head + String(dammCheckDigit(head));
}
