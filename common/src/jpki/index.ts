/**
 * JPKI (My Number card) constants and APDU codec, shared by the applicant's card client and the virtual card.
 * Platform-free (Uint8Array only). The card behaviour behind these values is documented in jpki-card.md.
 *
 * Typical client sequence (auth login; each line is one APDU):
 *   selectDf()                       SELECT JPKI AP            → 90 00
 *   selectEf(JPKI_EF.AUTH_PIN)       SELECT 0018               → 90 00
 *   verifyRetryQuery()               VERIFY, no data           → 63 Cx (x tries left)
 *   verify(encodePin(pin))           VERIFY                    → 90 00 | 63 Cx | 69 84
 *   selectEf(JPKI_EF.AUTH_CERT)      SELECT 000A               → 90 00
 *   readBinary(off, 256) …           READ BINARY in chunks     → data 90 00 (short last chunk), 6B 00 past end
 *   selectEf(JPKI_EF.AUTH_KEY)       SELECT 0017               → 90 00
 *   computeDigitalSignature(di)      80 2A 00 80 … 00          → 256 bytes 90 00 | 69 82 without PIN
 */
export * from './constants.ts';
export * from './status-words.ts';
export * from './apdu.ts';
export * from './commands.ts';
