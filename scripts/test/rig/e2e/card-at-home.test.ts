// End to end at the applicant's PC: the applicant core against the virtual My Number card through
// pcscd + vpcd, and the server's certificate checks. PIN rules (DESIGN.md, Security rules): tries
// shown before the PIN is asked, no VERIFY without a PIN just typed, the last try only after
// confirmation, a blocked card never gets a VERIFY.
import { ContractError } from '@cert/common/node';
import { CardError, type ApplicantCore } from 'desktop-applicant';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restartPcscd } from '../../../src/rig/pcscd-rig.ts';
import { startDeviceRig, type DeviceRig } from '../../../src/rig/device-rig.ts';
import { DEFAULT_AUTH_PIN, personaFromPki } from '../../../src/virtual-card/persona.ts';
import { VirtualMyNumberCard } from '../../../src/virtual-card/virtual-mynumber-card.ts';
import { Cleanups, commandName, describeStatus, isVerifyWithPin, newKiosk, pdfText, startApplicant, waitForCard, waitForReady } from './helpers.ts';

const WRONG_PIN = '9999';

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

function assertCardError(e: unknown, kind: CardError['kind'], triesLeft?: number): asserts e is CardError {
  assert.ok(e instanceof CardError, `expected a CardError ${kind}, got ${String((e as Error)?.stack ?? e)}`);
  assert.equal(e.kind, kind, e.message);
  if (triesLeft !== undefined) assert.equal(e.triesLeft, triesLeft);
}

describe('e2e: the card at the applicant PC', function () {
  this.timeout(60_000);
  let rig: DeviceRig;
  let cleanups: Cleanups;

  before(async () => {
    rig = await startDeviceRig();
  });
  beforeEach(() => {
    cleanups = new Cleanups();
  });
  afterEach(async () => {
    await cleanups.run();
  });
  after(async () => {
    await rig?.close();
  });

  /**
   * Inserts a card; the cleanup removes it and waits until `core` (through pcscd) has seen it go.
   * vpcd notices a removal only at its next presence poll (~0.4 s): a card inserted into the same
   * slot before that would look to pcscd like the old card, never removed.
   */
  const insert = async (core: ApplicantCore, spec: Parameters<DeviceRig['insertCard']>[0]) => cleanups.add(await rig.insertCard(spec), (c) => removeAndWait(core, c));
  const removeAndWait = async (core: ApplicantCore, card: { remove(): Promise<unknown> }) => {
    await card.remove();
    await waitForCard(core, (s) => s.state === 'no_card' || s.state === 'no_reader' || s.state === 'pcsc_unavailable', 'no_card', 5000);
  };

  it('wrong PIN, then the right one: tries 3 → 2 on the card and in the status, back to 3 after the login', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const card = await insert(core, { residentId: 'R0001' });
    await waitForReady(core, 3);

    assertCardError(await rejection(core.login(WRONG_PIN)), 'wrong_pin', 2);
    assert.equal(card.state.counters.auth.remaining, 2);
    await waitForReady(core, 2);
    assert.equal(core.session, null);

    const session = await core.login(DEFAULT_AUTH_PIN);
    assert.equal(session.resident.displayName, '山田 太郎');
    assert.equal(card.state.counters.auth.remaining, 3);
    await waitForReady(core, 3);
  });

  it('a login typed while the card is still being re-read after a wrong PIN waits for it', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const card = await insert(core, { residentId: 'R0001' });
    await waitForReady(core, 3);
    assertCardError(await rejection(core.login(WRONG_PIN)), 'wrong_pin', 2);
    // No wait for card_ready: the resident retypes at once.
    const session = await core.login(DEFAULT_AUTH_PIN);
    assert.equal(session.resident.displayName, '山田 太郎');
    assert.equal(card.state.counters.auth.remaining, 3);
  });

  it('a login typed while the card is being read (SELECT already sent) waits for the read; no APDUs interleave', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const card = await insert(core, { residentId: 'R0001' });
    await waitForReady(core, 3);
    // The core re-reads the card after every login; type the PIN the moment that read starts.
    const mark = card.apduLog.length;
    const login = new Promise<unknown>((resolve, reject) => {
      const onApdu = (e: { command: string }) => {
        if (commandName(e) !== 'SELECT AP') return;
        card.off('apdu', onApdu);
        core.login(DEFAULT_AUTH_PIN).then(resolve, reject);
      };
      card.on('apdu', onApdu);
    });
    assertCardError(await rejection(core.login(WRONG_PIN)), 'wrong_pin', 2);
    await login;
    const names = card.apduLog.slice(mark).map(commandName);
    assert.deepEqual(names.slice(0, 9), [
      ...['PIN retry query', 'VERIFY'], // the wrong PIN
      ...['SELECT AP', 'READ BINARY', 'PIN retry query'], // the re-read, finished first
      ...['PIN retry query', 'VERIFY', 'COMPUTE DIGITAL SIGNATURE', 'READ BINARY'], // the login
    ]);
    assert.equal(card.state.counters.auth.remaining, 3);
  });

  it('one try left: no VERIFY without the resident confirming; with confirmation the right PIN logs in', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const card = await insert(core, { residentId: 'R0001' });
    card.card.setTriesLeft('auth', 1); // before PC/SC even sees the card
    await waitForReady(core, 1);

    const mark = card.apduLog.length;
    assertCardError(await rejection(core.login(DEFAULT_AUTH_PIN)), 'last_try_needs_confirmation', 1);
    assert.equal(card.apduLog.slice(mark).filter(isVerifyWithPin).length, 0, 'no VERIFY was sent');
    assert.equal(card.state.counters.auth.remaining, 1);

    await waitForReady(core, 1);
    const session = await core.login(DEFAULT_AUTH_PIN, true);
    assert.equal(session.resident.displayName, '山田 太郎');
    assert.equal(card.state.counters.auth.remaining, 3);
  });

  it('one try left because another program spent tries after the card was read: still asks for confirmation', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const card = await insert(core, { residentId: 'R0001' });
    await waitForReady(core, 3);
    // Another application on this PC (shared PC/SC access) typed two wrong PINs meanwhile.
    card.card.setTriesLeft('auth', 1);
    const mark = card.apduLog.length;
    const e = await rejection(core.login(WRONG_PIN));
    assert.equal(card.apduLog.slice(mark).filter(isVerifyWithPin).length, 0, 'a wrong PIN must not block the card unconfirmed');
    assertCardError(e, 'last_try_needs_confirmation', 1);
    assert.equal(card.state.counters.auth.blocked, false);
  });

  it('blocked card: three wrong PINs block it; afterwards no VERIFY is ever sent, also after remove and re-insert', async () => {
    const { core } = await startApplicant(rig, cleanups);
    // A card with a state file: the counters outlive the card object, as on a real card.
    const stateFile = join(rig.work, `state-${Date.now()}.json`);
    const persona = personaFromPki(rig.pki, 'R0001');
    const card = cleanups.add(new VirtualMyNumberCard(persona, { stateFile }), (c) => removeAndWait(core, c));
    await card.insert(rig.slots[0]!.vpcdPort);
    await waitForReady(core, 3);

    assertCardError(await rejection(core.login(WRONG_PIN)), 'wrong_pin', 2);
    await waitForReady(core, 2);
    assertCardError(await rejection(core.login(WRONG_PIN)), 'wrong_pin', 1);
    await waitForReady(core, 1);
    assertCardError(await rejection(core.login(WRONG_PIN, true)), 'blocked', 0);
    assert.equal(card.state.counters.auth.blocked, true);
    await waitForReady(core, 0);

    const mark = card.apduLog.length;
    assertCardError(await rejection(core.login(DEFAULT_AUTH_PIN)), 'blocked', 0);
    await waitForReady(core, 0);
    assertCardError(await rejection(core.login(DEFAULT_AUTH_PIN, true)), 'blocked', 0);
    assert.equal(card.apduLog.slice(mark).filter(isVerifyWithPin).length, 0, 'no VERIFY to a blocked card');
    await waitForReady(core, 0);

    // Out of the reader and back, as a new card object read from the same state file.
    await removeAndWait(core, card);
    const again = cleanups.add(new VirtualMyNumberCard(persona, { stateFile }), (c) => removeAndWait(core, c));
    await again.insert(rig.slots[0]!.vpcdPort);
    await waitForReady(core, 0);
    assertCardError(await rejection(core.login(DEFAULT_AUTH_PIN, true)), 'blocked', 0);
    assert.equal(again.apduLog.filter(isVerifyWithPin).length, 0, 'no VERIFY to the re-inserted blocked card');
    assert.equal(again.state.counters.auth.blocked, true);
  });

  for (const when of ['while the card processes the VERIFY', 'right after the card answered the VERIFY'] as const) {
    it(`card removed in the middle of the login (${when}): card_removed with a clear message; re-inserted, the login works`, async () => {
      const { core } = await startApplicant(rig, cleanups);
      const card = await insert(core, { residentId: 'R0001' });
      await waitForReady(core, 3);
      let pulled: Promise<void> | null = null;
      const onApdu = (e: { command: string }) => {
        if (!isVerifyWithPin(e) || pulled) return;
        // The apdu event fires before the card writes its answer: removing now loses the answer.
        if (when === 'while the card processes the VERIFY') pulled = card.remove();
        else pulled = new Promise<void>((resolve) => setImmediate(() => void card.remove().then(resolve)));
      };
      card.on('apdu', onApdu);
      const e = await rejection(core.login(DEFAULT_AUTH_PIN));
      card.off('apdu', onApdu);
      assert.ok(pulled, 'the card saw the VERIFY');
      await pulled;
      assert.ok(e instanceof CardError, String((e as Error)?.stack ?? e));
      assert.ok(['card_removed', 'no_card'].includes(e.kind), `${e.kind}: ${e.message}`);
      assert.match(e.message, /removed/);
      assert.doesNotMatch(e.message, /0x8010|SCard/, 'no raw PC/SC codes in the message');
      assert.equal(core.session, null);
      await waitForCard(core, (s) => s.state === 'no_card', 'no_card');

      await card.insert(rig.slots[0]!.vpcdPort);
      await waitForReady(core, 3);
      assert.equal((await core.login(DEFAULT_AUTH_PIN)).resident.displayName, '山田 太郎');
    });
  }

  it('revoked and expired certificates: the server refuses the login with certificate_revoked / certificate_expired', async () => {
    const { core } = await startApplicant(rig, cleanups);
    for (const [cred, code] of [
      [rig.pki.special.revoked, 'certificate_revoked'],
      [rig.pki.special.expired, 'certificate_expired'],
    ] as const) {
      const card = await insert(core, { residentId: cred.residentId, authCredential: cred });
      await waitForReady(core, 3);
      const e = await rejection(core.login(DEFAULT_AUTH_PIN));
      assert.ok(e instanceof ContractError, `expected the server's ContractError ${code}, got ${String((e as Error)?.stack ?? e)}`);
      assert.equal(e.code, code);
      assert.equal(core.session, null);
      assert.equal(card.state.counters.auth.remaining, 3, 'the PIN itself was right');
      assert.equal(card.apduLog.filter(isVerifyWithPin).length, 1);
      await removeAndWait(core, card);
    }
  });

  it('smartphone JPKI token: shown as smartphone, the PIN comes before the certificate read, and the flow prints', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const card = await insert(core, { residentId: 'R0001', smartphone: true });
    const info = await waitForReady(core, 3);
    assert.equal(info.kind, 'smartphone');
    assert.equal(info.label, 'JPKIAPGPSETOKEN');
    const mark = card.apduLog.length;
    await core.login(DEFAULT_AUTH_PIN);
    const log = card.apduLog.slice(mark).filter((x) => commandName(x) !== 'PIN retry query');
    assert.deepEqual(log.map(commandName), ['VERIFY', 'COMPUTE DIGITAL SIGNATURE', 'READ BINARY'], 'VERIFY before the certificate read');
    assert.ok(log.every((x) => x.sw === '9000'), log.map((x) => `${commandName(x)} ${x.sw}`).join(', '));
    await core.whenConnected();
    const app = await core.apply({ certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 });
    const outcome = await newKiosk(rig, cleanups, 1).session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'printed', outcome.error);
    const doc = rig.printer.documents().find((d) => d.jobId === outcome.jobId);
    assert.ok(doc);
    assert.match(pdfText(doc.path), /山田\s*太郎/);
  });

  it('the real CLI: `virtual-mynumber-card` as its own process, login through the applicant core', async () => {
    const { core } = await startApplicant(rig, cleanups);
    const proc = cleanups.add(await rig.insertCardProcess('R0001'), (p) => removeAndWait(core, { remove: () => p.stop() }));
    const info = await waitForReady(core, 3);
    assert.equal(info.kind, 'card');
    const session = await core.login(DEFAULT_AUTH_PIN);
    assert.equal(session.resident.displayName, '山田 太郎');
    await waitForReady(core, 3);
    assert.equal(await proc.stop(), 0, `the card process exits cleanly:\n${proc.stderr()}`);
    await waitForCard(core, (s) => s.state === 'no_card', 'no_card', 5000);
  });

  it('the PC/SC monitor can be stopped at any moment, and the process still exits by itself', async () => {
    const { core } = await startApplicant(rig, cleanups);
    await insert(core, { residentId: 'R0001' });
    await waitForReady(core, 3);
    const fixture = fileURLToPath(new URL('./fixtures/monitor-churn.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.add(child, (c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = performance.now();
    const code = await new Promise<number | string | null>((resolve) => {
      const t = setTimeout(() => resolve('still running after 20 s (hung)'), 20_000);
      child.once('exit', (c, sig) => {
        clearTimeout(t);
        resolve(c ?? sig);
      });
    });
    assert.equal(code, 0, out);
    assert.match(out, /done/);
    assert.ok(performance.now() - t0 < 20_000);
  });

  // Last: it restarts the rig's pcscd.
  it('pcscd restarts under the running core: the status drops, then recovers to card_ready by itself', async () => {
    const { core, statuses } = await startApplicant(rig, cleanups);
    await insert(core, { residentId: 'R0001' });
    await waitForReady(core, 3);
    const mark = statuses.length;
    const t0 = performance.now();
    await restartPcscd();
    await waitForCard(core, (s) => ['pcsc_unavailable', 'no_reader', 'no_card'].includes(s.state), 'pcsc_unavailable/no_reader', 10_000);
    await waitForReady(core, 3, 10_000);
    const recoveredMs = performance.now() - t0;
    const path = statuses.slice(mark).map(describeStatus);
    console.log(`      pcscd restart → card_ready again in ${recoveredMs.toFixed(0)} ms (${path.join(' → ')})`);
    assert.ok(recoveredMs < 10_000);
    // The recovered context works for a login.
    assert.equal((await core.login(DEFAULT_AUTH_PIN)).resident.displayName, '山田 太郎');
  });
});
