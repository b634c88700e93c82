import {
  CardStatusError,
  JPKI_EF,
  JPKI_TOKEN_INFO_LENGTH,
  JPKI_TOKEN_LABEL,
  SW,
  checkPinFormat,
  computeDigitalSignature,
  encodeCommandApdu,
  encodePin,
  keyReferenceP2,
  parseResponseApdu,
  parseTokenLabel,
  readBinary,
  readBinarySfi,
  retriesLeftFromSw,
  selectDf,
  selectEf,
  tlvTotalLength,
  verify,
  verifyRetryQuery,
  type CommandApdu,
} from '@cert/common';
import type { AuthenticationToken } from '../authentication-token.ts';
import { CardError } from './card-errors.ts';
import type { CardConnection } from './pcsc-monitor.ts';

/** How the session reads the certificate: one extended-length READ BINARY, or 256-byte chunks. */
export type CertificateReadMode = 'extended' | 'short';

/** Knobs for card behaviours jpki-card.md marks unconfirmed. */
export interface JpkiSessionOptions {
  /** Start with one extended-Le read (falls back to short reads on `67 00`/`6C xx`). Default `extended`. */
  readMode?: CertificateReadMode;
  /** Name keys by SFI in VERIFY/SIGN (`00 20 00 98`, `80 2A 00 97`) instead of SELECT first. Default true. */
  useSfi?: boolean;
}

/** What the card reports before the resident types the PIN. */
export interface CardInfo {
  kind: 'card' | 'smartphone';
  label: string;
  triesLeft: number;
}

/**
 * The JPKI user-authentication session over one card connection, with as few APDUs as the card
 * allows: SELECT AP, the retry query (before the PIN is asked for), VERIFY, one READ BINARY of
 * the certificate and COMPUTE DIGITAL SIGNATURE. VERIFY is sent only with a PIN passed in by the
 * caller (the one the resident just typed) and never repeated on its own.
 */
export class JpkiSession {
  private readonly options: Required<JpkiSessionOptions>;
  private verified = false;
  private certificate: Buffer | null = null;
  private info: CardInfo | null = null;
  /** Number of APDUs sent, for the figures in the docs. */
  apduCount = 0;

  constructor(
    private readonly connection: CardConnection,
    options: JpkiSessionOptions = {},
  ) {
    this.options = { readMode: options.readMode ?? 'extended', useSfi: options.useSfi ?? true };
  }

  private async send(cmd: CommandApdu, maxResponse: number, what: string): Promise<{ sw: number; data: Uint8Array }> {
    this.apduCount++;
    const raw = await this.connection.transmit(encodeCommandApdu(cmd), maxResponse);
    // No status word: the card left the reader (or the field) in the middle of the command.
    if (raw.length < 2) throw new CardError('card_removed', `${what}: the card stopped answering; was it removed?`);
    const r = parseResponseApdu(raw);
    return { sw: r.sw, data: r.data };
  }

  private async expectOk(cmd: CommandApdu, maxResponse: number, what: string): Promise<Uint8Array> {
    const r = await this.send(cmd, maxResponse, what);
    if (r.sw !== SW.OK) throw new CardStatusError(r.sw, what);
    return r.data;
  }

  /** Selects the JPKI AP, reads the token label and the PIN retry counter (no try is spent). */
  async open(): Promise<CardInfo> {
    let sel = await this.send(selectDf(), 0, 'SELECT JPKI AP');
    // One measured card answers 6F 00 to the first command after a power cycle (jpki-card.md §3.8).
    if (sel.sw === SW.NO_PRECISE_DIAGNOSIS) sel = await this.send(selectDf(), 0, 'SELECT JPKI AP');
    if (sel.sw !== SW.OK) throw new CardError('not_jpki', 'this card has no JPKI application (is it a My Number card?)');
    this.verified = false;
    const token = await this.send(readBinarySfi(JPKI_EF.TOKEN_INFO, 0, JPKI_TOKEN_INFO_LENGTH), JPKI_TOKEN_INFO_LENGTH, 'READ token info');
    const label = token.sw === SW.OK ? parseTokenLabel(token.data) : JPKI_TOKEN_LABEL.CARD;
    const kind = label === JPKI_TOKEN_LABEL.CARD || token.sw !== SW.OK ? 'card' : 'smartphone';
    this.info = { kind, label, triesLeft: await this.triesLeft() };
    return this.info;
  }

  /** The auth PIN's retry counter, read with the empty VERIFY (`63 Cx`); 0 means blocked. */
  async triesLeft(): Promise<number> {
    const cmd = this.options.useSfi ? verifyRetryQuery(JPKI_EF.AUTH_PIN) : verifyRetryQuery();
    if (!this.options.useSfi) await this.expectOk(selectEf(JPKI_EF.AUTH_PIN), 0, 'SELECT auth PIN');
    const r = await this.send(cmd, 0, 'PIN retry query');
    const tries = retriesLeftFromSw(r.sw);
    if (tries !== undefined) return tries;
    if (r.sw === SW.REFERENCED_DATA_BLOCKED || r.sw === SW.AUTHENTICATION_METHOD_BLOCKED) return 0;
    // Some cards answer 90 00 while the PIN is already verified (jpki-card.md §13 q3).
    if (r.sw === SW.OK) return this.info?.triesLeft ?? 3;
    throw new CardStatusError(r.sw, 'PIN retry query');
  }

  /**
   * Verifies the auth PIN the resident just typed. Refuses to spend the last try without
   * `confirmLastTry`, and never sends VERIFY to a blocked card.
   */
  async verifyPin(pin: string, confirmLastTry = false): Promise<void> {
    const problem = checkPinFormat('auth', pin);
    if (problem) throw new CardError('pin_format', `the PIN must be 4 digits (${problem})`);
    // Read the counter now, not when the card was inserted: another program may have spent
    // tries since (shared PC/SC access), and the last try must never go unconfirmed.
    const tries = await this.triesLeft();
    if (this.info) this.info.triesLeft = tries;
    if (tries === 0) throw new CardError('blocked', 'the PIN is blocked; go to the municipal office to reset it', 0);
    if (tries === 1 && !confirmLastTry) throw new CardError('last_try_needs_confirmation', 'one try is left; a wrong PIN will block the card', 1);
    // Without SFI, the retry query just left the PIN EF selected.
    const r = await this.send(verify(encodePin(pin), this.options.useSfi ? JPKI_EF.AUTH_PIN : undefined), 0, 'VERIFY');
    if (r.sw === SW.OK) {
      this.verified = true;
      if (this.info) this.info.triesLeft = 3;
      return;
    }
    const left = retriesLeftFromSw(r.sw);
    if (left !== undefined || r.sw === SW.REFERENCED_DATA_BLOCKED || r.sw === SW.AUTHENTICATION_METHOD_BLOCKED) {
      const n = left ?? 0;
      if (this.info) this.info.triesLeft = n;
      if (n === 0) throw new CardError('blocked', 'wrong PIN: the PIN is now blocked; go to the municipal office to reset it', 0);
      throw new CardError('wrong_pin', `wrong PIN: ${n} ${n === 1 ? 'try' : 'tries'} left`, n);
    }
    throw new CardStatusError(r.sw, 'VERIFY');
  }

  /** The authentication certificate (DER), read once per session. */
  async readCertificate(): Promise<Buffer> {
    if (this.certificate) return this.certificate;
    if (this.options.readMode === 'extended') {
      // One extended-Le READ BINARY by SFI returns the whole EF (the card stops at its end).
      const r = await this.send({ ...readBinarySfi(JPKI_EF.AUTH_CERT, 0), ne: 65536 }, 65536, 'READ certificate');
      if (r.sw === SW.OK) return (this.certificate = this.trim(r.data));
      if (r.sw === SW.SECURITY_STATUS_NOT_SATISFIED) throw new CardError('card_error', 'the certificate needs the PIN first (smartphone token)');
      if (r.sw !== SW.WRONG_LENGTH && r.sw >> 8 !== 0x6c && r.sw !== SW.INCORRECT_P1P2) throw new CardStatusError(r.sw, 'READ certificate');
      this.options.readMode = 'short';
    }
    await this.expectOk(selectEf(JPKI_EF.AUTH_CERT), 0, 'SELECT certificate');
    const chunks: Uint8Array[] = [await this.expectOk(readBinary(0, 256), 256, 'READ certificate')];
    const total = tlvTotalLength(chunks[0]!);
    if (total === undefined) throw new CardError('card_error', 'the certificate EF does not hold a DER object');
    let have = chunks[0]!.length;
    while (have < total) {
      const part = await this.expectOk(readBinary(have, Math.min(256, total - have)), 256, 'READ certificate');
      if (part.length === 0) break;
      chunks.push(part);
      have += part.length;
    }
    return (this.certificate = this.trim(Buffer.concat(chunks)));
  }

  private trim(data: Uint8Array): Buffer {
    // EFs may carry FF filler after the object (jpki-card.md §3.2).
    const total = tlvTotalLength(data);
    if (total === undefined || total > data.length) throw new CardError('card_error', 'the certificate read from the card is truncated');
    return Buffer.from(data.subarray(0, total));
  }

  /** Signs a DigestInfo with the auth key (needs a verified PIN in this session). */
  async signDigestInfo(digestInfo: Uint8Array): Promise<Buffer> {
    if (!this.verified) throw new CardError('card_error', 'the PIN must be verified before signing');
    if (!this.options.useSfi) await this.expectOk(selectEf(JPKI_EF.AUTH_KEY), 0, 'SELECT auth key');
    const p2 = this.options.useSfi ? keyReferenceP2(JPKI_EF.AUTH_KEY) : undefined;
    return Buffer.from(await this.expectOk(p2 === undefined ? computeDigitalSignature(digestInfo) : computeDigitalSignature(digestInfo, p2), 256, 'COMPUTE DIGITAL SIGNATURE'));
  }

  /** This session as the login's AuthenticationToken (valid once the PIN is verified). */
  asToken(): AuthenticationToken {
    return { certificate: () => this.readCertificate(), signDigestInfo: (di) => this.signDigestInfo(di) };
  }
}
