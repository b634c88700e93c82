// ISO/IEC 7816-4 command and response APDU codec (short and extended length, cases 1–4).
//
// Length conventions used throughout:
// - `data` is the command data field (Lc = its length). Absent or empty means no Lc field.
// - `ne` is Ne, the *number* of response bytes expected: `undefined`/0 = no Le field; 1..256 fits a short Le
//   (256 is encoded as `00`); 257..65536 needs an extended Le (65536 is encoded as `00 00`).
//   Clients that think in raw Le bytes: short Le `00` means Ne = 256.
// - Short vs extended is chosen per APDU; ISO forbids mixing, so if either field needs the extended form
//   both use it. `form: 'short'` refuses lengths that do not fit; `form: 'extended'` forces extended fields.

/** A command APDU. */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Lc bytes). */
  data?: Uint8Array;
  /** Ne: expected response length, 1..65536 (256 = short `00`); omit for no Le field. */
  ne?: number;
}

/** A decoded command APDU with its ISO case and length form. */
export interface DecodedCommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data; empty when there is no Lc field. */
  data: Uint8Array;
  /** Ne; 0 when there is no Le field. */
  ne: number;
  /** ISO 7816-3 case: 1 (no data, no Le), 2 (Le only), 3 (data only), 4 (data and Le). */
  apduCase: 1 | 2 | 3 | 4;
  /** Whether the length fields use the extended (3-byte / 2-byte) form. */
  extended: boolean;
}

export type ApduForm = 'auto' | 'short' | 'extended';

export class ApduFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApduFormatError';
  }
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${name} must be a byte, got ${v}`);
}

/** Encodes a command APDU. */
export function encodeCommandApdu(cmd: CommandApdu, form: ApduForm = 'auto'): Uint8Array {
  checkByte('CLA', cmd.cla);
  checkByte('INS', cmd.ins);
  checkByte('P1', cmd.p1);
  checkByte('P2', cmd.p2);
  const data = cmd.data ?? new Uint8Array(0);
  const ne = cmd.ne ?? 0;
  if (!Number.isInteger(ne) || ne < 0 || ne > 65536) throw new RangeError(`Ne must be 0..65536, got ${ne}`);
  if (data.length > 65535) throw new RangeError(`Lc must be at most 65535, got ${data.length}`);
  const needsExtended = data.length > 255 || ne > 256;
  if (form === 'short' && needsExtended) throw new RangeError('lengths do not fit a short APDU');
  const extended = form === 'extended' ? data.length > 0 || ne > 0 : needsExtended;

  const out: number[] = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
  if (data.length > 0) {
    if (extended) out.push(0x00, data.length >> 8, data.length & 0xff);
    else out.push(data.length);
    for (const b of data) out.push(b);
  }
  if (ne > 0) {
    if (extended) {
      const le = ne === 65536 ? 0 : ne;
      if (data.length === 0) out.push(0x00); // case 2E starts with the 00 marker; case 4E does not repeat it
      out.push(le >> 8, le & 0xff);
    } else {
      out.push(ne === 256 ? 0 : ne);
    }
  }
  return Uint8Array.from(out);
}

/** Decodes a command APDU; throws {@link ApduFormatError} when the length fields are inconsistent. */
export function decodeCommandApdu(bytes: Uint8Array): DecodedCommandApdu {
  if (bytes.length < 4) throw new ApduFormatError(`a command APDU has at least 4 bytes, got ${bytes.length}`);
  const [cla, ins, p1, p2] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  const base = { cla, ins, p1, p2 };
  const n = bytes.length;
  if (n === 4) return { ...base, data: new Uint8Array(0), ne: 0, apduCase: 1, extended: false };
  const b4 = bytes[4]!;
  if (n === 5) return { ...base, data: new Uint8Array(0), ne: b4 === 0 ? 256 : b4, apduCase: 2, extended: false };
  if (b4 !== 0) {
    const lc = b4;
    if (n === 5 + lc) return { ...base, data: bytes.slice(5, 5 + lc), ne: 0, apduCase: 3, extended: false };
    if (n === 6 + lc) {
      const le = bytes[n - 1]!;
      return { ...base, data: bytes.slice(5, 5 + lc), ne: le === 0 ? 256 : le, apduCase: 4, extended: false };
    }
    throw new ApduFormatError(`short Lc ${lc} does not match APDU length ${n}`);
  }
  // b4 == 00: extended length
  if (n === 7) {
    const le = (bytes[5]! << 8) | bytes[6]!;
    return { ...base, data: new Uint8Array(0), ne: le === 0 ? 65536 : le, apduCase: 2, extended: true };
  }
  if (n < 7) throw new ApduFormatError(`truncated extended length field (APDU length ${n})`);
  const lc = (bytes[5]! << 8) | bytes[6]!;
  if (lc === 0) throw new ApduFormatError('extended Lc of 0');
  if (n === 7 + lc) return { ...base, data: bytes.slice(7, 7 + lc), ne: 0, apduCase: 3, extended: true };
  if (n === 9 + lc) {
    const le = (bytes[n - 2]! << 8) | bytes[n - 1]!;
    return { ...base, data: bytes.slice(7, 7 + lc), ne: le === 0 ? 65536 : le, apduCase: 4, extended: true };
  }
  throw new ApduFormatError(`extended Lc ${lc} does not match APDU length ${n}`);
}

/** A response APDU split into data and status word. */
export interface ResponseApdu {
  data: Uint8Array;
  sw1: number;
  sw2: number;
  /** `sw1 << 8 | sw2`. */
  sw: number;
}

/** Splits `data ‖ SW1 SW2`. */
export function parseResponseApdu(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) throw new ApduFormatError(`a response APDU has at least 2 bytes, got ${bytes.length}`);
  const sw1 = bytes[bytes.length - 2]!;
  const sw2 = bytes[bytes.length - 1]!;
  return { data: bytes.slice(0, bytes.length - 2), sw1, sw2, sw: (sw1 << 8) | sw2 };
}

/** Builds `data ‖ SW1 SW2`. */
export function encodeResponseApdu(sw: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new RangeError(`bad status word ${sw}`);
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}

// ---------------------------------------------------------------------------------------------
// CLA decoding (ISO 7816-4 §5.4.1), as far as this card cares.

export interface ClassByteInfo {
  /** `FF` is invalid; everything else is interindustry (`0x`–`7x`) or proprietary (`8x`–`Fx`, JICSAP uses `8x`). */
  valid: boolean;
  proprietary: boolean;
  /** Logical channel number (0–19). */
  channel: number;
  /** Secure messaging indicated. */
  secureMessaging: boolean;
  /** Command chaining bit (`x1x` in the first interindustry class). */
  chaining: boolean;
}

/** Decodes a CLA byte. Proprietary classes are read with the first-interindustry layout, as JICSAP does. */
export function decodeClassByte(cla: number): ClassByteInfo {
  if (cla === 0xff) return { valid: false, proprietary: true, channel: 0, secureMessaging: false, chaining: false };
  const proprietary = (cla & 0x80) !== 0;
  const low = cla & 0x7f;
  if ((low & 0x40) === 0) {
    // first interindustry layout: 000x xxxx → chaining (0x10), SM (0x0C), channel (0x03)
    return { valid: (low & 0x60) === 0, proprietary, channel: low & 0x03, secureMessaging: (low & 0x0c) !== 0, chaining: (low & 0x10) !== 0 };
  }
  // further interindustry layout: 01xx xxxx → SM (0x20), chaining (0x10), channel 4 + (0x0F)
  return { valid: true, proprietary, channel: 4 + (low & 0x0f), secureMessaging: (low & 0x20) !== 0, chaining: (low & 0x10) !== 0 };
}

// ---------------------------------------------------------------------------------------------
// Hex helpers

/** Upper-case hex, optionally separated (`hex(b, ' ')` → `00 A4 04 0C`). */
export function toHex(bytes: Uint8Array, separator = ''): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(separator);
}

/** Parses hex; ignores whitespace, colons and dashes. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:-]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new RangeError(`not a hex byte string: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// BER length of a certificate from its first bytes (§3.2)

/**
 * Total length (header + value) of the DER/BER TLV starting at `header[0]`, from as few bytes as are given;
 * `undefined` when more bytes are needed. Certificates start `30 82 LL LL`, so 4 bytes suffice for them
 * (OpenSC reads 4; myna reads 7). Throws on indefinite or absurd lengths.
 */
export function tlvTotalLength(header: Uint8Array): number | undefined {
  if (header.length < 2) return undefined;
  let at = 1;
  if ((header[0]! & 0x1f) === 0x1f) {
    // multi-byte tag
    while (at < header.length && (header[at]! & 0x80) !== 0) at++;
    at++;
    if (at >= header.length) return undefined;
  }
  const first = header[at]!;
  if (first < 0x80) return at + 1 + first;
  const count = first & 0x7f;
  if (count === 0) throw new ApduFormatError('indefinite BER length');
  if (count > 3) throw new ApduFormatError(`BER length of ${count} bytes is too large`);
  if (header.length < at + 1 + count) return undefined;
  let len = 0;
  for (let i = 0; i < count; i++) len = (len << 8) | header[at + 1 + i]!;
  return at + 1 + count + len;
}
