import { formatReceiptNumber, generateReceiptNumber, type IssuanceStatus, type IssuanceStatusResponse } from '@cert/common';
import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IppPrinter } from '../../src/core/ipp-printer.ts';
import { KioskApi } from '../../src/core/kiosk-api.ts';
import { KioskBusyError, KioskSession, type KioskProgress, type KioskSessionOptions } from '../../src/core/kiosk-session.ts';
import { startIssuanceRig, type IssuanceRig } from './helpers/issuance-rig.ts';

/** The real kiosk client, recording the documents it handed out (to check they get zeroed). */
class RecordingApi extends KioskApi {
  readonly documents: Buffer[] = [];
  starts = 0;
  /** Called once each long-poll request has gone out. */
  onLongPoll = () => {};
  override async start(receiptNumber: string) {
    this.starts++;
    return super.start(receiptNumber);
  }
  override issuance(issuanceId: string, waitMs: number, since?: IssuanceStatus, signal?: AbortSignal): Promise<IssuanceStatusResponse> {
    const answer = super.issuance(issuanceId, waitMs, since, signal);
    if (waitMs > 0) this.onLongPoll();
    return answer;
  }
  override async document(issuanceId: string): Promise<Buffer> {
    const pdf = await super.document(issuanceId);
    this.documents.push(pdf);
    return pdf;
  }
}

function pdfText(path: string): string {
  const r = spawnSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('kiosk session against a real server and ippeveprinter', function () {
  this.timeout(60_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let api: RecordingApi;
  let printer: IppPrinter;
  const sessions: KioskSession[] = [];

  const newSession = (options: KioskSessionOptions = {}, kiosk = 0) => {
    api = new RecordingApi(rig.endpoint, rig.kiosks[kiosk]!.credential);
    const s = new KioskSession(api, printer, { jobPollIntervalMs: 50, retryDelayMs: 100, ...options });
    sessions.push(s);
    return s;
  };
  const record = (s: KioskSession) => {
    const events: KioskProgress[] = [];
    s.on('progress', (p) => events.push(p));
    return events;
  };
  const serverStatus = (issuanceId: string) => api.status(issuanceId, 0);

  before(async () => {
    [rig, vp] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Session Test' })]);
    printer = new IppPrinter(vp.uri, { requestTimeoutMs: 5000 });
  });
  after(async () => {
    for (const s of sessions) s.cancel();
    await Promise.allSettled([rig?.close(), vp?.stop()]);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.error(vp.log().slice(-3000));
    rig.answer = () => 'approve';
    await vp.clearFaults();
  });

  it('happy path: typed with spaces and hyphens, approved on the device, printed, reported, document zeroed', async () => {
    const app = await rig.apply();
    const typed = ` ${formatReceiptNumber(app.receiptNumber).replace('-', ' ')} `;
    const session = newSession();
    const events = record(session);
    const before = vp.documents().length;
    const t0 = performance.now();
    const outcome = await session.issue(typed);
    const elapsed = performance.now() - t0;

    assert.equal(outcome.status, 'printed', outcome.error);
    assert.equal(outcome.receiptNumber, app.receiptNumber);
    assert.ok(outcome.issuanceId);
    assert.ok(outcome.jobId && outcome.jobId > 0);
    assert.equal(rig.requests.at(-1)?.receiptNumber, app.receiptNumber);

    // The printer received exactly one document: the certificate of 山田 太郎.
    const docs = vp.documents();
    assert.equal(docs.length, before + 1);
    const doc = docs.at(-1)!;
    assert.equal(doc.jobId, outcome.jobId);
    assert.match(doc.name, /^certificate-/);
    assert.ok(!doc.name.includes(app.receiptNumber), 'the job name must not carry the receipt number');
    const text = pdfText(doc.path);
    assert.match(text, /山田\s*太郎/);

    // The server recorded the print, and the application is done.
    assert.equal(await serverStatus(outcome.issuanceId!), 'printed');
    assert.equal(await rig.applicationStatus(app.applicationId), 'printed');

    // The kiosk's copy of the certificate is gone from memory.
    assert.equal(api.documents.length, 1);
    assert.ok(api.documents[0]!.length > 1000);
    assert.ok(api.documents[0]!.every((b) => b === 0), 'the document buffer must be zeroed after the job');

    const phases = events.filter((e) => e.kind === 'phase').map((e) => (e as { phase: string }).phase);
    assert.deepEqual(phases, ['checking_printer', 'claiming', 'awaiting_confirmation', 'checking_printer', 'fetching_document', 'printing', 'reporting', 'idle']);
    const statuses = events.filter((e) => e.kind === 'issuance-status').map((e) => (e as { status: string }).status);
    assert.deepEqual(statuses, ['confirmation_pending', 'approved', 'printed']);
    assert.ok(events.some((e) => e.kind === 'job' && e.job.state === 'completed'));
    assert.equal(events.at(-1)?.kind, 'outcome');
    console.log(`      (receipt to printed: ${elapsed.toFixed(0)} ms)`);
  });

  it('declined on the device: nothing printed, the application can be printed later', async () => {
    const app = await rig.apply();
    rig.answer = () => 'decline';
    const session = newSession();
    const before = vp.documents().length;
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'declined');
    assert.equal(outcome.jobId, undefined);
    assert.equal(vp.documents().length, before);
    assert.equal(api.documents.length, 0);
    assert.equal(await serverStatus(outcome.issuanceId!), 'declined');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('a mistyped receipt number never reaches the server', async () => {
    let requests = 0;
    const counter: Server = createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => counter.listen(0, '127.0.0.1', r));
    try {
      const s = new KioskSession(new KioskApi({ baseUrl: `http://127.0.0.1:${(counter.address() as AddressInfo).port}` }, 'x'), printer);
      const good = generateReceiptNumber();
      const swapped = good.slice(0, 3) + good[4] + good[3] + good.slice(5);
      const cases: [string, string][] = [
        [good.slice(0, 11) + String((Number(good[11]) + 1) % 10), 'check_digit'],
        ...(swapped !== good ? [[swapped, 'check_digit'] as [string, string]] : []),
        ['1234-5678-901', 'too_short'],
        ['1234-5678-9012-3', 'too_long'],
        ['1234-5678-90AB', 'not_digits'],
        ['', 'too_short'],
      ];
      for (const [input, problem] of cases) {
        const o = await s.issue(input);
        assert.equal(o.status, 'receipt_malformed', input);
        assert.equal(o.receiptProblem, problem, input);
        assert.ok(o.error);
      }
      assert.equal(requests, 0);
    } finally {
      counter.close();
    }
  });

  it('an unknown receipt number is receipt_not_found', async () => {
    const outcome = await newSession().issue(generateReceiptNumber());
    assert.equal(outcome.status, 'receipt_not_found');
    assert.equal(outcome.issuanceId, undefined);
  });

  it('a printer that is not ready stops the kiosk before it claims the receipt', async () => {
    const app = await rig.apply();
    await vp.emptyMedia();
    const session = newSession();
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'printer_unavailable');
    assert.equal(outcome.printer, 'media-empty');
    assert.match(outcome.error!, /out of paper/);
    assert.equal(api.starts, 0);
    assert.equal(rig.requests.filter((r) => r.receiptNumber === app.receiptNumber).length, 0, 'the applicant must not be asked');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('a printer fault after approval: reported failed before the document is fetched', async () => {
    const app = await rig.apply();
    rig.answer = (req) => {
      // The tray runs empty while the resident looks at the phone; then the resident approves.
      void vp.emptyMedia().then(() => rig.socket.respond(req.requestId, true));
      return 'ignore';
    };
    const session = newSession();
    const before = vp.documents().length;
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'print_failed');
    assert.equal(outcome.printer, 'media-empty');
    assert.match(outcome.error!, /printer not ready/);
    assert.equal(api.documents.length, 0, 'the document must not be fetched for a printer that cannot print');
    assert.equal(vp.documents().length, before);
    assert.equal(await serverStatus(outcome.issuanceId!), 'print_failed');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('media-empty during the job: reported failed, then after paper is loaded the same receipt prints', async () => {
    const app = await rig.apply();
    vp.setMode('media-empty');
    const first = newSession();
    const failed = await first.issue(app.receiptNumber);
    assert.equal(failed.status, 'print_failed', failed.error);
    assert.equal(failed.printer, 'media-empty');
    assert.match(failed.error!, /out of paper/i);
    assert.ok(failed.jobId);
    assert.equal(await serverStatus(failed.issuanceId!), 'print_failed');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    assert.ok(api.documents[0]!.every((b) => b === 0), 'zeroed after a failed job too');
    assert.equal((await printer.status()).condition, 'media-empty');

    await vp.clearMedia();
    const second = newSession();
    const printed = await second.issue(app.receiptNumber);
    assert.equal(printed.status, 'printed', printed.error);
    assert.notEqual(printed.issuanceId, failed.issuanceId);
    assert.ok(printed.jobId! > failed.jobId!);
    assert.equal(await rig.applicationStatus(app.applicationId), 'printed');
    const doc = vp.documents().find((d) => d.jobId === printed.jobId);
    assert.ok(doc);
    assert.match(pdfText(doc.path), /山田\s*太郎/);
  });

  it('no answer within the server confirmation timeout: expired', async function () {
    const quick = await startIssuanceRig({ confirmationTimeoutMs: 1500, sweepIntervalMs: 200 });
    try {
      const app = await quick.apply();
      quick.answer = () => 'ignore';
      const kioskApi = new KioskApi(quick.endpoint, quick.kiosks[0]!.credential);
      const session = new KioskSession(kioskApi, printer, { longPollMs: 1000 });
      const outcome = await session.issue(app.receiptNumber);
      assert.equal(outcome.status, 'expired');
      assert.equal(await kioskApi.status(outcome.issuanceId!, 0), 'expired');
      assert.equal(await quick.applicationStatus(app.applicationId), 'submitted');
    } finally {
      await quick.close();
    }
  });

  it('no answer within the kiosk decision timeout: the kiosk abandons', async () => {
    const app = await rig.apply();
    rig.answer = () => 'ignore';
    const session = newSession({ decisionTimeoutMs: 1200, longPollMs: 500 });
    const t0 = Date.now();
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'abandoned');
    assert.match(outcome.error!, /no answer from the applicant/);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(await serverStatus(outcome.issuanceId!), 'abandoned');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('the resident walks away while waiting: cancel abandons at once', async () => {
    const app = await rig.apply();
    rig.answer = () => 'ignore';
    const session = newSession();
    api.onLongPoll = () => session.cancel();
    const t0 = Date.now();
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'abandoned');
    assert.ok(Date.now() - t0 < 3000, 'the long-poll must be interrupted');
    assert.equal(await serverStatus(outcome.issuanceId!), 'abandoned');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('the resident walks away while the job runs: the job is canceled and the issuance abandoned', async () => {
    const app = await rig.apply();
    vp.setMode('delay:2');
    const session = newSession();
    session.on('progress', (p) => {
      if (p.kind === 'job' && p.job.state === 'processing') session.cancel();
    });
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'abandoned', outcome.error);
    assert.ok(outcome.jobId);
    assert.match(outcome.error!, /job canceled/);
    assert.ok(api.documents[0]!.every((b) => b === 0));
    assert.equal(await serverStatus(outcome.issuanceId!), 'abandoned');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('one receipt at a time per kiosk; another kiosk gets issuance_in_progress', async () => {
    const app = await rig.apply();
    rig.answer = () => 'ignore';
    const first = newSession({}, 0);
    const claimed = new Promise<void>((resolve) => first.on('progress', (p) => p.kind === 'phase' && p.phase === 'awaiting_confirmation' && resolve()));
    const pending = first.issue(app.receiptNumber);
    await claimed;
    await assert.rejects(first.issue(app.receiptNumber), KioskBusyError);
    const other = await newSession({}, 1).issue(app.receiptNumber);
    assert.equal(other.status, 'issuance_in_progress');
    first.cancel();
    assert.equal((await pending).status, 'abandoned');
  });
});
