// JPKI (公的個人認証) constants of the My Number card, as ../shared/jpki-card.md (beside the repository) documents them.
// Platform-free: Uint8Array and plain numbers only. Section numbers (§) refer to jpki-card.md.

/** DF names (AIDs) of the card's applications (§1). */
export const MYNA_AID = {
  /** 公的個人認証AP (JPKI-AP): the two RSA-2048 key pairs and their certificates. */
  JPKI: Uint8Array.of(0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01),
  /** 券面事項入力補助AP (text AP, "kenhojo"). */
  TEXT: Uint8Array.of(0xd3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08),
  /** 券面事項確認AP (visual AP, "kenkaku"). */
  VISUAL: Uint8Array.of(0xd3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02),
  /** 住基AP. */
  JUKI: Uint8Array.of(0xd3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x01),
  /** 共通カードAP. */
  COMMON: Uint8Array.of(0xd3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00),
  /** GlobalPlatform issuer security domain. */
  GP_ISD: Uint8Array.of(0xa0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00),
} as const;

/** The JPKI AP's AID (`D3 92 F0 00 26 01 00 00 00 01`). */
export const JPKI_AID = MYNA_AID.JPKI;

/** Elementary files of the JPKI AP (§3.1). Every FID is `00xx`, so its short EF identifier is the low byte. */
export const JPKI_EF = {
  /** 署名用電子証明書 (signature certificate), DER. Readable only after the signature password. */
  SIGN_CERT: 0x0001,
  /** Signature CA certificate, DER. Always readable. */
  SIGN_CA_CERT: 0x0002,
  /** Token info, 160 bytes: a serialized CK_TOKEN_INFO whose first 32 bytes are the label (§3.3). */
  TOKEN_INFO: 0x0006,
  /** 3 bytes: `8F 8F 00` when both certificates are present (byte 0 signature, byte 1 auth). */
  CERT_PRESENCE: 0x0008,
  /** 利用者証明用電子証明書 (auth certificate), DER. Readable without PIN on the card; PIN needed on smartphones. */
  AUTH_CERT: 0x000a,
  /** Auth CA certificate, DER. Always readable. */
  AUTH_CA_CERT: 0x000b,
  /** Auth private key (signing with it needs the auth PIN). */
  AUTH_KEY: 0x0017,
  /** Auth PIN key reference: 4 ASCII digits, 3 tries. */
  AUTH_PIN: 0x0018,
  /** Signature private key (signing with it needs the signature password). */
  SIGN_KEY: 0x001a,
  /** Signature password key reference: 6–16 chars of A–Z0–9, 5 tries. */
  SIGN_PASSWORD: 0x001b,
} as const;

/** Short EF identifier of a JPKI EF (its FID's low 5 bits; all JPKI FIDs are `0001`–`001E`). */
export function jpkiSfi(fid: number): number {
  if (fid < 0x0001 || fid > 0x001e) throw new RangeError(`FID ${fid.toString(16)} has no short EF identifier`);
  return fid & 0x1f;
}

/** CLA bytes used with the card. */
export const CLA = {
  /** ISO interindustry class, channel 0, no secure messaging. */
  ISO: 0x00,
  /** Proprietary (JICSAP) class, used by COMPUTE DIGITAL SIGNATURE and other JICSAP commands. */
  PROPRIETARY: 0x80,
} as const;

/** Instruction bytes (§2.1). */
export const INS = {
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  READ_RECORD: 0xb2,
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  /** JICSAP COMPUTE DIGITAL SIGNATURE, sent with CLA `80`. */
  COMPUTE_DIGITAL_SIGNATURE: 0x2a,
  /** JICSAP CHANGE KEY (共通AP and 住基AP PINs), CLA `80`. */
  CHANGE_KEY: 0x32,
  GET_DATA: 0xca,
  GET_CHALLENGE: 0x84,
  INTERNAL_AUTHENTICATE: 0x88,
  GET_RESPONSE: 0xc0,
} as const;

/** SELECT P1 values. */
export const SELECT_P1 = {
  /** Select by DF name (AID); the card also accepts a prefix of a DF name. */
  DF_NAME: 0x04,
  /** Select an EF under the current DF by its 2-byte FID. */
  EF_UNDER_CURRENT_DF: 0x02,
  /** ISO "MF, DF or EF by FID"; not usable on this card (§1). */
  ANY_BY_FID: 0x00,
} as const;

/** SELECT P2 `0C`: no response data (what all JPKI clients send). */
export const SELECT_P2_NO_RESPONSE = 0x0c;

/** P2 for VERIFY / CHANGE REFERENCE DATA / COMPUTE DIGITAL SIGNATURE naming "the key in the current EF". */
export const P2_CURRENT_KEY = 0x80;

/** P2 naming a key reference directly by its short EF identifier: `80 | SFI`. */
export function keyReferenceP2(fid: number): number {
  return 0x80 | jpkiSfi(fid);
}

/** COMPUTE DIGITAL SIGNATURE P2 values (§3.6). */
export const SIGN_P2 = {
  CURRENT_KEY: 0x80,
  /** `80|17`: auth key `0017`. */
  AUTH_KEY: 0x97,
  /** `80|1A`: signature key `001A`. */
  SIGN_KEY: 0x9a,
} as const;

/** COMPUTE DIGITAL SIGNATURE P1 `00`: PKCS#1 v1.5 type-1 padding over the DigestInfo given as data. */
export const SIGN_P1_PKCS1_DIGEST_INFO = 0x00;

/** RSA-2048: signatures are 256 bytes; PKCS#1 v1.5 leaves at most 245 bytes for the DigestInfo. */
export const JPKI_RSA_MODULUS_BYTES = 256;
export const JPKI_MAX_SIGN_INPUT = JPKI_RSA_MODULUS_BYTES - 11;

// ---------------------------------------------------------------------------------------------
// PINs (§3.4)

export type JpkiPinKind = 'auth' | 'sign';

export interface JpkiPinRule {
  /** Key reference EF of the PIN. */
  fid: number;
  /** Private key EF the PIN opens. */
  keyFid: number;
  minLength: number;
  maxLength: number;
  /** Allowed characters (after normalization). */
  pattern: RegExp;
  /** Retry counter maximum. */
  maxTries: number;
  /** Human-readable name (Japanese). */
  nameJa: string;
}

export const JPKI_PIN_RULES: Readonly<Record<JpkiPinKind, JpkiPinRule>> = {
  auth: {
    fid: JPKI_EF.AUTH_PIN, keyFid: JPKI_EF.AUTH_KEY, minLength: 4, maxLength: 4, pattern: /^[0-9]+$/, maxTries: 3,
    nameJa: '利用者証明用電子証明書の暗証番号',
  },
  sign: {
    fid: JPKI_EF.SIGN_PASSWORD, keyFid: JPKI_EF.SIGN_KEY, minLength: 6, maxLength: 16, pattern: /^[A-Z0-9]+$/, maxTries: 5,
    nameJa: '署名用電子証明書の暗証番号',
  },
};

/** Why a PIN string cannot be sent, or `undefined` when it can. */
export type PinProblem = 'empty' | 'too-short' | 'too-long' | 'bad-characters' | 'needs-letter-and-digit';

/**
 * Normalizes what a user typed: NFKC (full-width `１２３４` / `ＡＢＣ` → ASCII), trimmed; for the signature
 * password also upper-cased, as clients do before sending (J-LIS says lower-case input "is converted").
 */
export function normalizePin(kind: JpkiPinKind, input: string): string {
  const s = input.normalize('NFKC').trim();
  return kind === 'sign' ? s.toUpperCase() : s;
}

/**
 * Checks a (normalized) PIN against the card's format. `forNewValue` additionally applies the rule for setting
 * a signature password (must mix letters and digits); the card accepts any existing value for VERIFY.
 */
export function checkPinFormat(kind: JpkiPinKind, pin: string, forNewValue = false): PinProblem | undefined {
  const rule = JPKI_PIN_RULES[kind];
  if (pin.length === 0) return 'empty';
  if (!rule.pattern.test(pin)) return 'bad-characters';
  if (pin.length < rule.minLength) return 'too-short';
  if (pin.length > rule.maxLength) return 'too-long';
  if (forNewValue && kind === 'sign' && !(/[A-Z]/.test(pin) && /[0-9]/.test(pin))) return 'needs-letter-and-digit';
  return undefined;
}

/** The bytes VERIFY carries: the PIN as raw ASCII, no padding, no length prefix. */
export function encodePin(pin: string): Uint8Array {
  const out = new Uint8Array(pin.length);
  for (let i = 0; i < pin.length; i++) {
    const c = pin.charCodeAt(i);
    if (c > 0x7e || c < 0x20) throw new RangeError('a PIN is printable ASCII');
    out[i] = c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Token info EF 0006 (§3.3)

/** Labels in the first 32 bytes of EF `0006`, space-padded. */
export const JPKI_TOKEN_LABEL = {
  /** Physical My Number card. */
  CARD: 'JPKIAPICCTOKEN2',
  /** 住基カード (the older Basic Resident Registry card); myna rejects it. */
  JUKI_CARD: 'JPKIAPICCTOKEN',
  /** Android smartphone JPKI (secure element): auth certificate needs the PIN. */
  ANDROID: 'JPKIAPGPSETOKEN',
  /** iPhone JPKI. */
  IPHONE: 'JPKIAPIOSTOKEN',
} as const;

/** Aliases named after the token label strings. */
export const JPKIAPICCTOKEN2 = JPKI_TOKEN_LABEL.CARD;
export const JPKIAPGPSETOKEN = JPKI_TOKEN_LABEL.ANDROID;

export const JPKI_TOKEN_INFO_LENGTH = 160;
export const JPKI_TOKEN_LABEL_LENGTH = 32;

/** Fields of the CK_TOKEN_INFO serialized in EF `0006` (4-byte big-endian integers). */
export interface JpkiTokenInfo {
  label: string;
  manufacturerId: string;
  model: string;
  serialNumber: string;
  flags: number;
  maxSessionCount: number;
  sessionCount: number;
  maxRwSessionCount: number;
  rwSessionCount: number;
  maxPinLen: number;
  minPinLen: number;
  totalPublicMemory: number;
  freePublicMemory: number;
  totalPrivateMemory: number;
  freePrivateMemory: number;
  hardwareVersion: string;
  firmwareVersion: string;
  utcTime: string;
}

const TOKEN_TEXT_FIELDS = [['label', 32], ['manufacturerId', 32], ['model', 16], ['serialNumber', 16]] as const;
const TOKEN_INT_FIELDS = [
  'flags', 'maxSessionCount', 'sessionCount', 'maxRwSessionCount', 'rwSessionCount', 'maxPinLen', 'minPinLen',
  'totalPublicMemory', 'freePublicMemory', 'totalPrivateMemory', 'freePrivateMemory',
] as const;
const TOKEN_TAIL_FIELDS = [['hardwareVersion', 2], ['firmwareVersion', 2], ['utcTime', 16]] as const;

/** Flags seen on a card: RNG | LOGIN_REQUIRED | USER_PIN_INITIALIZED | TOKEN_INITIALIZED. */
export const JPKI_TOKEN_FLAGS = 0x0000040d;
/** CK_UNAVAILABLE_INFORMATION. */
export const CK_UNAVAILABLE = 0xffffffff;

/** Values a real card showed, with a label; override what you need. */
export function defaultTokenInfo(label: string = JPKI_TOKEN_LABEL.CARD): JpkiTokenInfo {
  return {
    label, manufacturerId: '', model: '', serialNumber: '',
    flags: JPKI_TOKEN_FLAGS, maxSessionCount: 0, sessionCount: CK_UNAVAILABLE, maxRwSessionCount: 0,
    rwSessionCount: CK_UNAVAILABLE, maxPinLen: 16, minPinLen: 6,
    totalPublicMemory: CK_UNAVAILABLE, freePublicMemory: CK_UNAVAILABLE,
    totalPrivateMemory: CK_UNAVAILABLE, freePrivateMemory: CK_UNAVAILABLE,
    hardwareVersion: '03', firmwareVersion: '01', utcTime: '',
  };
}

function putText(out: Uint8Array, at: number, len: number, s: string): void {
  out.fill(0x20, at, at + len);
  const bytes = encodePin(s.slice(0, len));
  out.set(bytes, at);
}

/** Serializes token info to the 160 bytes of EF `0006` (text fields ASCII, space-padded). */
export function encodeTokenInfo(info: JpkiTokenInfo): Uint8Array {
  const out = new Uint8Array(JPKI_TOKEN_INFO_LENGTH);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [k, len] of TOKEN_TEXT_FIELDS) { putText(out, at, len, info[k]); at += len; }
  for (const k of TOKEN_INT_FIELDS) { view.setUint32(at, info[k] >>> 0, false); at += 4; }
  for (const [k, len] of TOKEN_TAIL_FIELDS) { putText(out, at, len, info[k]); at += len; }
  return out;
}

function asciiTrim(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s.replace(/[\s\0]+$/, '');
}

/** The label from the first 32 bytes of EF `0006`, trailing spaces and NULs removed (as both myna clients do). */
export function parseTokenLabel(bytes: Uint8Array): string {
  return asciiTrim(bytes.subarray(0, JPKI_TOKEN_LABEL_LENGTH));
}

/** Parses the full 160-byte token info. */
export function parseTokenInfo(bytes: Uint8Array): JpkiTokenInfo {
  if (bytes.length < JPKI_TOKEN_INFO_LENGTH) throw new RangeError(`token info is ${JPKI_TOKEN_INFO_LENGTH} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = {} as Record<string, string | number>;
  let at = 0;
  for (const [k, len] of TOKEN_TEXT_FIELDS) { info[k] = asciiTrim(bytes.subarray(at, at + len)); at += len; }
  for (const k of TOKEN_INT_FIELDS) { info[k] = view.getUint32(at, false); at += 4; }
  for (const [k, len] of TOKEN_TAIL_FIELDS) { info[k] = asciiTrim(bytes.subarray(at, at + len)); at += len; }
  return info as unknown as JpkiTokenInfo;
}

/** EF `0008` content when both certificates are present. */
export const JPKI_CERT_PRESENCE_BOTH = Uint8Array.of(0x8f, 0x8f, 0x00);

// ---------------------------------------------------------------------------------------------
// DigestInfo prefixes (§3.6): the card pads `00 01 FF.. 00 ‖ DigestInfo`; the host supplies the DigestInfo.

export type DigestAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export const DIGEST_INFO_PREFIXES: Readonly<Record<DigestAlgorithm, Uint8Array>> = {
  'SHA-1': Uint8Array.of(0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14),
  'SHA-256': Uint8Array.of(0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20),
  'SHA-384': Uint8Array.of(0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30),
  'SHA-512': Uint8Array.of(0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40),
};

const DIGEST_LENGTHS: Readonly<Record<DigestAlgorithm, number>> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** DER DigestInfo for a hash, i.e. what COMPUTE DIGITAL SIGNATURE (P1 `00`) expects as data. */
export function digestInfoFor(algorithm: DigestAlgorithm, hash: Uint8Array): Uint8Array {
  if (hash.length !== DIGEST_LENGTHS[algorithm]) throw new RangeError(`a ${algorithm} hash is ${DIGEST_LENGTHS[algorithm]} bytes`);
  const prefix = DIGEST_INFO_PREFIXES[algorithm];
  const out = new Uint8Array(prefix.length + hash.length);
  out.set(prefix);
  out.set(hash, prefix.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// ATRs (§8)

function atr(...b: number[]): Uint8Array {
  return Uint8Array.from(b);
}

export const MYNA_ATR = {
  /** Contact, no historical bytes; in OpenSC's JPKI ATR table (and MBE). The virtual card's default. */
  CONTACT: atr(0x3b, 0xe0, 0x00, 0xff, 0x81, 0x31, 0xfe, 0x45, 0x14),
  /** Contact, historical bytes advertise partial DF names, SFI, no extended length. */
  CONTACT_C5: atr(0x3b, 0xc5, 0xff, 0x81, 0x31, 0xfb, 0x45, 0x80, 0x73, 0xc6, 0x01, 0x00, 0x00),
  /** Contact, 2024 cards: command chaining and extended Lc/Le. */
  CONTACT_2024: atr(0x3b, 0xda, 0x13, 0xff, 0x81, 0x31, 0xfb, 0x46, 0x80, 0x12, 0x39, 0x2f, 0x31, 0xc1, 0x73, 0xc6, 0x01, 0xc0, 0x3b),
  /** Contactless, as a PC/SC Part 3 reader synthesizes it from the ATQB. */
  CONTACTLESS: atr(0x3b, 0x88, 0x80, 0x01, 0x00, 0x00, 0x05, 0xe0, 0xb3, 0x81, 0xa1, 0x00, 0x7f),
  CONTACTLESS_2: atr(0x3b, 0x88, 0x80, 0x01, 0x00, 0x00, 0x41, 0xe0, 0xb3, 0x81, 0xa1, 0x00, 0x3b),
  CONTACTLESS_3: atr(0x3b, 0x88, 0x80, 0x01, 0x00, 0x4b, 0x51, 0xff, 0xb3, 0x81, 0xd1, 0x00, 0x0f),
  CONTACTLESS_4: atr(0x3b, 0x88, 0x80, 0x01, 0x00, 0x4b, 0x51, 0xff, 0x00, 0x81, 0xd1, 0x00, 0xbc),
} as const;
