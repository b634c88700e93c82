// The JPKI application of a My Number card, as an APDU handler: bytes in, bytes out. No I/O except the
// optional state file. Behaviour follows ../shared/jpki-card.md (§2, §3, §11); choices the document marks [U]
// (unconfirmed) are options, with the defaults noted next to each.
import { constants as cryptoConstants, createHash, privateEncrypt, randomBytes } from 'node:crypto';
import {
  ApduFormatError,
  CLA,
  DIGEST_INFO_PREFIXES,
  INS,
  JPKI_CERT_PRESENCE_BOTH,
  JPKI_EF,
  JPKI_MAX_SIGN_INPUT,
  JPKI_PIN_RULES,
  JPKI_TOKEN_LABEL,
  MYNA_AID,
  MYNA_ATR,
  SW,
  bytesEqual,
  checkPinFormat,
  decodeClassByte,
  decodeCommandApdu,
  defaultTokenInfo,
  encodeResponseApdu,
  encodeTokenInfo,
  retryCounterSw,
  type DecodedCommandApdu,
  type JpkiPinKind,
} from '@cert/common';
import type { KeyObject } from 'node:crypto';
import { readStateFile, writeStateFile, type CardNvState } from './card-state.ts';
import { personaFingerprint, type CardPersona } from './persona.ts';

export interface JpkiCardOptions {
  /** ATR the card reports (default: contact `3B E0 00 FF 81 31 FE 45 14`, which OpenSC's JPKI table matches). */
  atr?: Uint8Array;
  /** Contact ATR returned by GET DATA `5F51` (without TS). Default: `MYNA_ATR.CONTACT`. */
  contactAtr?: Uint8Array;
  /** Smartphone JPKI: label `JPKIAPGPSETOKEN` and the auth certificate `000A` needs the auth PIN (§3.5). */
  smartphone?: boolean;
  /** Override the token label in EF `0006`. */
  tokenLabel?: string;
  /** What a warm reset (vpcd control 02) does: keep selection and security status (default, per MC §3.7) or clear like a cold reset. */
  warmReset?: 'keep' | 'clear';
  /** [U] A VERIFY whose PIN has the wrong length: `count` as a wrong try (default) or `reject` with `67 00`, no try spent. */
  wrongLengthPin?: 'count' | 'reject';
  /** [U] Retry query after a successful VERIFY: `63 Cx` (default; OpenSC needs it) or `90 00`. */
  queryAfterVerify?: 'retries' | 'ok';
  /** [U] READ BINARY at/after the end of the EF: `6B 00` (default) or `62 82`. */
  readPastEndSw?: number;
  /** [U] READ BINARY on a key or PIN EF: `69 81` (default) or `69 82`. */
  keyEfReadSw?: number;
  /** [U] COMPUTE DIGITAL SIGNATURE with CLA `00` instead of `80`: `6D 00` (default) or `6E 00`. */
  isoClaSignSw?: number;
  /** Accept a prefix of a DF name in SELECT, as the real card does (default true). */
  partialAidMatch?: boolean;
  /** [U] Bytes of `FF` filler after each certificate in its EF (default 0). */
  certFiller?: number;
  /** Support COMPUTE DIGITAL SIGNATURE P1 `01`–`03` (card-side SHA-256), found on a real card by MC (default true). */
  signP1Variants?: boolean;
  /** [U] Require a VERIFY before every signature (default false: several signatures after one VERIFY work). */
  signRequiresFreshVerify?: boolean;
  /** [U] Clear the key's security status after CHANGE REFERENCE DATA (default false). */
  clearStatusOnPinChange?: boolean;
  /** Retry maxima (default 3 for the auth PIN, 5 for the signature password). */
  maxTries?: Partial<Record<JpkiPinKind, number>>;
  /** Tries left when the card is new and no state file exists (default: the maximum). */
  initialTries?: Partial<Record<JpkiPinKind, number>>;
  /** MC's quirk: the first command after a power cycle answers `6F 00` (default false). */
  firstCommandQuirk?: boolean;
  /** JSON file with the retry counters (and changed PINs), read at construction and rewritten atomically on change. */
  stateFile?: string;
}

type EfEntry =
  | { kind: 'binary'; content: Uint8Array; access: 'always' | 'sign-password' | 'auth-pin' }
  | { kind: 'pin'; pin: JpkiPinKind }
  | { kind: 'key'; pin: JpkiPinKind; key: KeyObject }
  | { kind: 'internal' };

/** Known APs besides JPKI; this card answers `6A 82` when one of them is selected. */
const OTHER_APS = [MYNA_AID.TEXT, MYNA_AID.VISUAL, MYNA_AID.JUKI, MYNA_AID.COMMON, MYNA_AID.GP_ISD];

/** EFs that exist on a real card but whose content is unknown or protected (§3.1). */
const INTERNAL_EFS = [0x0005, 0x0009, 0x0010, 0x0016, 0x0019, 0x001c, 0x001e];

/** Volatile state of the card: lost on power-off. */
export interface CardSession {
  powered: boolean;
  /** `mf`: no application selected (after reset); `jpki`: the JPKI AP is the current DF. */
  currentDf: 'mf' | 'jpki';
  currentEf: number | undefined;
  /** Keys whose PIN was verified in the current DF. */
  verified: Set<JpkiPinKind>;
  firstCommandPending: boolean;
}

export interface PinStatus {
  remaining: number;
  max: number;
  blocked: boolean;
  verified: boolean;
}

export class JpkiCard {
  readonly persona: CardPersona;
  readonly options: Readonly<JpkiCardOptions>;
  readonly fingerprint: string;
  private readonly efs = new Map<number, EfEntry>();
  private nv: CardNvState;
  private session: CardSession;

  constructor(persona: CardPersona, options: JpkiCardOptions = {}) {
    this.persona = persona;
    this.options = { ...options };
    this.fingerprint = personaFingerprint(persona);
    for (const kind of ['auth', 'sign'] as const) {
      const problem = checkPinFormat(kind, kind === 'auth' ? persona.authPin : persona.signPassword);
      if (problem) throw new Error(`the persona's ${kind} PIN is not a valid card PIN: ${problem}`);
    }
    this.buildFiles();
    const fromFile = options.stateFile ? readStateFile(options.stateFile, this.fingerprint) : undefined;
    this.nv = fromFile ?? this.freshNvState();
    if (options.stateFile && !fromFile) this.persist();
    this.session = this.resetSession(false);
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle (vpcd control codes)

  /** The ATR the reader reports. */
  get atr(): Uint8Array {
    return this.options.atr ?? MYNA_ATR.CONTACT;
  }

  /** Cold start (vpcd `01`): clears selection and security status. */
  powerOn(): void {
    this.session = this.resetSession(true);
  }

  /** Power off (vpcd `00`) or leaving the field: clears selection and security status. */
  powerOff(): void {
    this.session = this.resetSession(false);
  }

  /** Warm reset (vpcd `02`): per `options.warmReset`. */
  warmReset(): void {
    if (this.options.warmReset === 'clear') this.session = this.resetSession(true);
    else this.session.powered = true;
  }

  /** Snapshot of the volatile state. */
  get sessionState(): Readonly<Omit<CardSession, 'verified'>> & { verified: JpkiPinKind[] } {
    return { ...this.session, verified: [...this.session.verified] };
  }

  /** Retry counters and verification status of both PINs. */
  pinStatus(kind: JpkiPinKind): PinStatus {
    const c = this.nv[kind];
    return { remaining: c.remaining, max: c.max, blocked: c.remaining === 0, verified: this.session.verified.has(kind) };
  }

  /** Non-volatile state (counters, changed PINs), a copy. */
  get nvState(): CardNvState {
    return { auth: { ...this.nv.auth }, sign: { ...this.nv.sign }, changedPins: { ...this.nv.changedPins } };
  }

  /** Test hook: set a counter (e.g. to start from a nearly blocked card). Persists. */
  setTriesLeft(kind: JpkiPinKind, remaining: number): void {
    if (!Number.isInteger(remaining) || remaining < 0 || remaining > this.nv[kind].max) throw new RangeError(`tries left is 0..${this.nv[kind].max}`);
    this.nv[kind].remaining = remaining;
    if (remaining === 0) this.session.verified.delete(kind);
    this.persist();
  }

  /** The PIN value the card currently holds. */
  currentPin(kind: JpkiPinKind): string {
    return this.nv.changedPins[kind] ?? (kind === 'auth' ? this.persona.authPin : this.persona.signPassword);
  }

  // -------------------------------------------------------------------------------------------
  // APDU processing

  /** Processes one command APDU and returns `data ‖ SW1 SW2` (never empty). */
  transmit(apdu: Uint8Array): Uint8Array {
    if (!this.session.powered) this.session = this.resetSession(true); // a reader always powers the card first
    if (this.session.firstCommandPending) {
      this.session.firstCommandPending = false;
      return sw(SW.NO_PRECISE_DIAGNOSIS);
    }
    let cmd: DecodedCommandApdu;
    try {
      cmd = decodeCommandApdu(apdu);
    } catch (err) {
      if (err instanceof ApduFormatError) return sw(SW.WRONG_LENGTH);
      throw err;
    }
    const cls = decodeClassByte(cmd.cla);
    if (!cls.valid) return sw(SW.CLA_NOT_SUPPORTED);
    if (cls.channel !== 0) return sw(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
    if (cls.secureMessaging) {
      // Only the text AP supports SM: SELECT answers 68 82, READ BINARY / VERIFY 69 FC (§1).
      return sw(cmd.ins === INS.READ_BINARY || cmd.ins === INS.VERIFY ? SW.SM_DATA_OBJECTS_INCORRECT : SW.SECURE_MESSAGING_NOT_SUPPORTED);
    }
    if (cls.chaining) return sw(SW.COMMAND_CHAINING_NOT_SUPPORTED);
    const iso = !cls.proprietary;
    const claBase = cmd.cla & 0xf0; // 0x00 or 0x80 after the checks above (channel 0, no SM, no chaining)

    switch (cmd.ins) {
      case INS.SELECT:
        return iso ? this.select(cmd) : sw(SW.CLA_NOT_SUPPORTED);
      case INS.READ_BINARY:
        return iso ? this.readBinary(cmd) : sw(SW.CLA_NOT_SUPPORTED);
      case INS.VERIFY:
        return iso ? this.verify(cmd) : sw(SW.CLA_NOT_SUPPORTED);
      case INS.CHANGE_REFERENCE_DATA:
        return iso ? this.changeReferenceData(cmd) : sw(SW.CLA_NOT_SUPPORTED);
      case INS.COMPUTE_DIGITAL_SIGNATURE:
        return claBase === CLA.PROPRIETARY ? this.sign(cmd) : sw(this.options.isoClaSignSw ?? SW.INS_NOT_SUPPORTED);
      case INS.GET_CHALLENGE:
        return iso ? this.getChallenge(cmd) : sw(SW.CLA_NOT_SUPPORTED);
      case INS.GET_DATA:
        return iso ? this.getData(cmd) : sw(SW.CLA_NOT_SUPPORTED);
      case 0xfc:
        // iPhone "last command indicator" 80 FC 00 00; a physical card rejects it with 67 00 (§3.5).
        return claBase === CLA.PROPRIETARY ? sw(SW.WRONG_LENGTH) : sw(SW.INS_NOT_SUPPORTED);
      default:
        return sw(SW.INS_NOT_SUPPORTED);
    }
  }

  private select(cmd: DecodedCommandApdu): Uint8Array {
    // P2: 00 (FCI), 04 (FCP), 08 (FMD), 0C (no data); first occurrence only. No FCI is ever returned ([U] for P2 00).
    if ((cmd.p2 & 0xf3) !== 0) return sw(SW.INCORRECT_P1P2);
    switch (cmd.p1) {
      case 0x04: {
        if (cmd.data.length === 0 || cmd.data.length > 16) return sw(SW.WRONG_LENGTH);
        if (!this.matchesJpki(cmd.data)) return sw(SW.FILE_NOT_FOUND);
        // Selecting an application (even the current one) clears the security status (§3.7).
        this.session.currentDf = 'jpki';
        this.session.currentEf = undefined;
        this.session.verified.clear();
        return sw(SW.OK);
      }
      case 0x02: {
        if (cmd.data.length !== 2) return sw(SW.WRONG_LENGTH);
        return this.selectEf((cmd.data[0]! << 8) | cmd.data[1]!);
      }
      case 0x00: {
        // `00 A4 00 00`: 6A 86 right after reset; 90 00 (no change) inside an application. 3F00 → 6A 82 (§1).
        if (cmd.data.length === 0) return sw(this.session.currentDf === 'mf' ? SW.INCORRECT_P1P2 : SW.OK);
        if (cmd.data.length !== 2) return sw(SW.WRONG_LENGTH);
        const fid = (cmd.data[0]! << 8) | cmd.data[1]!;
        if (fid === 0x3f00) return sw(SW.FILE_NOT_FOUND);
        return this.selectEf(fid);
      }
      default:
        return sw(SW.INCORRECT_P1P2);
    }
  }

  private selectEf(fid: number): Uint8Array {
    if (this.session.currentDf !== 'jpki' || !this.efs.has(fid)) return sw(SW.FILE_NOT_FOUND);
    this.session.currentEf = fid;
    return sw(SW.OK);
  }

  private matchesJpki(name: Uint8Array): boolean {
    const jpki = MYNA_AID.JPKI;
    if (bytesEqual(name, jpki)) return true;
    if (!(this.options.partialAidMatch ?? true) || name.length >= jpki.length) return false;
    const isPrefix = (aid: Uint8Array) => name.length <= aid.length && bytesEqual(aid.subarray(0, name.length), name);
    // A prefix that also names another AP could land there on a real card; we do not implement those APs.
    return isPrefix(jpki) && !OTHER_APS.some(isPrefix);
  }

  private readBinary(cmd: DecodedCommandApdu): Uint8Array {
    if (cmd.data.length > 0) return sw(SW.WRONG_LENGTH);
    let fid: number;
    let offset: number;
    if (cmd.p1 & 0x80) {
      // SFI form: 100x xxxx, 8-bit offset in P2; the EF becomes current (§2.3).
      if (cmd.p1 & 0x60) return sw(SW.INCORRECT_P1P2);
      const sfi = cmd.p1 & 0x1f;
      if (sfi === 0) return sw(SW.INCORRECT_P1P2);
      if (this.session.currentDf !== 'jpki' || !this.efs.has(sfi)) return sw(SW.FILE_NOT_FOUND);
      this.session.currentEf = sfi;
      fid = sfi;
      offset = cmd.p2;
    } else {
      if (this.session.currentEf === undefined) return sw(SW.NO_CURRENT_EF);
      fid = this.session.currentEf;
      offset = (cmd.p1 << 8) | cmd.p2;
    }
    if (cmd.ne === 0) return sw(SW.WRONG_LENGTH);
    const ef = this.efs.get(fid)!;
    if (ef.kind === 'pin' || ef.kind === 'key') return sw(this.options.keyEfReadSw ?? SW.INCOMPATIBLE_FILE_STRUCTURE);
    if (ef.kind === 'internal') return sw(SW.SECURITY_STATUS_NOT_SATISFIED);
    if (ef.access === 'sign-password' && !this.session.verified.has('sign')) return sw(SW.SECURITY_STATUS_NOT_SATISFIED);
    if (ef.access === 'auth-pin' && !this.session.verified.has('auth')) return sw(SW.SECURITY_STATUS_NOT_SATISFIED);
    if (offset >= ef.content.length) return sw(this.options.readPastEndSw ?? SW.WRONG_P1P2_OFFSET);
    // At most the bytes up to the end of the file, with 90 00 (JICSAP 6.4.1(4); §3.2).
    return encodeResponseApdu(SW.OK, ef.content.subarray(offset, offset + cmd.ne));
  }

  /** Resolves P2 of VERIFY / CHANGE REFERENCE DATA to a PIN, or returns the SW to answer. */
  private resolvePin(p2: number): JpkiPinKind | number {
    if (p2 === 0x80) {
      if (this.session.currentEf === undefined) return SW.NO_CURRENT_EF;
      const ef = this.efs.get(this.session.currentEf)!;
      return ef.kind === 'pin' ? ef.pin : SW.INCOMPATIBLE_FILE_STRUCTURE;
    }
    if ((p2 & 0xe0) !== 0x80) return SW.INCORRECT_P1P2;
    const ef = this.session.currentDf === 'jpki' ? this.efs.get(p2 & 0x1f) : undefined;
    return ef?.kind === 'pin' ? ef.pin : SW.REFERENCED_DATA_NOT_FOUND;
  }

  private verify(cmd: DecodedCommandApdu): Uint8Array {
    if (cmd.p1 !== 0x00) return sw(SW.INCORRECT_P1P2);
    const pin = this.resolvePin(cmd.p2);
    if (typeof pin === 'number') return sw(pin);
    const counter = this.nv[pin];
    if (cmd.data.length === 0) {
      // Retry query: 63 Cx without spending a try; 63 C0 when blocked (§3.4).
      if (counter.remaining > 0 && this.session.verified.has(pin) && this.options.queryAfterVerify === 'ok') return sw(SW.OK);
      return sw(retryCounterSw(counter.remaining));
    }
    if (counter.remaining === 0) return sw(SW.REFERENCED_DATA_BLOCKED);
    const rule = JPKI_PIN_RULES[pin];
    const wrongLength = cmd.data.length < rule.minLength || cmd.data.length > rule.maxLength;
    if (wrongLength && this.options.wrongLengthPin === 'reject') return sw(SW.WRONG_LENGTH);
    const expected = new TextEncoder().encode(this.currentPin(pin));
    if (!wrongLength && bytesEqual(cmd.data, expected)) {
      this.session.verified.add(pin);
      if (counter.remaining !== counter.max) {
        counter.remaining = counter.max;
        this.persist();
      }
      return sw(SW.OK);
    }
    counter.remaining -= 1;
    this.session.verified.delete(pin);
    this.persist();
    return sw(retryCounterSw(counter.remaining));
  }

  private changeReferenceData(cmd: DecodedCommandApdu): Uint8Array {
    if (cmd.p1 !== 0x01) return sw(SW.INCORRECT_P1P2);
    const pin = this.resolvePin(cmd.p2);
    if (typeof pin === 'number') return sw(pin);
    if (this.nv[pin].remaining === 0) return sw(SW.REFERENCED_DATA_BLOCKED);
    if (!this.session.verified.has(pin)) return sw(SW.SECURITY_STATUS_NOT_SATISFIED);
    if (cmd.data.length === 0) return sw(SW.WRONG_LENGTH);
    const value = String.fromCharCode(...cmd.data);
    if (checkPinFormat(pin, value, true)) return sw(SW.INCORRECT_DATA);
    this.nv.changedPins[pin] = value;
    this.nv[pin].remaining = this.nv[pin].max;
    if (this.options.clearStatusOnPinChange) this.session.verified.delete(pin);
    this.persist();
    return sw(SW.OK);
  }

  private sign(cmd: DecodedCommandApdu): Uint8Array {
    const variants = this.options.signP1Variants ?? true;
    if (cmd.p1 !== 0x00 && !(variants && cmd.p1 >= 0x01 && cmd.p1 <= 0x03)) return sw(SW.INCORRECT_P1P2);
    let keyFid: number;
    if (cmd.p2 === 0x80) {
      if (this.session.currentEf === undefined) return sw(SW.NO_CURRENT_EF);
      keyFid = this.session.currentEf;
      if (this.efs.get(keyFid)!.kind !== 'key') return sw(SW.INCOMPATIBLE_FILE_STRUCTURE);
    } else {
      if ((cmd.p2 & 0xe0) !== 0x80) return sw(SW.INCORRECT_P1P2);
      keyFid = cmd.p2 & 0x1f;
      if (this.session.currentDf !== 'jpki' || this.efs.get(keyFid)?.kind !== 'key') return sw(SW.REFERENCED_DATA_NOT_FOUND);
    }
    const ef = this.efs.get(keyFid) as Extract<EfEntry, { kind: 'key' }>;
    // Without the matching verified PIN the card refuses; 69 82 per MC (§3.6).
    if (!this.session.verified.has(ef.pin)) return sw(SW.SECURITY_STATUS_NOT_SATISFIED);
    if (cmd.data.length === 0) return sw(SW.WRONG_LENGTH);

    let input: Uint8Array;
    switch (cmd.p1) {
      case 0x00: // PKCS#1 v1.5 over the data as given (a DigestInfo), 1..245 bytes
        if (cmd.data.length > JPKI_MAX_SIGN_INPUT) return sw(SW.CONDITIONS_NOT_SATISFIED);
        input = cmd.data;
        break;
      case 0x01: // card hashes with SHA-256, pads the bare hash
        input = sha256(cmd.data);
        break;
      case 0x02: // data is a SHA-256 hash; card wraps it in a DigestInfo
        if (cmd.data.length !== 32) return sw(SW.CONDITIONS_NOT_SATISFIED);
        input = concat(DIGEST_INFO_PREFIXES['SHA-256'], cmd.data);
        break;
      default: // 0x03: card hashes and wraps
        input = concat(DIGEST_INFO_PREFIXES['SHA-256'], sha256(cmd.data));
    }
    const signature = privateEncrypt({ key: ef.key, padding: cryptoConstants.RSA_PKCS1_PADDING }, input);
    if (this.options.signRequiresFreshVerify) this.session.verified.delete(ef.pin);
    return encodeResponseApdu(SW.OK, new Uint8Array(signature));
  }

  private getChallenge(cmd: DecodedCommandApdu): Uint8Array {
    if (cmd.p1 !== 0 || cmd.p2 !== 0) return sw(SW.INCORRECT_P1P2);
    if (cmd.extended) return sw(SW.CONDITIONS_NOT_SATISFIED);
    if (cmd.ne === 0 || cmd.data.length > 0) return sw(SW.WRONG_LENGTH);
    return encodeResponseApdu(SW.OK, new Uint8Array(randomBytes(cmd.ne)));
  }

  private getData(cmd: DecodedCommandApdu): Uint8Array {
    const tag = (cmd.p1 << 8) | cmd.p2;
    if (tag === 0x5f51) {
      const contact = this.options.contactAtr ?? MYNA_ATR.CONTACT;
      return encodeResponseApdu(SW.OK, contact.subarray(1)); // without TS
    }
    return sw(SW.REFERENCED_DATA_NOT_FOUND);
  }

  // -------------------------------------------------------------------------------------------
  // Construction helpers

  private buildFiles(): void {
    const p = this.persona;
    const filler = this.options.certFiller ?? 0;
    const withFiller = (der: Uint8Array) => (filler > 0 ? concat(der, new Uint8Array(filler).fill(0xff)) : der);
    const label = this.options.tokenLabel ?? (this.options.smartphone ? JPKI_TOKEN_LABEL.ANDROID : JPKI_TOKEN_LABEL.CARD);
    const token = defaultTokenInfo(label);
    token.manufacturerId = 'JPKI-TEST VIRTUAL CARD';
    token.model = 'VIRTUAL-MYNA';
    token.serialNumber = p.serialNumber ?? this.fingerprint.slice(0, 16).toUpperCase();

    this.efs.set(JPKI_EF.TOKEN_INFO, { kind: 'binary', content: encodeTokenInfo(token), access: 'always' });
    const presence = Uint8Array.from(JPKI_CERT_PRESENCE_BOTH);
    if (!p.sign) presence[0] = 0x00;
    this.efs.set(JPKI_EF.CERT_PRESENCE, { kind: 'binary', content: presence, access: 'always' });
    this.efs.set(JPKI_EF.AUTH_CERT, { kind: 'binary', content: withFiller(p.auth.certDer), access: this.options.smartphone ? 'auth-pin' : 'always' });
    this.efs.set(JPKI_EF.AUTH_CA_CERT, { kind: 'binary', content: withFiller(p.auth.caCertDer), access: 'always' });
    this.efs.set(JPKI_EF.AUTH_KEY, { kind: 'key', pin: 'auth', key: p.auth.key });
    this.efs.set(JPKI_EF.AUTH_PIN, { kind: 'pin', pin: 'auth' });
    if (p.sign) {
      this.efs.set(JPKI_EF.SIGN_CERT, { kind: 'binary', content: withFiller(p.sign.certDer), access: 'sign-password' });
      this.efs.set(JPKI_EF.SIGN_CA_CERT, { kind: 'binary', content: withFiller(p.sign.caCertDer), access: 'always' });
      this.efs.set(JPKI_EF.SIGN_KEY, { kind: 'key', pin: 'sign', key: p.sign.key });
      this.efs.set(JPKI_EF.SIGN_PASSWORD, { kind: 'pin', pin: 'sign' });
    }
    for (const fid of INTERNAL_EFS) this.efs.set(fid, { kind: 'internal' });
  }

  private freshNvState(): CardNvState {
    const counter = (kind: JpkiPinKind) => {
      const max = this.options.maxTries?.[kind] ?? JPKI_PIN_RULES[kind].maxTries;
      if (!Number.isInteger(max) || max < 1 || max > 15) throw new RangeError(`max tries is 1..15, got ${max}`);
      const remaining = this.options.initialTries?.[kind] ?? max;
      if (!Number.isInteger(remaining) || remaining < 0 || remaining > max) throw new RangeError(`initial tries is 0..${max}`);
      return { remaining, max };
    };
    return { auth: counter('auth'), sign: counter('sign'), changedPins: {} };
  }

  private resetSession(powered: boolean): CardSession {
    return { powered, currentDf: 'mf', currentEf: undefined, verified: new Set(), firstCommandPending: powered && (this.options.firstCommandQuirk ?? false) };
  }

  private persist(): void {
    if (this.options.stateFile) writeStateFile(this.options.stateFile, this.fingerprint, this.nv);
  }
}

function sw(value: number): Uint8Array {
  return encodeResponseApdu(value);
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
