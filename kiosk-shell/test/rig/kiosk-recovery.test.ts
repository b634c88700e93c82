// The print journal across crashes: the installed headless kiosk as a real process (killed with
// SIGKILL at the worst moments and started again on the same state directory), the real server,
// ippeveprinter with its faults, and the real admin CLI for what only staff can settle.
import type { Application } from '@cert/common';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_BIN } from '@cert/scripts/rig';
import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import { IppPrinter } from '../../src/core/ipp-printer.ts';
import { KioskApi } from '../../src/core/kiosk-api.ts';
import { journalEntrySchema, type JournalEntry } from '../../src/core/print-journal.ts';
import { startHeadlessKiosk, type HeadlessKiosk } from './helpers/headless-kiosk.ts';
import { startIssuanceRig, type IssuanceRig } from './helpers/issuance-rig.ts';
import { startServerGate, type ServerGate } from './helpers/server-gate.ts';
import { tinyPdf } from './helpers/tiny-pdf.ts';

/** The journal's entries in a state directory. */
function journal(stateDir: string): JournalEntry[] {
  const dir = join(stateDir, 'journal');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => journalEntrySchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8'))));
}

/** Polls `probe` until it returns a value or `timeoutMs` passes (for states another process changes). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the server's admin CLI; resolves with its exit code and output. */
function admin(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SERVER_BIN, ['admin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('kiosk print journal across crashes (headless processes, real server, ippeveprinter, admin CLI)', function () {
  this.timeout(120_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let gate: ServerGate;
  let work: string;
  let credFile: string;
  const kiosks: HeadlessKiosk[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const startKiosk = (stateDir: string, server: string, printerUri: string, extra: string[] = []) => {
    const k = startHeadlessKiosk(['--server', server, '--credential-file', credFile, '--printer', printerUri, '--payment', 'free', '--state-dir', stateDir, '--print-timeout-seconds', '30', ...extra]);
    kiosks.push(k);
    return k;
  };
  const kill = async (k: HeadlessKiosk) => {
    k.child.kill('SIGKILL');
    assert.equal(await k.exited, 'SIGKILL');
  };
  const finish = async (k: HeadlessKiosk) => {
    k.child.stdin!.end();
    assert.equal(await k.exited, 0, k.stderr());
  };
  const kioskApi = (r: IssuanceRig) => new KioskApi(r.endpoint, r.kiosks[0]!.credential);

  /**
   * A kiosk prints `app` until the printer holds the job (its tray ran empty between the
   * printer check and the job), and is killed there. Returns the journal's entry.
   */
  const holdJobAndKill = async (r: IssuanceRig, g: ServerGate, app: Application, stateDir: string, printer: VirtualPrinter): Promise<JournalEntry> => {
    // The document's answer is held so that the tray can be emptied after the kiosk checked the printer.
    g.rule = (_m, path) => (path.endsWith('/document') ? 'hold' : 'pass');
    const k = startKiosk(stateDir, g.url, printer.uri);
    k.send(app.receiptNumber);
    await g.whenHeld();
    await printer.emptyMedia();
    g.rule = () => 'pass';
    g.release();
    await k.log(/job \d+: (pending|processing)/);
    await kill(k);
    const entries = journal(stateDir);
    assert.equal(entries.length, 1, JSON.stringify(entries));
    const entry = entries[0]!;
    assert.equal(entry.phase, 'printing');
    assert.equal(entry.receiptNumber, app.receiptNumber);
    assert.ok(entry.jobId);
    assert.ok(['pending', 'processing'].includes((await new IppPrinter(printer.uri).job(entry.jobId)).state), 'the printer still holds the job');
    // Nothing was reported (a rig with a short print timeout may have ended it outcome_unknown already).
    assert.ok(['delivered', 'outcome_unknown'].includes(await kioskApi(r).status(entry.issuanceId, 0)));
    return entry;
  };

  before(async () => {
    [rig, vp] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Recovery Test' })]);
    gate = await startServerGate(rig.endpoint.baseUrl);
    work = mkdtempSync(join(tmpdir(), 'kiosk-recovery-'));
    credFile = join(work, 'credential');
    writeFileSync(credFile, `${rig.kiosks[0]!.credential}\n`, { mode: 0o600 });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const k of kiosks) console.error(`kiosk log:\n${k.stderr().slice(-4000)}`);
    await Promise.all(
      kiosks.splice(0).map(async (k) => {
        if (k.child.exitCode === null && k.child.signalCode === null) k.child.kill('SIGKILL');
        await k.exited;
      }),
    );
    gate.rule = () => 'pass';
    gate.release();
    await vp.clearFaults();
  });
  after(async () => {
    await Promise.allSettled([...cleanups.map((c) => c()), gate?.close(), rig?.close(), vp?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('killed after Print-Job while the printer holds the job: restarted on the same state directory, it reports printed once the job completes', async () => {
    const app = await rig.apply();
    const stateDir = join(work, 'held');
    const entry = await holdJobAndKill(rig, gate, app, stateDir, vp);
    const t0 = performance.now();

    const again = startKiosk(stateDir, rig.endpoint.baseUrl, vp.uri);
    await again.log(/still running at the printer; watching it/);
    assert.equal(await rig.applicationStatus(app.applicationId), 'in_issuance', 'nothing reported while the job runs');
    await vp.clearMedia();
    const line = await again.line((l) => l.reconciled === true && l.issuanceId === entry.issuanceId, 'the reconciled line');
    assert.equal(line.status, 'printed');
    assert.equal(line.jobId, entry.jobId);
    assert.equal(line.receiptNumber, app.receiptNumber);
    assert.equal(await rig.applicationStatus(app.applicationId), 'printed');
    assert.deepEqual(journal(stateDir), [], 'the entry goes once the server acknowledged');
    assert.ok(vp.documents().some((d) => d.jobId === entry.jobId), 'the printer printed that job');
    await finish(again);
    console.log(`      (restart to reported printed: ${(performance.now() - t0).toFixed(0)} ms)`);
  });

  it('killed after Print-Job, then the printer aborts the job: the restarted kiosk reports failed and the receipt can be printed again', async () => {
    const app = await rig.apply();
    const stateDir = join(work, 'aborted');
    const entry = await holdJobAndKill(rig, gate, app, stateDir, vp);
    vp.setMode('fail');
    await vp.clearMedia();
    const printer = new IppPrinter(vp.uri);
    await eventually('the printer to abort the job', async () => ((await printer.job(entry.jobId!)).state === 'aborted' ? true : undefined));

    const again = startKiosk(stateDir, rig.endpoint.baseUrl, vp.uri);
    const line = await again.line((l) => l.reconciled === true && l.issuanceId === entry.issuanceId, 'the reconciled line');
    assert.equal(line.status, 'print_failed');
    assert.match(line.error!, /aborted/);
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    assert.deepEqual(journal(stateDir), []);
    vp.setMode('ok');
    again.send(app.receiptNumber);
    const printed = await again.line((l) => !l.reconciled && l.receiptNumber === app.receiptNumber, 'the second try');
    assert.equal(printed.status, 'printed', printed.error);
    await finish(again);
  });

  it('killed before Print-Job (the server handed the document out, its answer never arrived): the restarted kiosk reports failed and the receipt prints again', async () => {
    const app = await rig.apply();
    const stateDir = join(work, 'before-print');
    gate.rule = (_m, path) => (path.endsWith('/document') ? 'hold' : 'pass');
    const k = startKiosk(stateDir, gate.url, vp.uri);
    k.send(app.receiptNumber);
    await gate.whenHeld();
    const [entry] = journal(stateDir);
    assert.equal(entry?.phase, 'fetching', 'journaled before the document was fetched');
    await kill(k);
    assert.equal(await kioskApi(rig).status(entry.issuanceId, 0), 'delivered');
    const before = vp.documents().length;

    const again = startKiosk(stateDir, rig.endpoint.baseUrl, vp.uri);
    const line = await again.line((l) => l.reconciled === true, 'the reconciled line');
    assert.equal(line.issuanceId, entry.issuanceId);
    assert.equal(line.status, 'print_failed');
    assert.match(line.error!, /nothing was printed/);
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    assert.deepEqual(journal(stateDir), []);
    assert.equal(vp.documents().length, before, 'nothing reached the printer');

    again.send(app.receiptNumber);
    const printed = await again.line((l) => !l.reconciled && l.receiptNumber === app.receiptNumber, 'the second try');
    assert.equal(printed.status, 'printed', printed.error);
    assert.equal(await rig.applicationStatus(app.applicationId), 'printed');
    await finish(again);
  });

  it('the server is unreachable when the result is reported: printed_unreported, and reported once the server is back', async () => {
    const app = await rig.apply();
    const stateDir = join(work, 'unreachable');
    gate.rule = (method, path) => (method === 'POST' && path.endsWith('/result') ? 'refuse' : 'pass');
    const k = startKiosk(stateDir, gate.url, vp.uri, ['--recheck-seconds', '2']);
    k.send(app.receiptNumber);
    const first = await k.line((l) => !l.reconciled, 'the outcome');
    assert.equal(first.status, 'printed_unreported', first.error);
    assert.match(first.error!, /the server has not been told yet/);
    const [entry] = journal(stateDir);
    assert.equal(entry?.phase, 'reporting');
    assert.equal(entry.phase === 'reporting' && entry.outcome, 'printed');
    assert.equal(await rig.applicationStatus(app.applicationId), 'in_issuance');
    assert.ok(gate.refused >= 4, `the session tried ${gate.refused} times`);

    // Another receipt is served meanwhile: an outcome known and only unreported does not hold the printer.
    const other = await rig.apply();
    k.send(other.receiptNumber);
    const second = await k.line((l) => !l.reconciled && l.receiptNumber === other.receiptNumber, 'the other receipt');
    assert.equal(second.status, 'printed_unreported', second.error);

    gate.rule = () => 'pass';
    for (const a of [app, other]) {
      const line = await k.line((l) => l.reconciled === true && l.receiptNumber === a.receiptNumber, 'the late report');
      assert.equal(line.status, 'printed');
      assert.equal(await rig.applicationStatus(a.applicationId), 'printed');
    }
    assert.deepEqual(journal(stateDir), []);
    await finish(k);
  });

  it('the printer no longer knows the job: nothing is reported, the entry waits for staff, the server ends outcome_unknown; staff settle with the admin CLI and the kiosk lets go', async () => {
    const quick = await startIssuanceRig({ printTimeoutMs: 4000, sweepIntervalMs: 200 });
    cleanups.push(() => quick.close());
    const quickGate = await startServerGate(quick.endpoint.baseUrl);
    cleanups.push(() => quickGate.close());
    const first = await startVirtualPrinter({ name: 'Kiosk Recovery Lost' });
    cleanups.push(() => first.stop());
    const credQuick = join(work, 'credential-quick');
    writeFileSync(credQuick, `${quick.kiosks[0]!.credential}\n`, { mode: 0o600 });
    credFile = credQuick;
    try {
      const app = await quick.apply();
      const stateDir = join(work, 'lost');
      const entry = await holdJobAndKill(quick, quickGate, app, stateDir, first);

      // The printer restarts with an empty job list and numbers jobs from 1 again: the journaled
      // job id now names somebody else's job.
      await first.stop();
      const restarted = await startVirtualPrinter({ name: 'Kiosk Recovery Restarted' });
      cleanups.push(() => restarted.stop());
      const ipp = new IppPrinter(restarted.uri);
      for (let id = 0; id < entry.jobId!; ) id = await ipp.submit(tinyPdf('someone else'), 'someone-elses-job');

      const again = startKiosk(stateDir, quick.endpoint.baseUrl, restarted.uri, ['--recheck-seconds', '1']);
      const line = await again.line((l) => l.reconciled === true, 'the staff line');
      assert.equal(line.status, 'needs_staff');
      assert.match(line.error!, new RegExp(`does not know job ${entry.jobId}`));
      const [kept] = journal(stateDir);
      assert.equal(kept?.phase, 'needs_staff', 'kept for staff');
      assert.match(again.stderr(), /STAFF CHECK NEEDED/);

      const api = kioskApi(quick);
      await eventually('outcome_unknown', async () => ((await api.status(entry.issuanceId, 0)) === 'outcome_unknown' ? true : undefined));
      assert.equal(await quick.applicationStatus(app.applicationId), 'outcome_unknown');
      assert.ok(!again.lines.some((l) => l.status === 'print_failed' || l.status === 'printed'), 'nothing was claimed without evidence');

      const listed = await admin(['--data-dir', quick.dataDir, 'issuances', 'unsettled']);
      assert.equal(listed.code, 0, listed.out);
      assert.match(listed.out, new RegExp(`${entry.issuanceId}\\treceipt ${app.receiptNumber}`));
      const settled = await admin(['--data-dir', quick.dataDir, 'issuances', 'settle', entry.issuanceId, 'not-printed', '--note', 'store found no paper']);
      assert.equal(settled.code, 0, settled.out);
      assert.match(settled.out, /settled: print_failed/);

      const gone = await again.line((l) => l.reconciled === true && l.status !== 'needs_staff', 'the kiosk to see the settlement');
      assert.equal(gone.status, 'print_failed');
      assert.deepEqual(journal(stateDir), []);
      assert.equal(await quick.applicationStatus(app.applicationId), 'submitted');
      await finish(again);
    } finally {
      credFile = join(work, 'credential');
    }
  });
});
