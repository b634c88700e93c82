// The virtual card through the real middleware: pcscd + vsmartcard vpcd + npm pcsclite, the CLI process, OpenSC.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants, createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  JPKI_EF,
  MYNA_ATR,
  computeDigitalSignature,
  encodeCommandApdu,
  encodePin,
  parseResponseApdu,
  readBinary,
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
import { leaseReaderSlots, type ReaderSlot, type ReaderSlotLease } from '../../../src/rig/pcscd-rig.ts';
import { CARD_BIN, cardArgsFromPki, personaFromPki, startCardProcess, VirtualMyNumberCard, type CardPersona, type CardProcess } from '../../../src/virtual-card/index.ts';
import { PcscHarness } from './pcsc-harness.ts';

const run = promisify(execFile);

let manifest: TestPkiManifest;
let persona: CardPersona;
let lease: ReaderSlotLease | undefined;
let pcsc: PcscHarness | undefined;
let slotA: ReaderSlot;
let slotB: ReaderSlot;
const cards: VirtualMyNumberCard[] = [];
const processes: CardProcess[] = [];
const tmpDirs: string[] = [];

/** Figures collected by the tests, printed at the end. */
const report: Record<string, unknown> = {};

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, meanMs: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(3), medianMs: +q(0.5).toFixed(3), p95Ms: +q(0.95).toFixed(3), maxMs: +s[s.length - 1]!.toFixed(3) };
}

async function insertCard(slot: ReaderSlot, options: ConstructorParameters<typeof VirtualMyNumberCard>[1] = {}): Promise<VirtualMyNumberCard> {
  const card = new VirtualMyNumberCard(persona, options);
  cards.push(card);
  await card.insert(slot.vpcdPort, slot.vpcdHost);
  return card;
}

/** Sends a builder-made APDU through PC/SC. */
async function send(slot: ReaderSlot, cmd: CommandApdu | Uint8Array, maxResponse = 258): Promise<ResponseApdu> {
  const bytes = cmd instanceof Uint8Array ? cmd : encodeCommandApdu(cmd);
  return parseResponseApdu(await pcsc!.transmit(slot.readerName, bytes, maxResponse));
}

const sha256Di = (msg: string) => sha256DigestInfo(new Uint8Array(createHash('sha256').update(msg).digest()));

describe('virtual card through pcscd + vpcd + pcsclite', function () {
  this.timeout(60_000);

  before(async function () {
    this.timeout(180_000);
    manifest = await ensureTestPki();
    persona = personaFromPki(manifest, Object.keys(manifest.residents)[0]!);
    lease = await leaseReaderSlots(2);
    [slotA, slotB] = lease.slots as [ReaderSlot, ReaderSlot];
    report.pcscdStartupMs = Math.round(lease.pcscd.startupMs);
    report.slots = lease.slots.map((s) => `${s.readerName} ← 127.0.0.1:${s.vpcdPort}`);
    pcsc = PcscHarness.open();
    await pcsc.waitForReader(slotA.readerName);
    await pcsc.waitForReader(slotB.readerName);
  });

  afterEach(async () => {
    for (const name of [slotA?.readerName, slotB?.readerName]) {
      if (name && pcsc?.isConnected(name)) await pcsc.disconnect(name, 'leave').catch(() => undefined);
    }
    await Promise.all(cards.splice(0).map((c) => c.remove()));
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    // let pcscd notice the removals before the next test inserts again
    if (pcsc && slotA) await pcsc.waitForCard(slotA.readerName, false).catch(() => undefined);
    if (pcsc && slotB) await pcsc.waitForCard(slotB.readerName, false).catch(() => undefined);
  });

  after(async () => {
    await pcsc?.close();
    pcsc = undefined;
    await Promise.all(cards.splice(0).map((c) => c.remove()));
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    await lease?.release();
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
    console.log(`      virtual card / PC/SC figures:\n${JSON.stringify(report, null, 2).replace(/^/gm, '        ')}`);
  });

  it('shows the rig readers in PC/SC, empty', async () => {
    assert.equal(pcsc!.errors.length, 0);
    const s = await pcsc!.waitForCard(slotA.readerName, false);
    assert.ok(s.state & 0x10, 'SCARD_STATE_EMPTY');
  });

  it('insert → present with the ATR; T=1; SELECT/READ/VERIFY/SIGN; remove → card removed', async () => {
    const t0 = performance.now();
    const card = await insertCard(slotA);
    const tAccepted = performance.now();
    const present = await pcsc!.waitForCard(slotA.readerName, true);
    report.insertToPresentMs = Math.round(present.at - t0);
    report.tcpConnectToVpcdAcceptMs = Math.round(tAccepted - t0);
    assert.equal(toHex(present.atr!), toHex(MYNA_ATR.CONTACT));
    // vpcd's first poll asks for the ATR (presence), then pcscd powers the card up and reads the ATR again.
    const controls = card.controlLog.map((c) => c.control);
    assert.equal(controls[0], 'get-atr');
    assert.ok(controls.includes('power-on'), controls.join());
    report.controlsAfterInsert = controls.slice(0, 4).join(', ');

    const protocol = await pcsc!.connect(slotA.readerName);
    assert.equal(protocol, pcsc!.reader(slotA.readerName).SCARD_PROTOCOL_T1);
    assert.equal((await send(slotA, selectDf())).sw, 0x9000);
    assert.equal((await send(slotA, selectEf(JPKI_EF.AUTH_CERT))).sw, 0x9000);
    const head = await send(slotA, readBinary(0, 4));
    assert.equal(tlvTotalLength(head.data), persona.auth.certDer.length);
    assert.equal((await send(slotA, selectEf(JPKI_EF.AUTH_PIN))).sw, 0x9000);
    assert.equal((await send(slotA, verifyRetryQuery())).sw, 0x63c3);
    assert.equal((await send(slotA, verify(encodePin(persona.authPin)))).sw, 0x9000);
    assert.equal((await send(slotA, selectEf(JPKI_EF.AUTH_KEY))).sw, 0x9000);
    const sig = await send(slotA, computeDigitalSignature(sha256Di('hello')));
    assert.equal(sig.sw, 0x9000);
    const key = new X509Certificate(persona.auth.certDer).publicKey;
    assert.equal(cryptoVerify('sha256', Buffer.from('hello'), { key, padding: constants.RSA_PKCS1_PADDING }, sig.data), true);

    const tRemove = performance.now();
    await card.remove();
    const gone = await pcsc!.waitForCard(slotA.readerName, false);
    report.removeToEmptyMs = Math.round(gone.at - tRemove);
    await assert.rejects(send(slotA, selectDf()), 'transmit after removal fails');
  });

  it('measures APDU round trips and the minimal login sequence', async () => {
    const card = await insertCard(slotA);
    await pcsc!.waitForCard(slotA.readerName, true);
    await pcsc!.connect(slotA.readerName);
    await send(slotA, selectDf());
    const rtt: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      assert.equal((await send(slotA, selectEf(JPKI_EF.AUTH_CERT))).sw, 0x9000);
      rtt.push(performance.now() - t);
    }
    report.selectEfRoundTrip = stats(rtt);
    const readRtt: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      assert.equal((await send(slotA, readBinary(0, 256))).data.length, 256);
      readRtt.push(performance.now() - t);
    }
    report.read256RoundTrip = stats(readRtt);

    // Minimal login: SELECT AP, SELECT 0018, query, VERIFY, SELECT 000A, READ (7-byte header, then ≤256-byte chunks), SELECT 0017, SIGN.
    card.clearLog();
    const t0 = performance.now();
    const step = async (cmd: CommandApdu, expectSw = 0x9000) => {
      const r = await send(slotA, cmd);
      assert.equal(r.sw, expectSw, toHex(encodeCommandApdu(cmd)));
      return r;
    };
    await step(selectDf());
    await step(selectEf(JPKI_EF.AUTH_PIN));
    await step(verifyRetryQuery(), 0x63c3);
    await step(verify(encodePin(persona.authPin)));
    await step(selectEf(JPKI_EF.AUTH_CERT));
    const head = await step(readBinary(0, 7));
    const total = tlvTotalLength(head.data)!;
    const parts = [head.data];
    for (let off = 7; off < total; ) {
      const r = await step(readBinary(off, Math.min(256, total - off)));
      parts.push(r.data);
      off += r.data.length;
    }
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), persona.auth.certDer);
    await step(selectEf(JPKI_EF.AUTH_KEY));
    const sig = await step(computeDigitalSignature(sha256Di('login')));
    const ms = performance.now() - t0;
    assert.equal(sig.data.length, 256);
    report.minimalLogin = {
      certificateBytes: total,
      apdus: card.apduLog.length,
      apdusBreakdown: `2 SELECT + query + VERIFY + SELECT + ${parts.length} READ + SELECT + SIGN`,
      totalMs: Math.round(ms),
      cardTimeMs: +card.apduLog.reduce((a, e) => a + e.ms, 0).toFixed(1),
      signInCardMs: +card.apduLog[card.apduLog.length - 1]!.ms.toFixed(2),
    };
    assert.equal(card.apduLog.length, 7 + parts.length);
  });

  it('passes an extended-length READ BINARY (whole certificate in one APDU) through pcsc-lite and vpcd', async () => {
    await insertCard(slotA);
    await pcsc!.waitForCard(slotA.readerName, true);
    await pcsc!.connect(slotA.readerName);
    await send(slotA, selectDf());
    await send(slotA, selectEf(JPKI_EF.AUTH_CERT));
    const der = persona.auth.certDer;
    const t = performance.now();
    const all = await send(slotA, { cla: 0, ins: 0xb0, p1: 0, p2: 0, ne: 65536 }, 65538);
    report.extendedReadWholeCertMs = +(performance.now() - t).toFixed(2);
    assert.equal(all.sw, 0x9000);
    assert.deepEqual(all.data, der);
  });

  it('keeps the security status over SCardDisconnect LEAVE and RESET; UNPOWER clears it', async () => {
    const card = await insertCard(slotA);
    const name = slotA.readerName;
    await pcsc!.waitForCard(name, true);
    const loginThenDisconnect = async (disposition: 'leave' | 'reset' | 'unpower') => {
      await pcsc!.connect(name);
      await send(slotA, selectDf());
      assert.equal((await send(slotA, verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN))).sw, 0x9000);
      await pcsc!.disconnect(name, disposition);
      await pcsc!.connect(name);
      const r = await send(slotA, computeDigitalSignature(sha256Di('x'), 0x97));
      await pcsc!.disconnect(name, 'leave');
      return r.sw;
    };
    card.clearLog();
    assert.equal(await loginThenDisconnect('leave'), 0x9000, 'LEAVE_CARD: same session continues');
    assert.equal(await loginThenDisconnect('reset'), 0x9000, 'RESET_CARD: warm reset keeps the status (MC)');
    assert.ok(card.controlLog.some((c) => c.control === 'warm-reset'));
    const unpowered = await loginThenDisconnect('unpower');
    assert.ok(card.controlLog.some((c) => c.control === 'power-off'));
    // After the power cycle no AP is selected: the key reference 97 is not found (and re-selecting the AP would clear the status anyway).
    assert.equal(unpowered, 0x6a88, 'UNPOWER_CARD: power cycle → selection and security status gone');
    report.disconnectDispositions = { leave: 'status kept', reset: 'vpcd 02 (warm reset), status kept', unpower: 'vpcd 00 then 01: status and selection cleared' };
  });

  it('pcscd powers an idle card down shortly after the last client disconnects (the PIN must be re-verified)', async () => {
    const card = await insertCard(slotA);
    const name = slotA.readerName;
    await pcsc!.waitForCard(name, true);
    await pcsc!.connect(name);
    await send(slotA, selectDf());
    assert.equal((await send(slotA, verify(encodePin(persona.authPin), JPKI_EF.AUTH_PIN))).sw, 0x9000);
    card.clearLog();
    const t0 = Date.now();
    await pcsc!.disconnect(name, 'leave');
    await card.nextControl('power-off', 5000);
    report.idlePowerOffAfterDisconnectMs = Date.now() - t0;
    await pcsc!.connect(name);
    assert.equal(card.controlLog.map((c) => c.control).filter((c) => c !== 'get-atr').join(), 'power-off,power-on');
    assert.equal((await send(slotA, computeDigitalSignature(sha256Di('x'), 0x97))).sw, 0x6a88, 'cold card: no AP selected');
  });

  it('the CLI prints "inserted", serves PC/SC clients and removes the card on SIGTERM (exit 0)', async () => {
    const proc = await startCardProcess(slotB.vpcdPort, cardArgsFromPki(manifest, Object.keys(manifest.residents)[0]!));
    processes.push(proc);
    const present = await pcsc!.waitForCard(slotB.readerName, true);
    assert.equal(toHex(present.atr!), toHex(MYNA_ATR.CONTACT));
    await pcsc!.connect(slotB.readerName);
    assert.equal((await send(slotB, selectDf())).sw, 0x9000);
    await pcsc!.disconnect(slotB.readerName, 'leave');
    const code = await proc.stop();
    assert.equal(code, 0, proc.stderr());
    await pcsc!.waitForCard(slotB.readerName, false);
  });

  it('the CLI keeps a blocked PIN blocked across restarts (--state-file), with --atr and --pin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcard-it-'));
    tmpDirs.push(dir);
    const stateFile = join(dir, 'state.json');
    const args = [...cardArgsFromPki(manifest, Object.keys(manifest.residents)[0]!), '--state-file', stateFile, '--pin', '4321', '--atr', 'contactless'];
    const first = await startCardProcess(slotB.vpcdPort, args);
    processes.push(first);
    const s = await pcsc!.waitForCard(slotB.readerName, true);
    assert.equal(toHex(s.atr!), toHex(MYNA_ATR.CONTACTLESS));
    await pcsc!.connect(slotB.readerName);
    await send(slotB, selectDf());
    await send(slotB, selectEf(JPKI_EF.AUTH_PIN));
    assert.equal((await send(slotB, verify(encodePin('1234')))).sw, 0x63c2); // the default PIN is not this card's
    assert.equal((await send(slotB, verify(encodePin('1111')))).sw, 0x63c1);
    assert.equal((await send(slotB, verify(encodePin('2222')))).sw, 0x63c0);
    await pcsc!.disconnect(slotB.readerName, 'leave');
    assert.equal(await first.stop(), 0);
    assert.equal((JSON.parse(readFileSync(stateFile, 'utf8')) as { counters: { auth: { remaining: number } } }).counters.auth.remaining, 0);
    await pcsc!.waitForCard(slotB.readerName, false);

    const second = await startCardProcess(slotB.vpcdPort, args);
    processes.push(second);
    await pcsc!.waitForCard(slotB.readerName, true);
    await pcsc!.connect(slotB.readerName);
    await send(slotB, selectDf());
    await send(slotB, selectEf(JPKI_EF.AUTH_PIN));
    assert.equal((await send(slotB, verifyRetryQuery())).sw, 0x63c0);
    assert.equal((await send(slotB, verify(encodePin('4321')))).sw, 0x6984);
  });

  it('keeps counters when the same card object is removed and inserted again', async () => {
    const card = await insertCard(slotA);
    await pcsc!.waitForCard(slotA.readerName, true);
    await pcsc!.connect(slotA.readerName);
    await send(slotA, selectDf());
    assert.equal((await send(slotA, verify(encodePin('0000'), JPKI_EF.AUTH_PIN))).sw, 0x63c2);
    await pcsc!.disconnect(slotA.readerName, 'leave');
    await card.remove();
    await pcsc!.waitForCard(slotA.readerName, false);
    await card.insert(slotA.vpcdPort);
    await pcsc!.waitForCard(slotA.readerName, true);
    await pcsc!.connect(slotA.readerName);
    await send(slotA, selectDf());
    assert.equal((await send(slotA, verifyRetryQuery(JPKI_EF.AUTH_PIN))).sw, 0x63c2);
  });

  it('the CLI rejects bad arguments with exit code 2', async () => {
    await assert.rejects(run(CARD_BIN, ['--auth-cert', 'x']), (err: { code?: number; stderr?: string }) => err.code === 2 && /--vpcd-port is required/.test(err.stderr ?? ''));
  });

  it('two cards in two slots at once are independent', async () => {
    const other = personaFromPki(manifest, Object.keys(manifest.residents)[1]!);
    const a = await insertCard(slotA);
    const b = new VirtualMyNumberCard(other);
    cards.push(b);
    await b.insert(slotB.vpcdPort);
    await pcsc!.waitForCard(slotA.readerName, true);
    await pcsc!.waitForCard(slotB.readerName, true);
    await pcsc!.connect(slotA.readerName);
    await pcsc!.connect(slotB.readerName);
    await send(slotA, selectDf());
    await send(slotB, selectDf());
    const certHead = async (slot: ReaderSlot) => {
      await send(slot, selectEf(JPKI_EF.AUTH_CERT));
      return toHex((await send(slot, readBinary(0, 256))).data);
    };
    assert.equal(await certHead(slotA), toHex(persona.auth.certDer.subarray(0, 256)));
    assert.equal(await certHead(slotB), toHex(other.auth.certDer.subarray(0, 256)));
    assert.ok(a.apduLog.length > 0 && b.apduLog.length > 0);
  });

  describe('OpenSC', () => {
    const opensc = async (cmd: string, args: string[]) => {
      try {
        const r = await run(cmd, args, { timeout: 30_000 });
        return `${r.stdout}${r.stderr}`;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        return `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`;
      }
    };

    it('recognises the card as JPKI by ATR, lists PINs with tries left, signs through PKCS#11', async function () {
      const card = await insertCard(slotA);
      await pcsc!.waitForCard(slotA.readerName, true);
      const name = await opensc('opensc-tool', ['-r', slotA.readerName, '-n']);
      report.openscCardName = name.trim();
      assert.match(name, /^jpki$/m);

      const apdus = await opensc('opensc-tool', ['-r', slotA.readerName, '-s', '00A4040C0AD392F000260100000001', '-s', '00A4020C020018', '-s', '00200080']);
      assert.match(apdus, /SW1=0x63, SW2=0xC3/);

      const dump = await opensc('pkcs15-tool', ['-r', slotA.readerName, '-D']);
      assert.match(dump, /PKCS#15 Card \[JPKI\]/);
      assert.match(dump, /User Authentication PIN[\s\S]*?Tries left\s*: 3/);
      assert.match(dump, /Digital Signature PIN[\s\S]*?Tries left\s*: 5/);
      assert.match(dump, /X\.509 Certificate \[User Authentication Certificate\]/);

      const dir = mkdtempSync(join(tmpdir(), 'vcard-p11-'));
      tmpDirs.push(dir);
      writeFileSync(join(dir, 'msg'), 'signed by OpenSC');
      card.clearLog();
      const t = performance.now();
      const out = await opensc('pkcs11-tool', [
        '--module', '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', '--token-label', 'JPKI (User Authentication PIN)',
        '--login', '--pin', persona.authPin, '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', join(dir, 'msg'), '-o', join(dir, 'sig'),
      ]);
      report.openscPkcs11Sign = { ms: Math.round(performance.now() - t), apdus: card.apduLog.length };
      const sig = readFileSync(join(dir, 'sig'));
      const key = new X509Certificate(persona.auth.certDer).publicKey;
      assert.equal(cryptoVerify('sha256', Buffer.from('signed by OpenSC'), { key, padding: constants.RSA_PKCS1_PADDING }, sig), true, out);
      assert.ok(card.apduLog.some((e) => e.command.startsWith('802A0080') && e.sw === '9000'));
    });

    it('with a contactless ATR (not in its table) OpenSC still finds the card by SELECTing the JPKI AID', async () => {
      const card = await insertCard(slotA, { atr: MYNA_ATR.CONTACTLESS });
      await pcsc!.waitForCard(slotA.readerName, true);
      const name = await opensc('opensc-tool', ['-r', slotA.readerName, '-n']);
      report.openscCardNameContactlessAtr = name.trim();
      assert.match(name, /^jpki$/m);
      assert.ok(card.apduLog.some((e) => e.command === '00A4040C0AD392F000260100000001'));
      report.openscProbesBeforeJpki = card.apduLog.findIndex((e) => e.command === '00A4040C0AD392F000260100000001');
    });
  });
});
