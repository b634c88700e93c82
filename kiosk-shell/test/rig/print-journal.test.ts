// The print journal on disk and its reconciler's rules, in process: every row of the table in
// print-reconciler.ts against the real server and ippeveprinter (the crash scenarios with real
// processes are in kiosk-recovery.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import { IppPrinter } from '../../src/core/ipp-printer.ts';
import { KioskApi } from '../../src/core/kiosk-api.ts';
import { KioskSession } from '../../src/core/kiosk-session.ts';
import { advance, firstEntry, withPayment, type JournalEntry } from '../../src/core/print-journal.ts';
import { PrintReconciler, type ReconcileEvent } from '../../src/core/print-reconciler.ts';
import { JournalDirectory } from '../../src/state/journal-directory.ts';
import { openStateDir, StateDirError } from '../../src/state/state-dir.ts';
import { startIssuanceRig, type IssuanceRig } from './helpers/issuance-rig.ts';

describe('print journal on disk', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'kiosk-journal-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('one file per issuance, schema-checked JSON without the document or the resident, replaced atomically, mode 0600', () => {
    const dir = new JournalDirectory(work);
    const entry = firstEntry('3f2b1c4d-0000-4000-8000-000000000001', '123456789012');
    dir.write(entry);
    dir.write(advance(entry, { phase: 'submitting' }));
    const printing = advance(advance(entry, { phase: 'submitting' }), { phase: 'printing', jobId: 7 });
    dir.write(printing);
    assert.deepEqual(readdirSync(dir.dir), [`${entry.issuanceId}.json`], 'no temporary file is left');
    const file = join(dir.dir, `${entry.issuanceId}.json`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(onDisk).sort(), ['createdAt', 'issuanceId', 'jobId', 'jobName', 'phase', 'receiptNumber', 'updatedAt', 'v']);
    assert.equal(onDisk['phase'], 'printing');
    assert.match(String(onDisk['jobName']), /^certificate-3f2b1c4d-[0-9a-f]{8}$/);
    assert.deepEqual(new JournalDirectory(work).list(), [printing], 'a new process reads the same entry');
    dir.remove(entry.issuanceId);
    dir.remove(entry.issuanceId);
    assert.deepEqual(dir.list(), []);
  });

  it('a write cut short leaves the previous entry; a file that is not an entry is kept for staff and skipped', () => {
    const dir = new JournalDirectory(work);
    const entry = firstEntry('a1', '123456789012');
    dir.write(entry);
    // What a crash between write and rename leaves behind.
    writeFileSync(join(dir.dir, 'a1.json.tmp'), '{"v":1,"issuanceId":"a1","pha');
    writeFileSync(join(dir.dir, 'b2.json'), 'not json');
    const lines: string[] = [];
    const reopened = new JournalDirectory(work, (l) => lines.push(l));
    assert.deepEqual(reopened.list(), [entry]);
    assert.ok(!existsSync(join(dir.dir, 'a1.json.tmp')));
    assert.ok(existsSync(join(dir.dir, 'b2.json')), 'never deleted');
    assert.match(lines.join('\n'), /b2\.json is not a journal entry.*left for staff/);
  });

  it('refuses entries that could carry anything but ids: unknown fields, path-like ids, a phase without its fields', () => {
    const dir = new JournalDirectory(work);
    const entry = firstEntry('a1', '123456789012');
    assert.throws(() => dir.write({ ...entry, pdf: 'JVBERi0=' } as unknown as JournalEntry));
    assert.throws(() => dir.write({ ...entry, issuanceId: '../escape' }));
    assert.throws(() => dir.write({ ...entry, phase: 'printing' } as JournalEntry));
    assert.deepEqual(readdirSync(dir.dir), []);
  });

  it('one kiosk per state directory: a second one is refused with a clear message; a dead holder is taken over', () => {
    const state = openStateDir(join(work, 'state'));
    assert.throws(() => openStateDir(join(work, 'state')), (e: unknown) => e instanceof StateDirError && /another kiosk \(process \d+\) is using the state directory/.test(e.message));
    state.release();
    openStateDir(join(work, 'state')).release();
    // A kiosk killed with SIGKILL leaves its lock behind: a process id that no longer runs.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(work, 'state', 'kiosk.lock'), `${dead.stdout}\n`);
    const taken = openStateDir(join(work, 'state'));
    assert.equal(readFileSync(join(work, 'state', 'kiosk.lock'), 'utf8').trim(), String(process.pid));
    taken.release();
    assert.ok(!existsSync(join(work, 'state', 'kiosk.lock')));
  });

  it('a state directory that cannot be written is refused up front', () => {
    writeFileSync(join(work, 'file'), '');
    assert.throws(() => openStateDir(join(work, 'file', 'state')), (e: unknown) => e instanceof StateDirError && /cannot create the state directory .*ENOTDIR/.test(e.message));
  });
});

describe('print reconciler rules against the real server and ippeveprinter', function () {
  this.timeout(60_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let api: KioskApi;
  let ipp: IppPrinter;
  let work: string;
  let dir: JournalDirectory;
  let reconciler: PrintReconciler;
  let events: ReconcileEvent[];

  /** An issuance approved on the device and delivered to this kiosk, with its first journal entry. */
  const delivered = async () => {
    const app = await rig.apply();
    const { issuanceId } = await api.start(app.receiptNumber);
    for (let s = await api.status(issuanceId, 10_000, 'confirmation_pending'); s !== 'approved'; s = await api.status(issuanceId, 10_000, s)) {
      assert.equal(s, 'confirmation_pending');
    }
    const pdf = await api.document(issuanceId);
    return { app, issuanceId, pdf, entry: firstEntry(issuanceId, app.receiptNumber) };
  };
  /** Sends the job the way the session does and waits for the printer to end it. */
  const printed = async (pdf: Buffer, jobName: string) => {
    const jobId = await ipp.submit(pdf, jobName);
    await ipp.waitForJob(jobId, { pollIntervalMs: 50 }).catch(() => undefined);
    return jobId;
  };
  const settle = async (entry: JournalEntry) => {
    dir.write(entry);
    await reconciler.pass();
    return events.filter((e) => e.kind !== 'waiting' && e.kind !== 'watching' && 'entry' in e && e.entry.issuanceId === entry.issuanceId);
  };

  before(async () => {
    [rig, vp] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Journal Rules Test' })]);
    api = new KioskApi(rig.endpoint, rig.kiosks[0]!.credential);
    ipp = new IppPrinter(vp.uri, { requestTimeoutMs: 5000 });
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'kiosk-rules-'));
    dir = new JournalDirectory(work);
    reconciler = new PrintReconciler(dir, api, ipp, { pollIntervalMs: 50, retryDelayMs: 100, faultToleranceMs: 2000 });
    events = [];
    reconciler.on('event', (e) => events.push(e));
  });
  afterEach(async () => {
    await reconciler.stop();
    rmSync(work, { recursive: true, force: true });
    await vp.clearFaults();
  });
  after(async () => {
    await Promise.allSettled([rig?.close(), vp?.stop()]);
  });

  it('fetching (no Print-Job sent): failed, without asking the printer; the receipt is printable again', async () => {
    const { app, entry } = await delivered();
    const [e] = await settle(entry);
    assert.equal(e?.kind, 'reported');
    assert.equal(e.kind === 'reported' && e.status, 'print_failed');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    assert.deepEqual(dir.list(), []);
  });

  it('submitting, and the printer has a completed job of that name: printed (and the job id is learnt)', async () => {
    const { app, pdf, entry } = await delivered();
    const submitting = advance(entry, { phase: 'submitting' });
    const jobId = await printed(pdf, submitting.jobName);
    const [e] = await settle(submitting);
    assert.equal(e?.kind, 'reported');
    assert.equal(e.kind === 'reported' && e.entry.jobId, jobId);
    assert.equal(await rig.applicationStatus(app.applicationId), 'printed');
  });

  it('submitting, and the printer knows no job of that name: nothing reported, kept for staff', async () => {
    const { app, entry } = await delivered();
    const [e] = await settle(advance(entry, { phase: 'submitting' }));
    assert.equal(e?.kind, 'needs-staff');
    assert.match(e.kind === 'needs-staff' ? e.why : '', /has no job|does not know a job named/);
    assert.equal(dir.list()[0]?.phase, 'needs_staff');
    assert.equal(await rig.applicationStatus(app.applicationId), 'in_issuance');
    assert.equal(reconciler.recovering, false, 'a staff entry does not hold the printer');
    assert.deepEqual(reconciler.view().staffChecks.map((c) => c.jobName), [entry.jobName]);
  });

  it('printing, job aborted by the printer: failed', async () => {
    const { app, pdf, entry } = await delivered();
    vp.setMode('toner-empty');
    const jobId = await printed(pdf, entry.jobName);
    const [e] = await settle(advance(advance(entry, { phase: 'submitting' }), { phase: 'printing', jobId }));
    assert.equal(e?.kind, 'reported');
    assert.match(e.kind === 'reported' ? e.entry.detail : '', new RegExp(`job ${jobId} aborted`));
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('printing, and the job id now names another job (the printer restarted): nothing reported, kept for staff', async () => {
    const { entry } = await delivered();
    const otherId = await printed(Buffer.from('%PDF-1.4\n%%EOF\n'), 'someone-elses-job');
    const [e] = await settle(advance(advance(entry, { phase: 'submitting' }), { phase: 'printing', jobId: otherId }));
    assert.equal(e?.kind, 'needs-staff');
    assert.match(e.kind === 'needs-staff' ? e.why : '', new RegExp(`does not know job ${otherId}`));
  });

  it('printing, printer not answering: nothing reported, the entry holds the printer and is tried again with back-off', async () => {
    const { app, pdf, entry } = await delivered();
    const jobId = await printed(pdf, entry.jobName);
    const gone = new PrintReconciler(dir, api, new IppPrinter('ipp://localhost:1/ipp/print', { requestTimeoutMs: 1000 }), { retryDelayMs: 100 });
    gone.on('event', (e) => events.push(e));
    dir.write(advance(advance(entry, { phase: 'submitting' }), { phase: 'printing', jobId }));
    const next = await gone.pass();
    assert.ok(next > 0 && next <= 100, `next try in ${next} ms`);
    assert.match(events.map((e) => (e.kind === 'waiting' ? e.why : '')).join(), /the printer did not answer/);
    assert.equal(gone.recovering, true, 'the job may still be on the printer');
    assert.equal(await gone.whenPrinterFree(200), false);
    assert.equal(await rig.applicationStatus(app.applicationId), 'in_issuance');
    // Once the printer answers, the job is found and reported.
    await reconciler.pass();
    assert.equal(await rig.applicationStatus(app.applicationId), 'printed');
    assert.equal(reconciler.recovering, false);
  });

  it('reporting, and the server already ended the attempt otherwise: the conflict is reported and the entry goes', async () => {
    const { entry, issuanceId } = await delivered();
    await api.result(issuanceId, 'failed', 'another report came first');
    const [e] = await settle(advance(entry, { phase: 'reporting', outcome: 'printed', detail: 'job 1 completed' }));
    assert.equal(e?.kind, 'ended');
    assert.deepEqual(e.kind === 'ended' && { status: e.status, conflict: e.conflict }, { status: 'print_failed', conflict: true });
    assert.deepEqual(dir.list(), []);
  });

  it('a session whose printer refuses the connection at Print-Job claims "not printed" on that evidence, and leaves no entry', async () => {
    const app = await rig.apply();
    const gone = await startVirtualPrinter({ name: 'Journal Rules Gone' });
    // The printer goes away after the kiosk checked it and while the document is fetched.
    const server = new (class extends KioskApi {
      override async document(issuanceId: string) {
        await gone.stop();
        return super.document(issuanceId);
      }
    })(rig.endpoint, rig.kiosks[0]!.credential);
    const printer = new IppPrinter(gone.uri, { requestTimeoutMs: 2000 });
    const session = new KioskSession(server, printer, { retryDelayMs: 100, journal: new PrintReconciler(dir, server, printer) });
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'print_failed', outcome.error);
    assert.match(outcome.error!, /Print-Job: connect ECONNREFUSED/);
    assert.deepEqual(dir.list(), []);
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('needs_staff: re-checked with the server, and let go once the attempt is settled there', async () => {
    const { entry, issuanceId } = await delivered();
    const staff = advance(entry, { phase: 'needs_staff', detail: 'the printer does not know job 9' });
    assert.deepEqual(await settle(staff), [], 'the attempt is still open: nothing happens');
    assert.equal(dir.list()[0]?.phase, 'needs_staff');
    await api.result(issuanceId, 'failed', 'settled');
    await reconciler.pass();
    // The back-off of a staff entry is the longest delay: look again now.
    const fresh = new PrintReconciler(dir, api, ipp);
    const seen: ReconcileEvent[] = [];
    fresh.on('event', (e) => seen.push(e));
    await fresh.pass();
    assert.deepEqual(seen.map((e) => e.kind === 'settled' && e.status), ['print_failed']);
    assert.deepEqual(dir.list(), []);
  });

  for (const outcome of ['printed', 'not-printed'] as const) {
    it(`needs_staff with money: staff settle it ${outcome}, and the money reaches the server with that outcome (settlement counts every yen)`, async () => {
      const { app, issuanceId, entry } = await delivered();
      const paid = withPayment(advance(entry, { phase: 'needs_staff', detail: 'the printer does not know job 9' }), {
        device: 'cctalk',
        due: app.fee,
        credits: [{ yen: 500, source: 'coin', counter: 1 }],
        payouts: [100, 100, 100],
        change: 500 - app.fee,
        refunded: 0,
        owed: 0,
      });
      assert.deepEqual(await settle(paid), [], 'the attempt is still open: nothing is reported');
      // What the print-timeout sweep does to a delivered attempt whose result never came.
      await rig.server.context.store.db.write(async (x) => {
        await x.run(`UPDATE issuance_attempts SET status = 'outcome_unknown' WHERE id = ?`, [issuanceId]);
        await x.run(`UPDATE applications SET status = 'outcome_unknown' WHERE id = ?`, [app.applicationId]);
      });
      await rig.server.context.admin.settleIssuance(issuanceId, outcome);
      const fresh = new PrintReconciler(dir, api, ipp);
      const seen: ReconcileEvent[] = [];
      fresh.on('event', (e) => seen.push(e));
      await fresh.pass();
      assert.deepEqual(dir.list(), [], 'let go once the server has the money');
      const row = await rig.server.context.store.read((tx) => tx.payments.get(issuanceId));
      if (outcome === 'printed') {
        assert.equal(row?.outcome, 'printed');
        assert.equal(row?.collected, app.fee);
        assert.equal(row?.report.refundOwed, 0);
      } else {
        // The resident has left: nothing is paid into the tray, the fee is owed against a slip.
        assert.equal(row?.outcome, 'failed');
        assert.equal(row?.collected, 0);
        assert.equal(row?.report.refundOwed, app.fee);
        assert.match(row?.report.slipCode ?? '', /^R-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
        assert.ok(seen.some((e) => e.kind === 'paid-back' && e.paid === 0 && e.owed === app.fee));
      }
      assert.ok(seen.some((e) => e.kind === 'reported'));
    });
  }
});
