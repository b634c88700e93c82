// Status words the My Number card answers (jpki-card.md §3.8), with names for logs and error messages.

/** Status words as 16-bit numbers (`SW1 << 8 | SW2`). */
export const SW = {
  OK: 0x9000,
  /** `63 C0`: wrong PIN and now blocked, or the retry query on a blocked key. `63 Cx` in general: x tries left. */
  RETRY_COUNTER_BASE: 0x63c0,
  /** Verification failed on a key without a retry limit (JICSAP; not seen on JPKI keys). */
  VERIFICATION_FAILED: 0x6300,
  /** End of file reached before Le bytes (some cards use it instead of `6B 00`). */
  END_OF_FILE_WARNING: 0x6282,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  COMMAND_CHAINING_NOT_SUPPORTED: 0x6884,
  INCOMPATIBLE_FILE_STRUCTURE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTHENTICATION_METHOD_BLOCKED: 0x6983,
  REFERENCED_DATA_BLOCKED: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  NO_CURRENT_EF: 0x6986,
  /** Secure messaging CLA on a command of an AP without SM (READ BINARY, VERIFY). */
  SM_DATA_OBJECTS_INCORRECT: 0x69fc,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1P2_OFFSET: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

const SW_NAMES: ReadonlyMap<number, string> = new Map([
  [SW.OK, 'success'],
  [SW.VERIFICATION_FAILED, 'verification failed'],
  [SW.END_OF_FILE_WARNING, 'end of file reached before Le bytes'],
  [SW.WRONG_LENGTH, 'wrong length'],
  [SW.LOGICAL_CHANNEL_NOT_SUPPORTED, 'logical channel not supported'],
  [SW.SECURE_MESSAGING_NOT_SUPPORTED, 'secure messaging not supported'],
  [SW.COMMAND_CHAINING_NOT_SUPPORTED, 'command chaining not supported'],
  [SW.INCOMPATIBLE_FILE_STRUCTURE, 'command incompatible with file structure'],
  [SW.SECURITY_STATUS_NOT_SATISFIED, 'security status not satisfied'],
  [SW.AUTHENTICATION_METHOD_BLOCKED, 'authentication method blocked'],
  [SW.REFERENCED_DATA_BLOCKED, 'referenced data (key) blocked'],
  [SW.CONDITIONS_NOT_SATISFIED, 'conditions of use not satisfied'],
  [SW.NO_CURRENT_EF, 'no current EF'],
  [SW.SM_DATA_OBJECTS_INCORRECT, 'secure messaging data objects incorrect'],
  [SW.INCORRECT_DATA, 'incorrect data'],
  [SW.FUNCTION_NOT_SUPPORTED, 'function not supported'],
  [SW.FILE_NOT_FOUND, 'file or application not found'],
  [SW.INCORRECT_P1P2, 'incorrect P1/P2'],
  [SW.REFERENCED_DATA_NOT_FOUND, 'referenced data not found'],
  [SW.WRONG_P1P2_OFFSET, 'offset beyond end of file'],
  [SW.INS_NOT_SUPPORTED, 'instruction not supported'],
  [SW.CLA_NOT_SUPPORTED, 'class not supported'],
  [SW.NO_PRECISE_DIAGNOSIS, 'no precise diagnosis'],
]);

/** `63 Cx` → x (tries left); any other SW → `undefined`. */
export function retriesLeftFromSw(sw: number): number | undefined {
  return (sw & 0xfff0) === SW.RETRY_COUNTER_BASE ? sw & 0x0f : undefined;
}

/** The `63 Cx` status word for x tries left (0–15). */
export function retryCounterSw(triesLeft: number): number {
  if (!Number.isInteger(triesLeft) || triesLeft < 0 || triesLeft > 15) throw new RangeError('tries left is 0..15');
  return SW.RETRY_COUNTER_BASE | triesLeft;
}

/** Four hex digits, upper case: `9000`, `63C2`. */
export function swHex(sw: number): string {
  return (sw & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/** `6982 (security status not satisfied)`, `63C2 (wrong PIN or retry query: 2 tries left)`. */
export function describeSw(sw: number): string {
  const retries = retriesLeftFromSw(sw);
  if (retries !== undefined) {
    return `${swHex(sw)} (${retries === 0 ? 'key blocked' : `wrong PIN or retry query: ${retries} tries left`})`;
  }
  if (sw >> 8 === 0x61) return `${swHex(sw)} (${sw & 0xff} more bytes available: GET RESPONSE)`;
  if (sw >> 8 === 0x6c) return `${swHex(sw)} (wrong Le: resend with Le=${sw & 0xff})`;
  const name = SW_NAMES.get(sw);
  return name ? `${swHex(sw)} (${name})` : swHex(sw);
}

/** An error carrying the status word of a failed command. */
export class CardStatusError extends Error {
  constructor(
    readonly sw: number,
    readonly command?: string,
  ) {
    super(`${command ? `${command}: ` : ''}card answered ${describeSw(sw)}`);
    this.name = 'CardStatusError';
  }

  /** Tries left when the card answered `63 Cx`. */
  get retriesLeft(): number | undefined {
    return retriesLeftFromSw(this.sw);
  }
}
