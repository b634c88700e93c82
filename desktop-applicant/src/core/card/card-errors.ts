/** Why a card operation failed, in terms the UI can explain to a resident. */
export type CardErrorKind =
  | 'pcsc_unavailable'
  | 'no_reader'
  | 'no_card'
  | 'card_removed'
  | 'card_busy'
  | 'not_jpki'
  | 'pin_format'
  | 'wrong_pin'
  | 'last_try_needs_confirmation'
  | 'blocked'
  | 'pcsc_restarted'
  | 'card_error';

/** A typed card failure; `triesLeft` is set for wrong PINs and last-try confirmations. */
export class CardError extends Error {
  constructor(
    readonly kind: CardErrorKind,
    message: string,
    readonly triesLeft?: number,
  ) {
    super(message);
    this.name = 'CardError';
  }
}

// PC/SC result codes (pcsclite.h) that tell us what happened to the card or the service.
const PCSC_CODES: Record<number, CardErrorKind> = {
  0x80100069: 'card_removed', // SCARD_W_REMOVED_CARD
  0x80100068: 'card_removed', // SCARD_W_RESET_CARD
  0x8010000c: 'no_card', // SCARD_E_NO_SMARTCARD
  0x80100016: 'card_removed', // SCARD_E_NOT_TRANSACTED: the reader lost the card mid-command (pulled out, left the NFC field)
  0x80100066: 'card_removed', // SCARD_W_UNRESPONSIVE_CARD
  0x80100067: 'card_removed', // SCARD_W_UNPOWERED_CARD
  0x8010000b: 'card_busy', // SCARD_E_SHARING_VIOLATION
  0x80100009: 'no_reader', // SCARD_E_UNKNOWN_READER
  0x80100017: 'no_reader', // SCARD_E_READER_UNAVAILABLE
  0x80100013: 'pcsc_restarted', // SCARD_F_COMM_ERROR: pcscd went away under us
  0x8010001d: 'pcsc_unavailable', // SCARD_E_NO_SERVICE
  0x8010001e: 'pcsc_unavailable', // SCARD_E_SERVICE_STOPPED
  0x80100003: 'pcsc_restarted', // SCARD_E_INVALID_HANDLE: the context died with pcscd
};

/** The PC/SC result code inside a pcsclite error message, e.g. `(0x80100069)`. */
export function pcscCode(err: unknown): number | undefined {
  const m = /0x([0-9a-f]{8})/i.exec(String((err as Error)?.message ?? err));
  return m ? parseInt(m[1]!, 16) : undefined;
}

/** Maps a pcsclite error to a CardError (unknown codes become `card_error`). */
export function cardErrorFromPcsc(err: unknown, doing: string): CardError {
  if (err instanceof CardError) return err;
  const code = pcscCode(err);
  const kind = (code !== undefined && PCSC_CODES[code]) || 'card_error';
  const messages: Record<CardErrorKind, string> = {
    card_removed: 'the card was removed while it was in use',
    no_card: 'there is no card in the reader',
    card_busy: 'another program is using the card',
    no_reader: 'the card reader is not available',
    pcsc_restarted: 'the smart-card service restarted; try again',
    pcsc_unavailable: 'the smart-card service (pcscd) is not running',
    card_error: `the card reader failed (${String((err as Error)?.message ?? err)})`,
    not_jpki: '',
    pin_format: '',
    wrong_pin: '',
    last_try_needs_confirmation: '',
    blocked: '',
  };
  return new CardError(kind, `${doing}: ${messages[kind]}`);
}
