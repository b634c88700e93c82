// End to end through the real middleware and devices: pcscd + vpcd + the virtual My Number card,
// the issuance server, ippeveprinter. The applicant core (desktop-applicant) and the kiosk core
// (kiosk-shell) are driven exactly as the two apps drive them.
import type { ApplicantCore } from 'desktop-applicant';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Application } from '@cert/common';
import { startDeviceRig, type DeviceRig } from '../../../src/rig/device-rig.ts';
import { DEFAULT_AUTH_PIN } from '../../../src/virtual-card/persona.ts';
import type { VirtualMyNumberCard } from '../../../src/virtual-card/virtual-mynumber-card.ts';
import { Cleanups, commandName, newKiosk, pdfText, serverStatus, startApplicant, waitForReady, type TestApplicant } from './helpers.ts';

const HOUSEHOLD = { certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 } as const;

describe('e2e: apply with the card at home, print at a kiosk', function () {
  this.timeout(60_000);
  const cleanups = new Cleanups();
  let rig: DeviceRig;
  let applicant: TestApplicant;
  let core: ApplicantCore;
  let card: VirtualMyNumberCard;

  before(async () => {
    rig = await startDeviceRig();
    applicant = await startApplicant(rig, cleanups);
    core = applicant.core;
    card = cleanups.add(await rig.insertCard({ residentId: 'R0001' }), (c) => c.remove());
    await waitForReady(core);
  });
  after(async () => {
    await cleanups.run();
    await rig?.close();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.error(rig.printer.log().slice(-2000));
    applicant.answer = 'approve';
    await rig.printer.clearFaults();
  });

  /** Logs in with the right PIN unless a test before did. */
  async function loggedIn(): Promise<void> {
    if (core.session) return;
    await waitForReady(core);
    await core.login(DEFAULT_AUTH_PIN);
    await core.whenConnected();
  }

  /** Resolves when the core's receipt store holds `status` for the application (pushed over the socket). */
  function storedStatus(applicationId: string, status: string, timeoutMs = 5000): Promise<void> {
    const has = () => core.receipts.all().some((r) => r.applicationId === applicationId && r.status === status);
    if (has()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        core.off('receipts', on);
        reject(new Error(`the stored receipt never became ${status}: ${JSON.stringify(core.receipts.all().find((r) => r.applicationId === applicationId))}`));
      }, timeoutMs);
      const on = () => {
        if (!has()) return;
        clearTimeout(t);
        core.off('receipts', on);
        resolve();
      };
      core.on('receipts', on);
    });
  }

  it('happy path C1–C4: PIN on the card, card-signed login, household 住民票, approval on the device, printed', async () => {
    // C1: the card's tries are shown before the PIN is asked for.
    const info = await waitForReady(core, 3);
    assert.equal(info.kind, 'card');

    // C1 + C4: PIN verified by the card, then the card-signed login.
    const mark = card.apduLog.length;
    const t0 = performance.now();
    const session = await core.login(DEFAULT_AUTH_PIN);
    const loginMs = performance.now() - t0;
    const loginApdus = card.apduLog.slice(mark);
    assert.equal(session.resident.displayName, '山田 太郎');
    const names = loginApdus.map(commandName);
    // The counter again (it may have changed since the card was read), the PIN; then the login
    // signs the server's challenge and reads the certificate (keys and EFs named by SFI: no SELECTs).
    assert.deepEqual(names, ['PIN retry query', 'VERIFY', 'COMPUTE DIGITAL SIGNATURE', 'READ BINARY'], 'login APDUs');
    assert.equal(loginApdus[0]!.sw, '63C3', 'the retry query answers 63 C3: 3 tries');
    assert.ok(loginApdus.slice(1).every((e) => e.sw === '9000'));
    const cardSpan = loginApdus.at(-1)!.at - loginApdus[0]!.at;
    console.log(
      `      login through PC/SC: ${loginApdus.length} APDUs (${names.join(', ')}); ${loginMs.toFixed(0)} ms wall for core.login() ` +
        `(challenge, card, server checks); ${cardSpan} ms from the first to the last APDU reaching the card`,
    );
    await core.whenConnected();

    // C1: the application is stored under a receipt number, and the device keeps it (0600).
    const app = await core.apply(HOUSEHOLD);
    assert.equal(app.status, 'submitted');
    assert.match(app.receiptNumber, /^\d{12}$/);
    const stored = core.receipts.all().find((r) => r.applicationId === app.applicationId);
    assert.ok(stored, 'receipt kept on the device');
    assert.equal(stored.receiptNumber, app.receiptNumber);
    assert.equal(stored.serverUrl, new URL(rig.serverUrl).origin);
    assert.equal(statSync(join(applicant.dataDir, 'receipts.json')).mode & 0o777, 0o600);

    // C2 + C3: the kiosk types the number; the device is asked, approves; the kiosk prints.
    const before = rig.printer.documents().length;
    const { session: kiosk, progress } = newKiosk(rig, cleanups, 0);
    const outcome = await kiosk.issue(app.receiptNumber);
    assert.equal(outcome.status, 'printed', outcome.error);
    assert.equal(applicant.requests.length, 1, 'one confirmation request reached the device');
    const req = applicant.requests[0]!;
    assert.equal(req.applicationId, app.applicationId);
    assert.equal(req.receiptNumber, app.receiptNumber);
    assert.equal(req.kiosk.name, rig.kiosks[0]!.name);
    // C3: approval came before the document left the server.
    const statuses = progress.flatMap((p) => (p.kind === 'issuance-status' ? [p.status] : []));
    assert.deepEqual(statuses, ['confirmation_pending', 'approved', 'printed']);

    // What the printer received.
    const docs = rig.printer.documents();
    assert.equal(docs.length, before + 1);
    const doc = docs.find((d) => d.jobId === outcome.jobId);
    assert.ok(doc, `job ${outcome.jobId} is in the spool`);
    const text = pdfText(doc.path);
    assert.match(text, /住民票の写し/);
    assert.match(text, /山田\s*太郎/);
    assert.match(text, /山田\s*花子/);

    // The server and the device agree: printed.
    assert.equal(await serverStatus(core, app.applicationId), 'printed');
    await storedStatus(app.applicationId, 'printed');
  });

  it('declined on the device: the kiosk ends declined, nothing printed, the receipt stays printable', async () => {
    await loggedIn();
    const app = await core.apply(HOUSEHOLD);
    applicant.answer = 'decline';
    const before = rig.printer.documents().length;
    const { session: kiosk } = newKiosk(rig, cleanups, 0);
    const outcome = await kiosk.issue(app.receiptNumber);
    assert.equal(outcome.status, 'declined', outcome.error);
    assert.equal(outcome.jobId, undefined);
    assert.equal(rig.printer.documents().length, before, 'nothing printed');
    assert.equal(await serverStatus(core, app.applicationId), 'submitted');
  });

  it('printer out of paper during the job: the kiosk claims nothing it cannot see; once the printer ends the job, the outcome is reported and the SAME receipt prints again', async () => {
    await loggedIn();
    const app = await core.apply(HOUSEHOLD);
    // The job runs for a while; the paper runs out while it is processing (ippeveprinter then keeps
    // the job in `processing`: the kiosk must give up on its own fault tolerance).
    rig.printer.setMode('delay:3');
    const first = newKiosk(rig, cleanups, 0, { printerFaultToleranceMs: 800 });
    let emptied: Promise<void> | null = null;
    first.session.on('progress', (p) => {
      if (p.kind === 'job' && p.job.state === 'processing' && !emptied) emptied = rig.printer.emptyMedia();
    });
    const before = rig.printer.documents().length;
    const stalled = await first.session.issue(app.receiptNumber);
    assert.ok(emptied, 'the job was seen processing');
    await emptied;
    // The job was canceled, but the printer still shows it processing: paper could yet come out,
    // so the kiosk reports nothing and the receipt stays held.
    assert.equal(stalled.status, 'outcome_unknown', stalled.error);
    assert.match(stalled.error ?? '', /out of paper/);
    assert.ok(stalled.jobId);
    assert.equal(await first.api.status(stalled.issuanceId!, 0), 'delivered');
    assert.equal(await serverStatus(core, app.applicationId), 'in_issuance', 'not printable elsewhere while the paper may exist');

    // Staff load paper: the printer ends the canceled job, and the kiosk's journal reports what it saw.
    await rig.printer.clearFaults();
    // The server's long-poll answers as soon as the attempt leaves `delivered`.
    assert.equal(await first.api.status(stalled.issuanceId!, 25_000, 'delivered'), 'print_failed', 'the canceled job printed nothing');
    assert.equal(await serverStatus(core, app.applicationId), 'submitted', 'the receipt is printable again');

    const second = newKiosk(rig, cleanups, 1);
    const printed = await second.session.issue(app.receiptNumber);
    assert.equal(printed.status, 'printed', printed.error);
    assert.notEqual(printed.issuanceId, stalled.issuanceId);
    assert.equal(await serverStatus(core, app.applicationId), 'printed');
    const doc = rig.printer.documents().find((d) => d.jobId === printed.jobId);
    assert.ok(doc, 'the second job is in the spool');
    assert.ok(rig.printer.documents().length > before);
    assert.match(pdfText(doc.path), /山田\s*太郎/);
    assert.equal(applicant.requests.filter((r) => r.applicationId === app.applicationId).length, 2, 'the device was asked once per attempt');
  });

  it('two kiosks race for one receipt: exactly one prints, the other gets issuance_in_progress', async () => {
    await loggedIn();
    const app = await core.apply(HOUSEHOLD);
    const before = rig.printer.documents().length;
    const [a, b] = await Promise.all([newKiosk(rig, cleanups, 0).session.issue(app.receiptNumber), newKiosk(rig, cleanups, 1).session.issue(app.receiptNumber)]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, ['issuance_in_progress', 'printed'], `${a.status}: ${a.error ?? ''} / ${b.status}: ${b.error ?? ''}`);
    assert.equal(rig.printer.documents().length, before + 1, 'printed once');
    assert.equal(await serverStatus(core, app.applicationId), 'printed');
    // Printed is final: a third kiosk cannot even find it.
    assert.equal((await newKiosk(rig, cleanups, 0).session.issue(app.receiptNumber)).status, 'receipt_not_found');
  });
});

describe('e2e: the applicant does not answer the print confirmation', function () {
  this.timeout(60_000);
  const cleanups = new Cleanups();
  let rig: DeviceRig;

  before(async () => {
    rig = await startDeviceRig({ serverConfig: { confirmationTimeoutMs: 1500, sweepIntervalMs: 200 } });
  });
  after(async () => {
    await cleanups.run();
    await rig?.close();
  });

  it('the server expires the attempt: kiosk outcome expired, application submitted again, nothing printed', async () => {
    const applicant = await startApplicant(rig, cleanups);
    const core = applicant.core;
    cleanups.add(await rig.insertCard({ residentId: 'R0001' }), (c) => c.remove());
    await waitForReady(core, 3);
    await core.login(DEFAULT_AUTH_PIN);
    await core.whenConnected();
    const app: Application = await core.apply(HOUSEHOLD);
    applicant.answer = 'ignore';
    const before = rig.printer.documents().length;
    const { session: kiosk, api } = newKiosk(rig, cleanups, 0, { longPollMs: 1000 });
    const t0 = Date.now();
    const outcome = await kiosk.issue(app.receiptNumber);
    assert.equal(outcome.status, 'expired', outcome.error);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(applicant.requests.length, 1, 'the request reached the device (and was ignored)');
    assert.equal(await api.status(outcome.issuanceId!, 0), 'expired');
    assert.equal(await serverStatus(core, app.applicationId), 'submitted');
    assert.equal(rig.printer.documents().length, before);
    // The request is closed on the device too: a late approval cannot print anything.
    assert.equal(core.pendingConfirmations().length, 0);
  });
});
