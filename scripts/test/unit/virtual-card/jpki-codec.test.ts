// The shared JPKI constants and APDU codec in common/src/jpki (used by the virtual card and the real client).
import assert from 'node:assert/strict';
import {
  ApduFormatError,
  CardStatusError,
  JPKI_EF,
  JPKI_TOKEN_LABEL,
  SW,
  checkPinFormat,
  computeDigitalSignature,
  decodeClassByte,
  decodeCommandApdu,
  defaultTokenInfo,
  describeSw,
  digestInfoFor,
  encodeCommandApdu,
  encodePin,
  encodeResponseApdu,
  encodeTokenInfo,
  fromHex,
  keyReferenceP2,
  normalizePin,
  parseResponseApdu,
  parseTokenInfo,
  parseTokenLabel,
  readBinary,
  readBinarySfi,
  retriesLeftFromSw,
  retryCounterSw,
  selectDf,
  selectEf,
  sha256DigestInfo,
  tlvTotalLength,
  toHex,
  verify,
  verifyRetryQuery,
} from '@cert/common';

const hex = (b: Uint8Array) => toHex(b, ' ');

describe('common/jpki: APDU codec', () => {
  it('encodes the commands JPKI clients send, byte for byte as in jpki-card.md', () => {
    assert.equal(hex(encodeCommandApdu(selectDf())), '00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01');
    assert.equal(hex(encodeCommandApdu(selectEf(JPKI_EF.AUTH_PIN))), '00 A4 02 0C 02 00 18');
    assert.equal(hex(encodeCommandApdu(readBinary(0, 7))), '00 B0 00 00 07');
    assert.equal(hex(encodeCommandApdu(readBinary(0x107, 256))), '00 B0 01 07 00');
    assert.equal(hex(encodeCommandApdu(readBinary(4, 0x61f))), '00 B0 00 04 00 06 1F'); // TEX2E's extended read
    assert.equal(hex(encodeCommandApdu(readBinarySfi(JPKI_EF.AUTH_CERT, 4, 0x61f))), '00 B0 8A 04 00 06 1F'); // MBE
    assert.equal(hex(encodeCommandApdu(verifyRetryQuery())), '00 20 00 80');
    assert.equal(hex(encodeCommandApdu(verify(encodePin('1234')))), '00 20 00 80 04 31 32 33 34');
    assert.equal(hex(encodeCommandApdu(verify(encodePin('1234'), JPKI_EF.AUTH_PIN))), '00 20 00 98 04 31 32 33 34');
    assert.equal(keyReferenceP2(JPKI_EF.SIGN_KEY), 0x9a);
    const di = sha256DigestInfo(new Uint8Array(32));
    const sign = encodeCommandApdu(computeDigitalSignature(di));
    assert.equal(hex(sign.subarray(0, 5)), '80 2A 00 80 33');
    assert.equal(sign[sign.length - 1], 0x00);
    assert.equal(sign.length, 5 + 51 + 1);
  });

  it('round-trips all cases in short and extended form', () => {
    const data = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);
    const cases: [Parameters<typeof encodeCommandApdu>[0], 1 | 2 | 3 | 4, boolean, number][] = [
      [{ cla: 0, ins: 0x20, p1: 0, p2: 0x80 }, 1, false, 4],
      [{ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 1 }, 2, false, 5],
      [{ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 256 }, 2, false, 5],
      [{ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 257 }, 2, true, 7],
      [{ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 65536 }, 2, true, 7],
      [{ cla: 0, ins: 0xa4, p1: 2, p2: 0x0c, data: data(2) }, 3, false, 7],
      [{ cla: 0, ins: 0xa4, p1: 2, p2: 0x0c, data: data(255) }, 3, false, 260],
      [{ cla: 0, ins: 0xa4, p1: 2, p2: 0x0c, data: data(256) }, 3, true, 263],
      [{ cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: data(51), ne: 256 }, 4, false, 57],
      [{ cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: data(51), ne: 257 }, 4, true, 4 + 3 + 51 + 2],
      [{ cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: data(300), ne: 65536 }, 4, true, 4 + 3 + 300 + 2],
    ];
    for (const [cmd, apduCase, extended, length] of cases) {
      const bytes = encodeCommandApdu(cmd);
      assert.equal(bytes.length, length, `length of ${JSON.stringify({ ...cmd, data: cmd.data?.length })}`);
      const d = decodeCommandApdu(bytes);
      assert.equal(d.apduCase, apduCase);
      assert.equal(d.extended, extended);
      assert.equal(d.ne, cmd.ne ?? 0);
      assert.deepEqual(d.data, cmd.data ?? new Uint8Array(0));
      assert.deepEqual([d.cla, d.ins, d.p1, d.p2], [cmd.cla, cmd.ins, cmd.p1, cmd.p2]);
    }
  });

  it('forces or refuses forms on request', () => {
    assert.equal(hex(encodeCommandApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 256 }, 'extended')), '00 B0 00 00 00 01 00');
    assert.equal(hex(encodeCommandApdu({ cla: 0, ins: 0x20, p1: 0, p2: 0x80 }, 'extended')), '00 20 00 80');
    assert.throws(() => encodeCommandApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 257 }, 'short'), RangeError);
    assert.throws(() => encodeCommandApdu({ cla: 0x100, ins: 0, p1: 0, p2: 0 }), RangeError);
    assert.throws(() => encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, ne: 65537 }), RangeError);
  });

  it('rejects inconsistent length fields', () => {
    for (const bad of ['00A4', '00A4020C0300', '00A4020C02001800FF', '00B000000000', '00B00000000005AA']) {
      assert.throws(() => decodeCommandApdu(fromHex(bad)), ApduFormatError, bad);
    }
  });

  it('splits responses and reads 63 Cx', () => {
    const r = parseResponseApdu(fromHex('3082061F9000'));
    assert.equal(hex(r.data), '30 82 06 1F');
    assert.equal(r.sw, SW.OK);
    assert.equal(hex(encodeResponseApdu(0x63c2)), '63 C2');
    assert.equal(retriesLeftFromSw(0x63c2), 2);
    assert.equal(retriesLeftFromSw(0x63c0), 0);
    assert.equal(retriesLeftFromSw(0x6984), undefined);
    assert.equal(retriesLeftFromSw(0x6300), undefined);
    assert.equal(retryCounterSw(5), 0x63c5);
    assert.match(describeSw(0x6982), /security status not satisfied/);
    assert.match(describeSw(0x63c1), /1 tries left/);
    assert.match(describeSw(0x63c0), /blocked/);
    assert.equal(new CardStatusError(0x63c1, 'VERIFY').retriesLeft, 1);
    assert.throws(() => parseResponseApdu(Uint8Array.of(0x90)), ApduFormatError);
  });

  it('decodes CLA bytes', () => {
    assert.deepEqual(decodeClassByte(0x00), { valid: true, proprietary: false, channel: 0, secureMessaging: false, chaining: false });
    assert.equal(decodeClassByte(0x80).proprietary, true);
    assert.equal(decodeClassByte(0x01).channel, 1);
    assert.equal(decodeClassByte(0x0c).secureMessaging, true);
    assert.equal(decodeClassByte(0x08).secureMessaging, true);
    assert.equal(decodeClassByte(0x10).chaining, true);
    assert.equal(decodeClassByte(0x41).channel, 5);
    assert.equal(decodeClassByte(0xff).valid, false);
  });

  it('computes certificate lengths from the first 4 or 7 bytes', () => {
    assert.equal(tlvTotalLength(fromHex('3082061F')), 0x61f + 4);
    assert.equal(tlvTotalLength(fromHex('3082')), undefined);
    assert.equal(tlvTotalLength(fromHex('3081A0')), 0xa0 + 3);
    assert.equal(tlvTotalLength(fromHex('3010')), 0x12);
    assert.equal(tlvTotalLength(fromHex('FF10 0C')), 0x0c + 3); // 個人番号 EF's multi-byte tag
  });
});

describe('common/jpki: PINs, token info, DigestInfo', () => {
  it('checks PIN formats as the card expects them', () => {
    assert.equal(checkPinFormat('auth', '1234'), undefined);
    assert.equal(checkPinFormat('auth', '123'), 'too-short');
    assert.equal(checkPinFormat('auth', '12345'), 'too-long');
    assert.equal(checkPinFormat('auth', '12a4'), 'bad-characters');
    assert.equal(checkPinFormat('auth', ''), 'empty');
    assert.equal(checkPinFormat('sign', 'ABC123'), undefined);
    assert.equal(checkPinFormat('sign', 'abc123'), 'bad-characters');
    assert.equal(checkPinFormat('sign', 'ABCDE'), 'too-short');
    assert.equal(checkPinFormat('sign', 'A'.repeat(17)), 'too-long');
    assert.equal(checkPinFormat('sign', 'ABCDEF'), undefined); // VERIFY accepts any stored value
    assert.equal(checkPinFormat('sign', 'ABCDEF', true), 'needs-letter-and-digit');
    assert.equal(normalizePin('auth', '１２３４'), '1234');
    assert.equal(normalizePin('sign', 'ａｂｃ１２３'), 'ABC123');
    assert.throws(() => encodePin('１２'), RangeError);
  });

  it('round-trips the 160-byte token info with a space-padded label', () => {
    const bytes = encodeTokenInfo({ ...defaultTokenInfo(), serialNumber: 'X1' });
    assert.equal(bytes.length, 160);
    assert.equal(Buffer.from(bytes.subarray(0, 32)).toString('latin1'), 'JPKIAPICCTOKEN2' + ' '.repeat(17));
    assert.equal(parseTokenLabel(bytes), JPKI_TOKEN_LABEL.CARD);
    const info = parseTokenInfo(bytes);
    assert.equal(info.flags, 0x40d);
    assert.equal(info.maxPinLen, 16);
    assert.equal(info.minPinLen, 6);
    assert.equal(info.serialNumber, 'X1');
    assert.equal(info.hardwareVersion, '03');
  });

  it('builds DigestInfos for SHA-1/256/384/512', () => {
    assert.equal(digestInfoFor('SHA-256', new Uint8Array(32)).length, 51);
    assert.equal(digestInfoFor('SHA-1', new Uint8Array(20)).length, 35);
    assert.equal(digestInfoFor('SHA-512', new Uint8Array(64)).length, 83);
    assert.deepEqual(digestInfoFor('SHA-256', new Uint8Array(32).fill(7)), sha256DigestInfo(new Uint8Array(32).fill(7)));
    assert.throws(() => digestInfoFor('SHA-384', new Uint8Array(32)), RangeError);
  });
});
