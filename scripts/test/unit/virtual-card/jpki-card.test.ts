// The virtual card's JPKI AP, driven through its APDU handler (no vpcd): every rule of jpki-card.md §11.
import assert from 'node:assert/strict';
import { constants, createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JPKI_EF,
  MYNA_ATR,
  SIGN_P2,
  computeDigitalSignature,
  digestInfoFor,
  encodeCommandApdu,
  encodePin,
  fromHex,
  parseResponseApdu,
  parseTokenInfo,
  parseTokenLabel,
  readBinary,
  readBinarySfi,
  selectDf,
  selectEf,
  sha256DigestInfo,
  tlvTotalLength,
  toHex,
  verify,
  verifyRetryQuery,
  type CommandApdu,
  type ResponseApdu,
} from '@cert/common';
import { ensureTestPki, type TestPkiManifest } from '../../../src/pki/test-pki.ts';
import { personaFromPki, VirtualMyNumberCard, type CardPersona, type VirtualCardOptions } from '../../../src/virtual-card/index.ts';

let manifest: TestPkiManifest;
let persona: CardPersona;
let residentId: string;

before(async function () {
  this.timeout(120_000);
  manifest = await ensureTestPki();
  residentId = Object.keys(manifest.residents)[0]!;
  persona = personaFromPki(manifest, residentId);
});

/** A fresh card plus helpers that send builder-made APDUs and return {data, sw}. */
function newCard(options: VirtualCardOptions = {}, p: CardPersona = persona) {
  const card = new VirtualMyNumberCard(p, options);
  card.powerOn();
  const send = (cmd: CommandApdu | string): ResponseApdu =>
    parseResponseApdu(card.transmit(typeof cmd === 'string' ? fromHex(cmd) : encodeCommandApdu(cmd)));
  const sw = (cmd: CommandApdu | string) => send(cmd).sw.toString(16).toUpperCase();
  return { card, send, sw };
}

const SHA256_DI = (msg: string) => sha256DigestInfo(new Uint8Array(createHash('sha256').update(msg).digest()));
const certPublicKey = (der: Uint8Array) => new X509Certificate(der).publicKey;

/** Reads an EF the way myna does: 7-byte header, then 256-byte chunks from offset 7. */
function readLikeMyna(send: (c: CommandApdu) => ResponseApdu): { der: Uint8Array; apdus: number } {
  const head = send(readBinary(0, 7));
  assert.equal(head.sw, 0x9000);
  const total = tlvTotalLength(head.data)!;
  const parts = [head.data];
  let apdus = 1;
  for (let off = 7; off < total; ) {
    const r = send(readBinary(off, Math.min(256, total - off)));
    apdus++;
    assert.equal(r.sw, 0x9000);
    parts.push(r.data);
    off += r.data.length;
  }
  return { der: Buffer.concat(parts), apdus };
}

describe('virtual card: SELECT', () => {
  it('selects the JPKI AP by full and partial DF name; unknown and unimplemented APs answer 6A 82', () => {
    const { sw } = newCard();
    assert.equal(sw(selectDf()), '9000');
    assert.equal(sw(selectDf(fromHex('D392F00026'))), '9000'); // prefix: JICSAP partial DF name
    assert.equal(sw(selectDf(fromHex('D392F00026010000000199'))), '6A82'); // longer than the AID
    assert.equal(sw(selectDf(fromHex('A000000063504B43532D3135'))), '6A82'); // PKCS#15 AID (OpenSC probes it)
    assert.equal(sw(selectDf(fromHex('D3921000310001010408'))), '6A82'); // text AP is not emulated
    assert.equal(sw(selectDf(fromHex('D392'))), '6A82'); // ambiguous prefix would land in another AP
    assert.equal(newCard({ partialAidMatch: false }).sw(selectDf(fromHex('D392F00026'))), '6A82');
  });

  it('selects EFs only inside the AP; unknown FIDs answer 6A 82', () => {
    const { sw, send } = newCard();
    assert.equal(sw(selectEf(JPKI_EF.AUTH_CERT)), '6A82'); // no application selected yet
    assert.equal(sw('00A40000'), '6A86'); // 00 A4 00 00 right after reset
    sw(selectDf());
    assert.equal(sw('00A40000'), '9000'); // inside an AP: accepted, no change
    assert.equal(sw('00A4000C023F00'), '6A82'); // no usable MF
    for (const fid of [0x0001, 0x0002, 0x0006, 0x0008, 0x000a, 0x000b, 0x0017, 0x0018, 0x001a, 0x001b, 0x0009]) {
      assert.equal(sw(selectEf(fid)), '9000', fid.toString(16));
    }
    assert.equal(sw(selectEf(0x0003)), '6A82');
    assert.equal(sw(selectEf(0x2f10)), '6A82');
    assert.equal(sw('00A4020C0300000A'), '6700'); // FID must be 2 bytes
    assert.equal(sw('00A4020102000A'), '6A86'); // P2 occurrence bits
    const p2zero = send('00A40200020006'); // P2 00 (FCI requested): 90 00 without FCI ([U])
    assert.equal(p2zero.sw, 0x9000);
    assert.equal(p2zero.data.length, 0);
    assert.equal(sw('00A40800020006'), '6A86'); // select by path: not supported
  });
});

describe('virtual card: READ BINARY', () => {
  it('serves the auth certificate to myna-style (7 + 256-byte chunks) and OpenSC-style (4-byte header) readers', () => {
    const { send, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_CERT));
    const { der, apdus } = readLikeMyna(send);
    assert.deepEqual(new Uint8Array(der), persona.auth.certDer);
    assert.equal(apdus, 1 + Math.ceil((der.length - 7) / 256));
    const head4 = send(readBinary(0, 4));
    assert.equal(tlvTotalLength(head4.data), persona.auth.certDer.length);
  });

  it('returns a short last chunk with 90 00 and 6B 00 at or past the end', () => {
    const { send, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_CERT));
    const size = persona.auth.certDer.length;
    const last = send(readBinary(size - 10, 256));
    assert.equal(last.sw, 0x9000);
    assert.equal(last.data.length, 10);
    assert.equal(sw(readBinary(size, 256)), '6B00');
    assert.equal(sw(readBinary(size + 100, 1)), '6B00');
    const alt = newCard({ readPastEndSw: 0x6282 });
    alt.sw(selectDf());
    alt.sw(selectEf(JPKI_EF.AUTH_CERT));
    assert.equal(alt.sw(readBinary(size, 256)), '6282');
  });

  it('accepts extended Le (TEX2E `00 B0 00 04 00 LL LL`) including 00 00 = 65536', () => {
    const { send, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_CERT));
    const der = persona.auth.certDer;
    const rest = send({ cla: 0, ins: 0xb0, p1: 0, p2: 4, ne: der.length - 4 });
    assert.equal(rest.sw, 0x9000);
    assert.deepEqual(rest.data, der.subarray(4));
    const all = send('00B00000000000');
    assert.deepEqual(all.data, der);
  });

  it('reads by SFI without SELECT, 8-bit offset, and makes the EF current', () => {
    const { send, sw } = newCard();
    sw(selectDf());
    const der = persona.auth.certDer;
    const first = send(readBinarySfi(JPKI_EF.AUTH_CERT, 0, 256));
    assert.deepEqual(first.data, der.subarray(0, 256));
    const next = send(readBinary(256, 256)); // current EF is now 000A
    assert.deepEqual(next.data, der.subarray(256, 512));
    const mbe = send(readBinarySfi(JPKI_EF.AUTH_CERT, 4, der.length - 4)); // MBE: `00 B0 8A 04 00 LL LL`
    assert.deepEqual(mbe.data, der.subarray(4));
    assert.deepEqual(send(readBinarySfi(JPKI_EF.AUTH_CA_CERT, 0, 4)).data, persona.auth.caCertDer.subarray(0, 4));
    assert.equal(sw('00B0830000'), '6A82'); // SFI 3 does not exist
    assert.equal(sw('00B0A00000'), '6A86'); // bits 6-7 of P1 must be 0 in the SFI form
  });

  it('answers 69 86 without a current EF and 67 00 without Le', () => {
    const { sw } = newCard();
    sw(selectDf());
    assert.equal(sw(readBinary(0, 4)), '6986');
    sw(selectEf(JPKI_EF.AUTH_CERT));
    assert.equal(sw('00B00000'), '6700');
  });

  it('enforces access: 0001 needs the signature password; key and PIN EFs are unreadable', () => {
    const { send, sw } = newCard();
    sw(selectDf());
    assert.equal(sw(selectEf(JPKI_EF.SIGN_CERT)), '9000'); // SELECT succeeds; READ is refused ([U] on the card)
    assert.equal(sw(readBinary(0, 4)), '6982');
    assert.equal(sw(readBinarySfi(JPKI_EF.SIGN_CERT, 0, 4)), '6982');
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw(verify(encodePin(persona.authPin))), '9000');
    sw(selectEf(JPKI_EF.SIGN_CERT));
    assert.equal(sw(readBinary(0, 4)), '6982'); // the auth PIN does not open it
    sw(selectEf(JPKI_EF.SIGN_PASSWORD));
    assert.equal(sw(verify(encodePin(persona.signPassword))), '9000');
    sw(selectEf(JPKI_EF.SIGN_CERT));
    assert.deepEqual(readLikeMyna(send).der, Buffer.from(persona.sign!.certDer));
    for (const fid of [JPKI_EF.AUTH_KEY, JPKI_EF.AUTH_PIN, JPKI_EF.SIGN_KEY, JPKI_EF.SIGN_PASSWORD]) {
      sw(selectEf(fid));
      assert.equal(sw(readBinary(0, 1)), '6981', fid.toString(16));
    }
    sw(selectEf(0x0009));
    assert.equal(sw(readBinary(0, 1)), '6982');
    const alt = newCard({ keyEfReadSw: 0x6982 });
    alt.sw(selectDf());
    assert.equal(alt.sw(readBinarySfi(JPKI_EF.AUTH_KEY, 0, 1)), '6982');
  });

  it('serves the CA certificates, EF 0008 and the 160-byte token EF without a PIN', () => {
    const { send, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_CA_CERT));
    assert.deepEqual(readLikeMyna(send).der, Buffer.from(persona.auth.caCertDer));
    sw(selectEf(JPKI_EF.SIGN_CA_CERT));
    assert.deepEqual(readLikeMyna(send).der, Buffer.from(persona.sign!.caCertDer));
    sw(selectEf(JPKI_EF.CERT_PRESENCE));
    assert.equal(toHex(send(readBinary(0, 256)).data), '8F8F00');
    sw(selectEf(JPKI_EF.TOKEN_INFO));
    const label = send(readBinary(0, 0x20)); // what both myna clients read
    assert.equal(Buffer.from(label.data).toString('latin1'), 'JPKIAPICCTOKEN2                 ');
    const token = send(readBinary(0, 256));
    assert.equal(token.data.length, 160);
    assert.equal(parseTokenLabel(token.data), 'JPKIAPICCTOKEN2');
    assert.equal(parseTokenInfo(token.data).flags, 0x40d);
  });

  it('pads certificate EFs with FF filler on request', () => {
    const { send, sw } = newCard({ certFiller: 16 });
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_CERT));
    const size = persona.auth.certDer.length;
    assert.equal(toHex(send(readBinary(size, 256)).data), 'FF'.repeat(16));
    assert.deepEqual(readLikeMyna(send).der, Buffer.from(persona.auth.certDer)); // clients trim by the DER length
  });
});

describe('virtual card: VERIFY and retry counters', () => {
  it('answers the empty-VERIFY query with 63 Cx without spending a try', () => {
    const { sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw(verifyRetryQuery()), '63C3');
    assert.equal(sw(verifyRetryQuery()), '63C3');
    assert.equal(sw('0020008000'), '63C3'); // case 2 (Le, no data) is a query too
    sw(selectEf(JPKI_EF.SIGN_PASSWORD));
    assert.equal(sw(verifyRetryQuery()), '63C5');
    assert.equal(sw(verifyRetryQuery(JPKI_EF.AUTH_PIN)), '63C3'); // SFI form 00 20 00 98
  });

  it('counts wrong PINs down, blocks at 0 (63 C0, then 69 84) and stays blocked across power cycles', () => {
    const { card, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw(verify(encodePin('0000'))), '63C2');
    assert.equal(sw(verify(encodePin('0001'))), '63C1');
    assert.equal(sw(verifyRetryQuery()), '63C1');
    assert.equal(sw(verify(encodePin('0002'))), '63C0');
    assert.equal(sw(verify(encodePin(persona.authPin))), '6984'); // even the right PIN
    assert.equal(sw(verifyRetryQuery()), '63C0');
    card.powerOff();
    card.powerOn();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw(verifyRetryQuery()), '63C0');
    assert.equal(card.state.counters.auth.blocked, true);
    assert.equal(card.state.counters.sign.remaining, 5); // the other PIN is independent
  });

  it('resets the counter on success; the signature password has 5 tries and is case-sensitive on the card', () => {
    const { sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw(verify(encodePin('9999'))), '63C2');
    assert.equal(sw(verify(encodePin(persona.authPin))), '9000');
    assert.equal(sw(verifyRetryQuery()), '63C3'); // OpenSC needs 63 Cx here, not 90 00
    sw(selectEf(JPKI_EF.SIGN_PASSWORD));
    assert.equal(sw(verify(encodePin(persona.signPassword.toLowerCase()))), '63C4');
    assert.equal(sw(verify(encodePin(persona.signPassword))), '9000');
    assert.equal(sw(verifyRetryQuery()), '63C5');
    const ok = newCard({ queryAfterVerify: 'ok' });
    ok.sw(selectDf());
    ok.sw(selectEf(JPKI_EF.AUTH_PIN));
    ok.sw(verify(encodePin(persona.authPin)));
    assert.equal(ok.sw(verifyRetryQuery()), '9000');
  });

  it('verifies by SFI (`00 20 00 98`) without selecting the PIN EF', () => {
    const { card, sw } = newCard();
    sw(selectDf());
    assert.equal(sw(verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN)), '9000');
    assert.equal(card.state.verified.auth, true);
    assert.equal(card.state.currentEf, undefined);
  });

  it('handles wrong-length PINs per option: counted as a wrong try (default) or 67 00', () => {
    const { sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw(verify(encodePin('12345'))), '63C2');
    assert.equal(sw(verify(encodePin('12'))), '63C1');
    const strict = newCard({ wrongLengthPin: 'reject' });
    strict.sw(selectDf());
    strict.sw(selectEf(JPKI_EF.SIGN_PASSWORD));
    assert.equal(strict.sw(verify(encodePin('ABC12'))), '6700');
    assert.equal(strict.sw(verify(encodePin('A'.repeat(17)))), '6700');
    assert.equal(strict.sw(verifyRetryQuery()), '63C5');
  });

  it('rejects VERIFY on no/other EFs and bad P1/P2', () => {
    const { sw } = newCard();
    sw(selectDf());
    assert.equal(sw(verify(encodePin('1234'))), '6986'); // no current EF
    sw(selectEf(JPKI_EF.AUTH_CERT));
    assert.equal(sw(verify(encodePin('1234'))), '6981'); // not a key reference
    assert.equal(sw('0020009A0431323334'), '6A88'); // SFI of a key, not a PIN
    assert.equal(sw('002001800431323334'), '6A86');
    assert.equal(sw('002000000431323334'), '6A86'); // P2 00 (global) not supported
  });

  it('a failed VERIFY drops an earlier verification of that PIN', () => {
    const { card, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    sw(verify(encodePin(persona.authPin)));
    assert.equal(card.state.verified.auth, true);
    sw(verify(encodePin('0000')));
    assert.equal(card.state.verified.auth, false);
  });
});

describe('virtual card: COMPUTE DIGITAL SIGNATURE', () => {
  const login = (c: ReturnType<typeof newCard>, kind: 'auth' | 'sign' = 'auth') => {
    c.sw(selectDf());
    c.sw(selectEf(kind === 'auth' ? JPKI_EF.AUTH_PIN : JPKI_EF.SIGN_PASSWORD));
    assert.equal(c.sw(verify(encodePin(kind === 'auth' ? persona.authPin : persona.signPassword))), '9000');
  };

  it('signs a SHA-256 DigestInfo (TEX2E sequence) so that crypto.verify with the certificate accepts it', () => {
    const c = newCard();
    login(c);
    assert.equal(c.sw(selectEf(JPKI_EF.AUTH_KEY)), '9000');
    const r = c.send(computeDigitalSignature(SHA256_DI('challenge')));
    assert.equal(r.sw, 0x9000);
    assert.equal(r.data.length, 256);
    const key = certPublicKey(persona.auth.certDer);
    assert.equal(cryptoVerify('sha256', Buffer.from('challenge'), { key, padding: constants.RSA_PKCS1_PADDING }, r.data), true);
    // deterministic (PKCS#1 v1.5)
    assert.deepEqual(c.send(computeDigitalSignature(SHA256_DI('challenge'))).data, r.data);
  });

  it('refuses with 69 82 without the matching PIN, and after the AP is re-selected', () => {
    const c = newCard();
    c.sw(selectDf());
    c.sw(selectEf(JPKI_EF.AUTH_KEY));
    assert.equal(c.sw(computeDigitalSignature(SHA256_DI('x'))), '6982');
    login(c, 'sign');
    c.sw(selectEf(JPKI_EF.AUTH_KEY));
    assert.equal(c.sw(computeDigitalSignature(SHA256_DI('x'))), '6982'); // the signature password does not open 0017
    assert.equal(c.sw(computeDigitalSignature(SHA256_DI('x'), SIGN_P2.SIGN_KEY)), '9000');
    login(c);
    c.sw(selectDf()); // re-selecting the AP is OpenSC's logout
    assert.equal(c.sw(computeDigitalSignature(SHA256_DI('x'), SIGN_P2.AUTH_KEY)), '6982');
  });

  it('names keys by SFI (97 auth, 9A sign) and verifies with the right certificates', () => {
    const c = newCard();
    login(c);
    login2(c);
    const a = c.send(computeDigitalSignature(SHA256_DI('m'), SIGN_P2.AUTH_KEY));
    const s = c.send(computeDigitalSignature(SHA256_DI('m'), SIGN_P2.SIGN_KEY));
    const v = (der: Uint8Array, sig: Uint8Array) => cryptoVerify('sha256', Buffer.from('m'), { key: certPublicKey(der), padding: constants.RSA_PKCS1_PADDING }, sig);
    assert.equal(v(persona.auth.certDer, a.data), true);
    assert.equal(v(persona.sign!.certDer, s.data), true);
    assert.equal(v(persona.auth.certDer, s.data), false);
    function login2(cc: typeof c) {
      cc.sw(selectEf(JPKI_EF.SIGN_PASSWORD));
      cc.sw(verify(encodePin(persona.signPassword)));
    }
  });

  it('signs SHA-1/384/512 DigestInfos; several signatures per VERIFY', () => {
    const c = newCard();
    login(c);
    c.sw(selectEf(JPKI_EF.AUTH_KEY));
    const key = certPublicKey(persona.auth.certDer);
    for (const [alg, node] of [['SHA-1', 'sha1'], ['SHA-384', 'sha384'], ['SHA-512', 'sha512'], ['SHA-256', 'sha256']] as const) {
      const di = digestInfoFor(alg, new Uint8Array(createHash(node).update('doc').digest()));
      const r = c.send(computeDigitalSignature(di));
      assert.equal(r.sw, 0x9000, alg);
      assert.equal(cryptoVerify(node, Buffer.from('doc'), { key, padding: constants.RSA_PKCS1_PADDING }, r.data), true, alg);
    }
    const fresh = newCard({ signRequiresFreshVerify: true });
    login(fresh);
    assert.equal(fresh.sw(computeDigitalSignature(SHA256_DI('1'), SIGN_P2.AUTH_KEY)), '9000');
    assert.equal(fresh.sw(computeDigitalSignature(SHA256_DI('2'), SIGN_P2.AUTH_KEY)), '6982');
  });

  it('implements P1 02/03 (card-side DigestInfo / SHA-256) and refuses other P1, long input, CLA 00', () => {
    const c = newCard();
    login(c);
    const key = certPublicKey(persona.auth.certDer);
    const hash = createHash('sha256').update('p1').digest();
    const p2 = c.send({ cla: 0x80, ins: 0x2a, p1: 0x02, p2: 0x97, data: hash, ne: 256 });
    assert.equal(cryptoVerify('sha256', Buffer.from('p1'), { key, padding: constants.RSA_PKCS1_PADDING }, p2.data), true);
    const p3 = c.send({ cla: 0x80, ins: 0x2a, p1: 0x03, p2: 0x97, data: Buffer.from('p1'), ne: 256 });
    assert.deepEqual(p3.data, p2.data);
    assert.equal(c.sw({ cla: 0x80, ins: 0x2a, p1: 0x02, p2: 0x97, data: new Uint8Array(31), ne: 256 }), '6985');
    assert.equal(c.sw({ cla: 0x80, ins: 0x2a, p1: 0x05, p2: 0x97, data: hash, ne: 256 }), '6A86');
    assert.equal(c.sw({ cla: 0x80, ins: 0x2a, p1: 0x00, p2: 0x97, data: new Uint8Array(246), ne: 256 }), '6985');
    assert.equal(c.sw({ cla: 0x80, ins: 0x2a, p1: 0x00, p2: 0x97, data: new Uint8Array(245), ne: 256 }), '9000');
    assert.equal(c.sw({ cla: 0x00, ins: 0x2a, p1: 0x00, p2: 0x97, data: SHA256_DI('x'), ne: 256 }), '6D00');
    assert.equal(newCard({ signP1Variants: false }).sw({ cla: 0x80, ins: 0x2a, p1: 0x02, p2: 0x97, data: hash, ne: 256 }), '6A86');
    c.sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(c.sw(computeDigitalSignature(SHA256_DI('x'))), '6981'); // P2 80 but current EF is not a key
    assert.equal(c.sw(computeDigitalSignature(SHA256_DI('x'), 0x98)), '6A88');
  });
});

describe('virtual card: security status lifetime', () => {
  it('survives SELECT EF, is cleared by SELECT AP, power-off and cold reset; warm reset keeps it by default', () => {
    const { card, sw } = newCard();
    const loginAndCheck = () => {
      sw(selectDf());
      sw(selectEf(JPKI_EF.AUTH_PIN));
      sw(verify(encodePin(persona.authPin)));
      sw(selectEf(JPKI_EF.AUTH_CERT));
      sw(selectEf(JPKI_EF.AUTH_KEY));
      assert.equal(sw(computeDigitalSignature(SHA256_DI('a'))), '9000');
    };
    loginAndCheck();
    sw(selectDf());
    assert.equal(sw(computeDigitalSignature(SHA256_DI('a'), SIGN_P2.AUTH_KEY)), '6982');

    loginAndCheck();
    card.warmReset();
    assert.equal(sw(computeDigitalSignature(SHA256_DI('a'))), '9000'); // MC: a warm reset keeps the state

    card.powerOff();
    card.powerOn();
    assert.equal(card.state.currentDf, 'mf');
    assert.equal(sw(computeDigitalSignature(SHA256_DI('a'))), '6986'); // no current EF after reset
    sw(selectDf());
    assert.equal(sw(computeDigitalSignature(SHA256_DI('a'), SIGN_P2.AUTH_KEY)), '6982');

    const clearing = newCard({ warmReset: 'clear' });
    clearing.sw(selectDf());
    clearing.sw(verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN));
    clearing.card.warmReset();
    clearing.sw(selectDf());
    assert.equal(clearing.sw(computeDigitalSignature(SHA256_DI('a'), SIGN_P2.AUTH_KEY)), '6982');
  });
});

describe('virtual card: classes, instructions, odd commands', () => {
  it('answers 68 81 / 68 82 / 69 FC / 68 84 / 6E 00 / 6D 00 / 67 00 per §11', () => {
    const { sw } = newCard();
    assert.equal(sw('01A4040C0AD392F000260100000001'), '6881'); // logical channel 1
    assert.equal(sw('0CA4040C0AD392F000260100000001'), '6882'); // SM on SELECT
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_CERT));
    assert.equal(sw('0CB0000004'), '69FC'); // SM on READ BINARY
    assert.equal(sw('0C2000800431323334'), '69FC'); // SM on VERIFY
    assert.equal(sw('10B0000004'), '6884'); // chaining
    assert.equal(sw('FFB0000004'), '6E00');
    assert.equal(sw('80B0000004'), '6E00'); // proprietary class with an ISO instruction
    assert.equal(sw('00E0000000'), '6D00'); // CREATE FILE
    assert.equal(sw('00B2010400'), '6D00'); // READ RECORD (no record EFs in the JPKI AP)
    assert.equal(sw('80FC0000'), '6700'); // iPhone "last command indicator" on a physical card
    assert.equal(sw('00A4020C0500'), '6700'); // malformed length
  });

  it('GET CHALLENGE and GET DATA 5F51', () => {
    const { send, sw } = newCard();
    const ch = send('0084000008');
    assert.equal(ch.sw, 0x9000);
    assert.equal(ch.data.length, 8);
    assert.equal(sw('00840000000100'), '6985'); // extended Le
    assert.equal(toHex(send('00CA5F5100').data), toHex(MYNA_ATR.CONTACT.subarray(1)));
    assert.equal(sw('00CA004200'), '6A88');
  });

  it('reports the configured ATR; the optional 6F 00 quirk hits only the first command after power-on', () => {
    assert.equal(newCard().card.state.atr, toHex(MYNA_ATR.CONTACT));
    assert.equal(newCard({ atr: MYNA_ATR.CONTACTLESS }).card.state.atr, '3B888001000005E0B381A1007F');
    const q = newCard({ firstCommandQuirk: true });
    assert.equal(q.sw(selectDf()), '6F00');
    assert.equal(q.sw(selectDf()), '9000');
  });
});

describe('virtual card: smartphone token, PIN change, cards without a signature certificate', () => {
  it('smartphone mode: label JPKIAPGPSETOKEN and 000A needs the auth PIN', () => {
    const { send, sw } = newCard({ smartphone: true });
    sw(selectDf());
    sw(selectEf(JPKI_EF.TOKEN_INFO));
    assert.equal(parseTokenLabel(send(readBinary(0, 0x20)).data), 'JPKIAPGPSETOKEN');
    sw(selectEf(JPKI_EF.AUTH_CERT));
    assert.equal(sw(readBinary(0, 7)), '6982');
    assert.equal(sw(readBinarySfi(JPKI_EF.AUTH_CA_CERT, 0, 4)), '9000'); // CA stays public
    sw(verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN));
    sw(selectEf(JPKI_EF.AUTH_CERT));
    assert.deepEqual(readLikeMyna(send).der, Buffer.from(persona.auth.certDer));
  });

  it('CHANGE REFERENCE DATA needs the old PIN verified and a valid new value', () => {
    const { card, sw } = newCard();
    sw(selectDf());
    sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('5678') }), '6982');
    sw(verify(encodePin(persona.authPin)));
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('56a8') }), '6A80');
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('56789') }), '6A80');
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 0, p2: 0x80, data: encodePin('5678') }), '6A86');
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('5678') }), '9000');
    assert.equal(sw(verify(encodePin(persona.authPin))), '63C2');
    assert.equal(sw(verify(encodePin('5678'))), '9000');
    assert.equal(card.card.currentPin('auth'), '5678');
    sw(selectEf(JPKI_EF.SIGN_PASSWORD));
    sw(verify(encodePin(persona.signPassword)));
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('ABCDEF') }), '6A80'); // needs a digit
    assert.equal(sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('NEWPASS9') }), '9000');
  });

  it('a card without a signature certificate has no 0001/001A/001B and EF 0008 = 00 8F 00', () => {
    const noSign = personaFromPki(manifest, residentId, { withSign: false });
    const { send, sw } = newCard({}, noSign);
    sw(selectDf());
    assert.equal(sw(selectEf(JPKI_EF.SIGN_CERT)), '6A82');
    assert.equal(sw(selectEf(JPKI_EF.SIGN_PASSWORD)), '6A82');
    assert.equal(sw(verify(encodePin('ABC123'), JPKI_EF.SIGN_PASSWORD)), '6A88');
    assert.equal(toHex(send(readBinarySfi(JPKI_EF.CERT_PRESENCE, 0, 3)).data), '008F00');
  });
});

describe('virtual card: state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vcard-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('persists counters atomically on every change; a blocked card stays blocked in a new process', () => {
    const stateFile = join(dir, 'card.json');
    const a = newCard({ stateFile });
    const read = () => JSON.parse(readFileSync(stateFile, 'utf8')) as { counters: { auth: { remaining: number }; sign: { remaining: number } }; card: string };
    assert.equal(read().counters.auth.remaining, 3); // written at creation
    a.sw(selectDf());
    a.sw(selectEf(JPKI_EF.AUTH_PIN));
    for (const [pin, left] of [['1111', 2], ['2222', 1], ['3333', 0]] as const) {
      a.sw(verify(encodePin(pin)));
      assert.equal(read().counters.auth.remaining, left);
    }
    a.sw(selectEf(JPKI_EF.SIGN_PASSWORD));
    a.sw(verify(encodePin('WRONG1')));
    assert.equal(read().counters.sign.remaining, 4);
    assert.deepEqual(readdirSync(dir), ['card.json'], 'no temp files left behind');

    const b = newCard({ stateFile }); // "new process": same file
    b.sw(selectDf());
    assert.equal(b.sw(verifyRetryQuery(JPKI_EF.AUTH_PIN)), '63C0');
    assert.equal(b.sw(verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN)), '6984');
    assert.equal(b.sw(verifyRetryQuery(JPKI_EF.SIGN_PASSWORD)), '63C4');
  });

  it('keeps a changed PIN and refuses a state file of another card', () => {
    const stateFile = join(dir, 'card.json');
    const a = newCard({ stateFile });
    a.sw(selectDf());
    a.sw(verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN));
    a.sw(selectEf(JPKI_EF.AUTH_PIN));
    assert.equal(a.sw({ cla: 0, ins: 0x24, p1: 1, p2: 0x80, data: encodePin('4321') }), '9000');
    const b = newCard({ stateFile });
    b.sw(selectDf());
    assert.equal(b.sw(verify(encodePin('4321'), JPKI_EF.AUTH_PIN)), '9000');

    const other = personaFromPki(manifest, Object.keys(manifest.residents)[1]!);
    assert.throws(() => new VirtualMyNumberCard(other, { stateFile }), /belongs to another card/);
    writeFileSync(stateFile, '{"version":1}');
    assert.throws(() => new VirtualMyNumberCard(persona, { stateFile }), /not a virtual card state file/);
  });

  it('starts from configured counters (e.g. one try left)', () => {
    const { sw } = newCard({ initialTries: { auth: 1 } });
    sw(selectDf());
    assert.equal(sw(verifyRetryQuery(JPKI_EF.AUTH_PIN)), '63C1');
    assert.equal(sw(verify(encodePin('0000'), JPKI_EF.AUTH_PIN)), '63C0');
  });
});

describe('virtual card: APDU log', () => {
  it('records every command with its response and status word', () => {
    const { card, sw } = newCard();
    sw(selectDf());
    sw(selectEf(0x0003));
    assert.deepEqual(card.apduLog.map((e) => [e.command, e.sw]), [['00A4040C0AD392F000260100000001', '9000'], ['00A4020C020003', '6A82']]);
    card.clearLog();
    assert.equal(card.apduLog.length, 0);
  });
});
