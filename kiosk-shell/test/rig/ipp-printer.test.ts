import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IppPrinter, PrinterError, type JobStatus } from '../../src/core/ipp-printer.ts';
import { tinyPdf } from './helpers/tiny-pdf.ts';

/** Polls the printer until it reports `state` (IPP offers no push here); fails after 5 s. */
async function untilPrinterState(printer: IppPrinter, state: string, pollMs = 100): Promise<void> {
  const deadline = Date.now() + 5000;
  for (let s = await printer.status(); s.state !== state; s = await printer.status()) {
    if (Date.now() > deadline) throw new Error(`the printer is still ${s.state}, not ${state}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

describe('IppPrinter against ippeveprinter', function () {
  this.timeout(30_000);
  let vp: VirtualPrinter;
  let printer: IppPrinter;
  const pdf = () => tinyPdf('IPP test page');

  before(async () => {
    vp = await startVirtualPrinter({ name: 'IPP Module Test' });
    printer = new IppPrinter(vp.uri, { requestTimeoutMs: 5000 });
  });
  after(async () => {
    await vp?.stop();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && vp) console.error(vp.log().slice(-3000));
    await vp.clearFaults();
  });

  it('reports an idle printer as ready', async () => {
    const s = await printer.status();
    assert.equal(s.condition, 'ready', s.message);
    assert.equal(s.state, 'idle');
    assert.equal(s.acceptingJobs, true);
  });

  it('prints a PDF: the job completes and the printer keeps the very bytes sent', async () => {
    const doc = pdf();
    const seen: JobStatus[] = [];
    const r = await printer.print(Buffer.from(doc), { jobName: 'module-test', timeoutMs: 10_000, pollIntervalMs: 50, onProgress: (j) => seen.push(j) });
    assert.equal(r.state, 'completed');
    assert.ok(r.jobId > 0);
    assert.equal(seen.at(-1)?.state, 'completed');
    const docs = vp.documents();
    const kept = docs.find((d) => d.jobId === r.jobId);
    assert.ok(kept, `spool has ${JSON.stringify(docs)}`);
    assert.equal(kept.name, 'module-test');
    assert.deepEqual(readFileSync(kept.path), doc);
    console.log(`      (Print-Job to completed: ${r.elapsedMs} ms)`);
  });

  it('media-empty during the job: the job is aborted, the printer reads media-empty, and clearMedia makes it ready again', async () => {
    vp.setMode('media-empty');
    await assert.rejects(printer.print(pdf(), { jobName: 'paper-out', timeoutMs: 10_000, pollIntervalMs: 50 }), (e: unknown) => {
      assert.ok(e instanceof PrinterError);
      assert.equal(e.code, 'job_failed');
      assert.equal(e.details.jobState, 'aborted');
      assert.equal(e.details.condition, 'media-empty');
      assert.match(e.message, /out of paper/i);
      assert.ok(e.jobId && e.jobId > 0);
      return true;
    });
    const s = await printer.status();
    assert.equal(s.condition, 'media-empty');
    assert.equal(s.ready, false);
    await vp.clearMedia();
    assert.equal((await printer.status()).condition, 'ready');
    // Paper loaded: the next job prints.
    const r = await printer.print(pdf(), { jobName: 'after-refill', timeoutMs: 10_000, pollIntervalMs: 50 });
    assert.equal(r.state, 'completed');
  });

  it('a jam aborts the job and stays until cleared', async () => {
    vp.setMode('media-jam');
    await assert.rejects(printer.print(pdf(), { jobName: 'jam', timeoutMs: 10_000, pollIntervalMs: 50 }), (e: unknown) => {
      assert.ok(e instanceof PrinterError);
      assert.equal(e.details.condition, 'media-jam');
      return true;
    });
    assert.equal((await printer.status()).condition, 'media-jam');
    await vp.clearFaults();
    assert.equal((await printer.status()).condition, 'ready');
  });

  it('a job sent to an empty tray hangs in processing: the kiosk cancels it on its fault tolerance', async () => {
    await vp.emptyMedia();
    assert.equal((await printer.status()).condition, 'media-empty');
    const started = Date.now();
    await assert.rejects(printer.print(pdf(), { jobName: 'stuck', timeoutMs: 20_000, faultToleranceMs: 800, pollIntervalMs: 50 }), (e: unknown) => {
      assert.ok(e instanceof PrinterError);
      assert.equal(e.code, 'job_failed');
      assert.equal(e.details.condition, 'media-empty');
      assert.match(e.message, /stalled in processing; canceled/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });

  it('times out a slow job and cancels it', async () => {
    vp.setMode('delay:2');
    await assert.rejects(printer.print(pdf(), { jobName: 'slow', timeoutMs: 500, pollIntervalMs: 50 }), (e: unknown) => {
      assert.ok(e instanceof PrinterError);
      assert.equal(e.code, 'job_timeout');
      assert.equal(e.details.jobState, 'processing');
      return true;
    });
    // The print command still runs to its end; wait for the printer to go idle before the next test.
    await untilPrinterState(printer, 'idle');
  });

  it('cancels the job when the kiosk aborts', async () => {
    vp.setMode('delay:1');
    const ac = new AbortController();
    // The resident walks away once the job is printing.
    const onProgress = (job: JobStatus) => job.state === 'processing' && ac.abort();
    await assert.rejects(printer.print(pdf(), { jobName: 'walked-away', timeoutMs: 10_000, pollIntervalMs: 50, signal: ac.signal, onProgress }), (e: unknown) => {
      assert.ok(e instanceof PrinterError);
      assert.equal(e.code, 'job_cancelled');
      assert.ok(e.jobId);
      return true;
    });
    await untilPrinterState(printer, 'idle');
  });

  it('a job sent while another is printing waits for it (ippeveprinter answers server-error-busy instead of queueing)', async () => {
    vp.setMode('delay:1');
    const first = printer.print(pdf(), { jobName: 'first', timeoutMs: 10_000, pollIntervalMs: 50 }).then((r) => ({ r, at: Date.now() }));
    // Send the second job only once the first one is being printed (both take a second).
    await untilPrinterState(printer, 'processing', 20);
    const second = await printer.print(pdf(), { jobName: 'second', timeoutMs: 10_000, pollIntervalMs: 50 });
    const secondAt = Date.now();
    const { r: r1, at: firstAt } = await first;
    assert.equal(r1.state, 'completed');
    assert.equal(second.state, 'completed');
    assert.ok(second.jobId > r1.jobId);
    assert.ok(firstAt <= secondAt, 'the second job completed only after the first one');
    assert.ok(second.elapsedMs >= 1000, `the second job should have waited for the first (${second.elapsedMs} ms)`);
    vp.setMode('ok');
  });

  it('reports an unreachable printer as offline, and refuses to print there', async () => {
    const gone = new IppPrinter('ipp://localhost:1/ipp/print', { requestTimeoutMs: 2000 });
    const s = await gone.status();
    assert.equal(s.condition, 'offline');
    assert.match(s.message, /ECONNREFUSED/);
    await assert.rejects(gone.print(pdf(), { jobName: 'x' }), (e: unknown) => e instanceof PrinterError && e.code === 'printer_unreachable');
  });
});
