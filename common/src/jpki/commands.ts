// Builders for the commands JPKI clients send (jpki-card.md §2, §3). Each returns a CommandApdu; encode it with
// encodeCommandApdu(). All of them fit short APDUs unless a caller asks for Ne > 256.

import type { CommandApdu } from './apdu.ts';
import { CLA, INS, JPKI_AID, JPKI_MAX_SIGN_INPUT, P2_CURRENT_KEY, SELECT_P1, SELECT_P2_NO_RESPONSE, SIGN_P1_PKCS1_DIGEST_INFO, jpkiSfi } from './constants.ts';

/** Largest READ BINARY offset in the P1‖P2 form (15 bits). */
export const MAX_READ_BINARY_OFFSET = 0x7fff;
/** Largest READ BINARY offset in the SFI form (8 bits). */
export const MAX_READ_BINARY_SFI_OFFSET = 0xff;

/** `00 A4 04 0C Lc <AID>`: select an application by DF name (defaults to the JPKI AP). Clears the security status. */
export function selectDf(aid: Uint8Array = JPKI_AID): CommandApdu {
  if (aid.length < 1 || aid.length > 16) throw new RangeError('a DF name is 1..16 bytes');
  return { cla: CLA.ISO, ins: INS.SELECT, p1: SELECT_P1.DF_NAME, p2: SELECT_P2_NO_RESPONSE, data: aid };
}

/** `00 A4 02 0C 02 <FID>`: select an EF under the current DF. */
export function selectEf(fid: number): CommandApdu {
  if (!Number.isInteger(fid) || fid < 0 || fid > 0xffff) throw new RangeError('a FID is 2 bytes');
  return { cla: CLA.ISO, ins: INS.SELECT, p1: SELECT_P1.EF_UNDER_CURRENT_DF, p2: SELECT_P2_NO_RESPONSE, data: Uint8Array.of(fid >> 8, fid & 0xff) };
}

/** `00 B0 <off-hi> <off-lo> <Le>`: read the current EF. `ne` 1..256 gives a short Le (`00` = 256). */
export function readBinary(offset: number, ne = 256): CommandApdu {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_READ_BINARY_OFFSET) throw new RangeError('offset is 0..0x7FFF');
  return { cla: CLA.ISO, ins: INS.READ_BINARY, p1: offset >> 8, p2: offset & 0xff, ne };
}

/** `00 B0 (80|SFI) <off> <Le>`: select the EF by short identifier and read it (the EF becomes current). */
export function readBinarySfi(fid: number, offset: number, ne = 256): CommandApdu {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_READ_BINARY_SFI_OFFSET) throw new RangeError('SFI offset is 0..0xFF');
  return { cla: CLA.ISO, ins: INS.READ_BINARY, p1: 0x80 | jpkiSfi(fid), p2: offset, ne };
}

/**
 * `00 20 00 80 Lc <PIN>`: verify against the current EF (select the PIN EF first), or `00 20 00 (80|SFI)` with
 * `keyFid` to name the key reference directly. Wrong PIN → `63 Cx`; blocked → `69 84`.
 */
export function verify(pin: Uint8Array, keyFid?: number): CommandApdu {
  if (pin.length === 0) throw new RangeError('use verifyRetryQuery() for an empty VERIFY');
  return { cla: CLA.ISO, ins: INS.VERIFY, p1: 0x00, p2: keyFid === undefined ? P2_CURRENT_KEY : 0x80 | jpkiSfi(keyFid), data: pin };
}

/** `00 20 00 80` with no data (case 1): asks for the retry counter without spending a try → `63 Cx`. */
export function verifyRetryQuery(keyFid?: number): CommandApdu {
  return { cla: CLA.ISO, ins: INS.VERIFY, p1: 0x00, p2: keyFid === undefined ? P2_CURRENT_KEY : 0x80 | jpkiSfi(keyFid) };
}

/** `00 24 01 80 Lc <new PIN>`: change the PIN of the current key reference after a successful VERIFY of the old one. */
export function changeReferenceData(newPin: Uint8Array, keyFid?: number): CommandApdu {
  if (newPin.length === 0) throw new RangeError('new PIN is empty');
  return { cla: CLA.ISO, ins: INS.CHANGE_REFERENCE_DATA, p1: 0x01, p2: keyFid === undefined ? P2_CURRENT_KEY : 0x80 | jpkiSfi(keyFid), data: newPin };
}

/**
 * `80 2A 00 <P2> Lc <DigestInfo> 00`: the card pads PKCS#1 v1.5 type 1 and signs with the key in the current EF
 * (`P2 80`, select `0017`/`001A` first) or the key named by `80|SFI` (`97` auth, `9A` signature). Returns 256 bytes.
 */
export function computeDigitalSignature(digestInfo: Uint8Array, p2: number = P2_CURRENT_KEY): CommandApdu {
  if (digestInfo.length < 1 || digestInfo.length > JPKI_MAX_SIGN_INPUT) throw new RangeError(`signing input is 1..${JPKI_MAX_SIGN_INPUT} bytes`);
  return { cla: CLA.PROPRIETARY, ins: INS.COMPUTE_DIGITAL_SIGNATURE, p1: SIGN_P1_PKCS1_DIGEST_INFO, p2, data: digestInfo, ne: 256 };
}

/** `00 84 00 00 <Le>`: random bytes (1..256) from the card. */
export function getChallenge(length = 8): CommandApdu {
  if (!Number.isInteger(length) || length < 1 || length > 256) throw new RangeError('challenge length is 1..256');
  return { cla: CLA.ISO, ins: INS.GET_CHALLENGE, p1: 0x00, p2: 0x00, ne: length };
}

/** `00 CA <tag-hi> <tag-lo> <Le>`: GET DATA (e.g. tag `5F51`, the contact ATR). */
export function getData(tag: number, ne = 256): CommandApdu {
  return { cla: CLA.ISO, ins: INS.GET_DATA, p1: (tag >> 8) & 0xff, p2: tag & 0xff, ne };
}
