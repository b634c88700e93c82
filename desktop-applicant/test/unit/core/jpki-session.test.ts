// JpkiSession without pcscd: a CardConnection that hands each APDU to the virtual My Number card's
// in-memory transmit (the same JPKI implementation the end-to-end tests reach through vpcd).
import { loginSignedText, sha256DigestInfo, toHex, type CardStatusError } from '@cert/common';
import { ensureTestPki, type TestPkiManifest } from '@cert/scripts/pki';
import { DEFAULT_AUTH_PIN, personaFromPki, VirtualMyNumberCard, type CardPersona, type VirtualCardOptions } from '@cert/scripts/virtual-card';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { CardError } from '../../../src/core/card/card-errors.ts';
import { JpkiSession, type JpkiSessionOptions } from '../../../src/core/card/jpki-session.ts';
import type { CardConnection } from '../../../src/core/card/pcsc-monitor.ts';

/** A connection to an in-memory card; `intercept` may answer a command instead of the card. */
class InMemoryConnection implements CardConnection {
  readonly readerName = 'in-memory reader';
  readonly sent: string[] = [];
  closed = false;

  constructor(
    readonly card: VirtualMyNumberCard,
    private readonly intercept?: (apduHex: string) => string | undefined,
  ) {}

  async transmit(apdu: Uint8Array, maxResponse: number): Promise<Uint8Array> {
    const hex = toHex(apdu).toUpperCase();
    this.sent.push(hex);
    const override = this.intercept?.(hex);
    const response = override !== undefined ? Buffer.from(override, 'hex') : this.card.transmit(apdu);
    // pcsclite fails (0x80100008) when the receive buffer is smaller than the response (RIG.md).
    if (response.length > maxResponse + 2) throw new Error(`response of ${response.length} bytes exceeds the ${maxResponse + 2}-byte receive buffer`);
    return new Uint8Array(response);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** What a command is, by its header. */
function name(hex: string): string {
  const ins = hex.slice(2, 4);
  const p1 = parseInt(hex.slice(4, 6), 16);
  if (ins === 'A4') return hex.slice(4, 6) === '04' ? 'SELECT AP' : `SELECT EF ${hex.slice(10, 14)}`;
  if (ins === 'B0') return p1 & 0x80 ? `READ SFI ${(p1 & 0x1f).toString(16).padStart(2, '0')}` : 'READ';
  if (ins === '20') return hex.length > 8 + 2 ? 'VERIFY' : 'RETRY QUERY';
  if (ins === '2A') return 'SIGN';
  return ins;
}

describe('JpkiSession against the virtual card in memory', () => {
  let pki: TestPkiManifest;
  let persona: CardPersona;
  let certDer: Buffer;

  before(async () => {
    pki = await ensureTestPki();
    persona = personaFromPki(pki, 'R0001');
    certDer = Buffer.from(persona.auth.certDer);
  });

  const setup = (cardOptions: VirtualCardOptions = {}, sessionOptions: JpkiSessionOptions = {}, intercept?: (apduHex: string) => string | undefined) => {
    const card = new VirtualMyNumberCard(persona, cardOptions);
    card.powerOn();
    const conn = new InMemoryConnection(card, intercept);
    return { card, conn, jpki: new JpkiSession(conn, sessionOptions) };
  };

  /** The login's part on the card: certificate and a signature over a challenge's DigestInfo. */
  const signChallenge = async (jpki: JpkiSession) => {
    const text = loginSignedText('challenge-id', 'bm9uY2U=');
    const signature = await jpki.signDigestInfo(sha256DigestInfo(createHash('sha256').update(text).digest()));
    return { text, signature };
  };

  const assertSignatureVerifies = (cert: Buffer, text: Uint8Array, signature: Buffer) => {
    assert.equal(signature.length, 256);
    const key = new X509Certificate(cert).publicKey;
    assert.ok(cryptoVerify('sha256', text, key, signature), 'RSASSA-PKCS1-v1_5 / SHA-256 signature verifies with the certificate');
  };

  it('open → verify → read → sign: 7 APDUs (SELECT, token info, retry query; retry query, VERIFY, one extended READ, SIGN)', async () => {
    const { conn, jpki } = setup();
    const info = await jpki.open();
    assert.deepEqual(info, { kind: 'card', label: 'JPKIAPICCTOKEN2', triesLeft: 3 });
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    const cert = await jpki.readCertificate();
    const { text, signature } = await signChallenge(jpki);

    assert.deepEqual(cert, certDer);
    assertSignatureVerifies(cert, text, signature);
    // The counter is read again right before VERIFY: it may have changed since the card was opened.
    assert.deepEqual(conn.sent.map(name), ['SELECT AP', 'READ SFI 06', 'RETRY QUERY', 'RETRY QUERY', 'VERIFY', 'READ SFI 0a', 'SIGN']);
    assert.equal(jpki.apduCount, 7);
    // The certificate is read once per session.
    assert.deepEqual(await jpki.readCertificate(), certDer);
    assert.equal(jpki.apduCount, 7);
    console.log(`      open + VERIFY + READ + SIGN: ${jpki.apduCount} APDUs (certificate ${cert.length} bytes in one READ)`);
  });

  it('short reads (readMode short): SELECT EF and 256-byte chunks, same certificate', async () => {
    const { conn, jpki } = setup({}, { readMode: 'short' });
    await jpki.open();
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    const before = jpki.apduCount;
    const cert = await jpki.readCertificate();
    assert.deepEqual(cert, certDer);
    const reads = Math.ceil(certDer.length / 256);
    assert.equal(jpki.apduCount - before, 1 + reads, 'SELECT 000A + one READ per 256 bytes');
    assert.deepEqual(conn.sent.slice(before).map(name), ['SELECT EF 000A', ...Array<string>(reads).fill('READ')]);
    const { text, signature } = await signChallenge(jpki);
    assertSignatureVerifies(cert, text, signature);
  });

  it('falls back to short reads when the reader refuses the extended READ (67 00)', async () => {
    const { conn, jpki } = setup({}, {}, (hex) => (hex.startsWith('00B08A00') ? '6700' : undefined));
    await jpki.open();
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    assert.deepEqual(await jpki.readCertificate(), certDer);
    assert.ok(conn.sent.some((h) => h.startsWith('00B08A00')), 'the extended read was tried first');
    assert.ok(conn.sent.includes('00A4020C02000A'), 'then SELECT 000A and short reads');
  });

  for (const readMode of ['extended', 'short'] as const) {
    it(`trims FF filler after the certificate in its EF (${readMode} reads)`, async () => {
      const { jpki } = setup({ certFiller: 300 }, { readMode });
      await jpki.open();
      await jpki.verifyPin(DEFAULT_AUTH_PIN);
      const cert = await jpki.readCertificate();
      assert.equal(cert.length, certDer.length);
      assert.deepEqual(cert, certDer);
    });
  }

  it('names keys by SELECT instead of SFI (useSfi false): more APDUs, same result', async () => {
    const { conn, jpki } = setup({}, { useSfi: false });
    await jpki.open();
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    const cert = await jpki.readCertificate();
    const { text, signature } = await signChallenge(jpki);
    assertSignatureVerifies(cert, text, signature);
    assert.deepEqual(conn.sent.map(name), ['SELECT AP', 'READ SFI 06', 'SELECT EF 0018', 'RETRY QUERY', 'SELECT EF 0018', 'RETRY QUERY', 'VERIFY', 'READ SFI 0a', 'SELECT EF 0017', 'SIGN']);
  });

  it('a card without the JPKI application (SELECT answers 6A 82) is not_jpki, and nothing else is sent', async () => {
    const { conn, jpki } = setup({}, {}, (hex) => (hex.startsWith('00A4040C') ? '6A82' : undefined));
    const e = await jpki.open().catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'not_jpki', String(e));
    assert.equal(conn.sent.length, 1);
  });

  it("a card that answers 6F 00 to the first command after power-up (a measured card's quirk) still opens", async () => {
    const { card, jpki } = setup({ firstCommandQuirk: true });
    card.powerOn();
    const info = await jpki.open();
    assert.equal(info.triesLeft, 3);
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    assert.deepEqual(await jpki.readCertificate(), certDer);
  });

  it('a PIN of the wrong format never reaches the card', async () => {
    const { card, conn, jpki } = setup();
    await jpki.open();
    const sent = conn.sent.length;
    for (const pin of ['', '123', '12345', '12a4', '１２３４', ' 1234']) {
      const e = await jpki.verifyPin(pin).catch((x: unknown) => x);
      assert.ok(e instanceof CardError && e.kind === 'pin_format', `${JSON.stringify(pin)}: ${String(e)}`);
    }
    assert.equal(conn.sent.length, sent, 'no APDU was sent');
    assert.equal(card.state.counters.auth.remaining, 3);
  });

  it('wrong PIN → wrong_pin with tries left; last try only with confirmation; a blocked card gets no VERIFY', async () => {
    const { card, conn, jpki } = setup();
    await jpki.open();
    let e = await jpki.verifyPin('0000').catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'wrong_pin' && e.triesLeft === 2, String(e));
    e = await jpki.verifyPin('0000').catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'wrong_pin' && e.triesLeft === 1, String(e));

    const verifies = () => conn.sent.filter((h) => name(h) === 'VERIFY').length;
    const before = verifies();
    e = await jpki.verifyPin(DEFAULT_AUTH_PIN).catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'last_try_needs_confirmation' && e.triesLeft === 1, String(e));
    assert.equal(verifies(), before, 'no VERIFY without confirmation');

    e = await jpki.verifyPin('0000', true).catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'blocked' && e.triesLeft === 0, String(e));
    assert.equal(card.state.counters.auth.blocked, true);
    const blockedAt = verifies();
    for (const confirm of [false, true]) {
      e = await jpki.verifyPin(DEFAULT_AUTH_PIN, confirm).catch((x: unknown) => x);
      assert.ok(e instanceof CardError && e.kind === 'blocked', String(e));
    }
    // A new session on the blocked card reads 0 tries and never sends VERIFY either.
    const fresh = new JpkiSession(conn);
    assert.equal((await fresh.open()).triesLeft, 0);
    e = await fresh.verifyPin(DEFAULT_AUTH_PIN, true).catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'blocked', String(e));
    assert.equal(verifies(), blockedAt, 'no VERIFY to a blocked card');
  });

  it('reads the counter again before VERIFY: tries spent by another program since open() still need confirmation', async () => {
    const { card, conn, jpki } = setup();
    assert.equal((await jpki.open()).triesLeft, 3);
    card.card.setTriesLeft('auth', 1); // another application typed two wrong PINs
    const e = await jpki.verifyPin('0000').catch((x: unknown) => x);
    assert.ok(e instanceof CardError && e.kind === 'last_try_needs_confirmation', String(e));
    assert.equal(conn.sent.filter((h) => name(h) === 'VERIFY').length, 0);
    assert.equal(card.state.counters.auth.remaining, 1);
  });

  it('the right PIN resets the counter to 3', async () => {
    const { card, jpki } = setup({ initialTries: { auth: 2 } });
    assert.equal((await jpki.open()).triesLeft, 2);
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    assert.equal(card.state.counters.auth.remaining, 3);
    assert.equal(await jpki.triesLeft(), 3);
  });

  it('no signature without a verified PIN (refused before any APDU)', async () => {
    const { conn, jpki } = setup();
    await jpki.open();
    const sent = conn.sent.length;
    const e = await jpki.signDigestInfo(sha256DigestInfo(Buffer.alloc(32))).catch((x: unknown) => x);
    assert.ok(e instanceof CardError, String(e));
    assert.equal(conn.sent.length, sent);
  });

  it('smartphone token: labelled as such; the certificate needs the PIN first, then reads', async () => {
    const { jpki } = setup({ smartphone: true });
    const info = await jpki.open();
    assert.deepEqual(info, { kind: 'smartphone', label: 'JPKIAPGPSETOKEN', triesLeft: 3 });
    const e = await jpki.readCertificate().catch((x: unknown) => x);
    assert.ok(e instanceof CardError, String(e));
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    assert.deepEqual(await jpki.readCertificate(), certDer);
  });

  it('a card that answers 90 00 to the retry query once verified keeps the known count', async () => {
    const { jpki } = setup({ queryAfterVerify: 'ok' });
    await jpki.open();
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    assert.equal(await jpki.triesLeft(), 3);
  });

  it('an unexpected status word surfaces as CardStatusError with the SW', async () => {
    const { jpki } = setup({}, {}, (hex) => (hex.startsWith('802A') ? '6985' : undefined));
    await jpki.open();
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    const e = (await jpki.signDigestInfo(sha256DigestInfo(Buffer.alloc(32))).catch((x: unknown) => x)) as CardStatusError;
    assert.equal(e.name, 'CardStatusError');
    assert.match(e.message, /6985|conditions/i);
  });

  it('the token hands the login exactly what the server checks', async () => {
    const { jpki } = setup();
    await jpki.open();
    await jpki.verifyPin(DEFAULT_AUTH_PIN);
    const token = jpki.asToken();
    const cert = await token.certificate();
    const text = loginSignedText('id', 'nonce');
    const sig = await token.signDigestInfo(sha256DigestInfo(createHash('sha256').update(text).digest()));
    assert.ok(cryptoVerify('sha256', text, createPublicKey(new X509Certificate(cert).publicKey.export({ format: 'pem', type: 'spki' })), sig));
  });
});
