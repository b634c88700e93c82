// Refusals by the municipality's rules in the kiosk flow, against the real server (whose records
// change as the records system would change them) and ippeveprinter: at the claim, and after the
// resident approved — in the long-poll or when the document is fetched. Nothing prints, the
// journal keeps nothing, the receipt stays as it was.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IssuanceStatus } from '@cert/common';
import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import { headlessResult } from '../../src/headless/run-headless.ts';
import { IppPrinter } from '../../src/core/ipp-printer.ts';
import { KioskApi } from '../../src/core/kiosk-api.ts';
import { KioskSession, type KioskProgress } from '../../src/core/kiosk-session.ts';
import { PrintReconciler } from '../../src/core/print-reconciler.ts';
import { JournalDirectory } from '../../src/state/journal-directory.ts';
import { startIssuanceRig, type IssuanceRig } from './helpers/issuance-rig.ts';
import { changeResident, type ResidentChange } from './helpers/resident-records.ts';

/** The kiosk client, counting document requests and running a hook before each. */
class WatchedApi extends KioskApi {
  documentRequests = 0;
  beforeDocument: () => Promise<void> = async () => {};
  /** When set, an `approved` answer is polled past (as a kiosk that asks a moment later would). */
  skipApproved = false;
  override async document(issuanceId: string): Promise<Buffer> {
    this.documentRequests++;
    await this.beforeDocument();
    return super.document(issuanceId);
  }
  override async issuance(issuanceId: string, waitMs: number, since?: IssuanceStatus, signal?: AbortSignal) {
    let view = await super.issuance(issuanceId, waitMs, since, signal);
    while (this.skipApproved && view.status === 'approved') view = await super.issuance(issuanceId, 10_000, 'approved', signal);
    return view;
  }
}

describe('refusals in the kiosk flow (real server and ippeveprinter)', function () {
  this.timeout(60_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let work: string;
  let journal: JournalDirectory;
  let api: WatchedApi;

  const newSession = () => {
    api = new WatchedApi(rig.endpoint, rig.kiosks[0]!.credential);
    const printer = new IppPrinter(vp.uri, { requestTimeoutMs: 5000 });
    const reconciler = new PrintReconciler(journal, api, printer);
    return new KioskSession(api, printer, { jobPollIntervalMs: 50, retryDelayMs: 100, journal: reconciler });
  };

  before(async () => {
    [rig, vp] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Refusal Test' })]);
    work = mkdtempSync(join(tmpdir(), 'kiosk-refusals-'));
    journal = new JournalDirectory(work);
  });
  afterEach(async () => {
    rig.answer = () => 'approve';
    await changeResident(rig, 'R0001', {});
  });
  after(async () => {
    await Promise.allSettled([rig?.close(), vp?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  const cases: [ResidentChange, string][] = [
    [{ status: 'moved_out' }, 'moved_out'],
    [{ status: 'deceased' }, 'deceased'],
    [{ supportMeasure: true }, 'support_measure'],
    // A character of the record still being registered as 外字 (a name the font cannot draw never
    // gets past the import at all).
    [{ gaijiPending: true }, 'glyph_missing'],
  ];
  for (const [change, code] of cases) {
    it(`at the claim (${code}): refused with the reason, nobody is asked to approve, nothing prints`, async () => {
      const app = await rig.apply();
      await changeResident(rig, 'R0001', change);
      const before = vp.documents().length;
      const outcome = await newSession().issue(app.receiptNumber);
      assert.equal(outcome.status, 'refused', outcome.error);
      assert.equal(outcome.reason, code);
      assert.equal(outcome.issuanceId, undefined, 'nothing was claimed');
      // The server's text may quote the record (a character of a name): the kiosk keeps the code only.
      assert.equal(outcome.error, `the municipality's rules do not allow this certificate now (${code})`);
      assert.deepEqual(headlessResult(outcome), { receiptNumber: app.receiptNumber, status: 'refused', reason: code, error: outcome.error });
      assert.equal(rig.requests.filter((r) => r.receiptNumber === app.receiptNumber).length, 0);
      assert.equal(vp.documents().length, before);
      assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    });
  }

  it('after the approval, when the document is fetched (deceased): refused, no document, no job, no journal entry', async () => {
    const app = await rig.apply();
    const session = newSession();
    api.beforeDocument = () => changeResident(rig, 'R0001', { status: 'deceased' });
    const phases: string[] = [];
    session.on('progress', (p: KioskProgress) => p.kind === 'phase' && phases.push(p.phase));
    const before = vp.documents().length;
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'refused', outcome.error);
    assert.equal(outcome.reason, 'deceased');
    assert.ok(outcome.issuanceId);
    assert.equal(api.documentRequests, 1, 'asked once, refused');
    assert.ok(!phases.includes('printing'));
    assert.equal(vp.documents().length, before);
    assert.deepEqual(journal.list(), [], 'the journal keeps nothing of a refusal');
    assert.deepEqual(await api.issuance(outcome.issuanceId!, 0), { issuanceId: outcome.issuanceId, status: 'refused', reason: 'deceased' });
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });

  it('after the approval, in the long-poll (support measure): refused with the reason, the document is never asked for', async () => {
    const app = await rig.apply();
    rig.answer = (req) => {
      // The records change while the resident looks at the phone; then the resident approves.
      void changeResident(rig, 'R0001', { supportMeasure: true }).then(() => rig.socket.respond(req.requestId, true));
      return 'ignore';
    };
    const session = newSession();
    api.skipApproved = true;
    const outcome = await session.issue(app.receiptNumber);
    assert.equal(outcome.status, 'refused', outcome.error);
    assert.equal(outcome.reason, 'support_measure');
    assert.equal(api.documentRequests, 0);
    assert.deepEqual(journal.list(), []);
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });
});
