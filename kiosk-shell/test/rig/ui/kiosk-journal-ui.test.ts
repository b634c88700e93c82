// The kiosk screens of the "never mis-issue" work in Chromium (web mode) against the real server
// and ippeveprinter: the refusal screen (a record that no longer allows the certificate), the
// unknown-outcome screen (the printer vanished mid-job), and the admin screen listing jobs only
// staff can settle. Screenshots in Japanese and English, axe checks (the refusal texts of all
// seven languages are checked without a browser in test/unit/ui/refusal-screen.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { KIOSK_STRINGS, type KioskLanguage } from '@cert/common/i18n';
import { buildApp } from '@cert/scripts/build';
import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import { KioskApi } from '../../../src/core/kiosk-api.ts';
import { advance, firstEntry } from '../../../src/core/print-journal.ts';
import type { KioskWebHost, KioskWebHostOptions } from '../../../src/host/kiosk-web-host.ts';
import { JournalDirectory } from '../../../src/state/journal-directory.ts';
import { startIssuanceRig, type IssuanceRig } from '../helpers/issuance-rig.ts';
import { changeResident } from '../helpers/resident-records.ts';
import { capture, heading, launchChromium, startSiteKiosk, submitReceipt, waitForResult, type KioskTab } from './helpers/kiosk-browser.ts';

const BOTH: readonly KioskLanguage[] = ['ja', 'en'];

describe('kiosk journal and refusal screens in Chromium (web mode)', function () {
  this.timeout(90_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let browser: Browser;
  let work: string;
  const hosts: KioskWebHost[] = [];
  const tabs: KioskTab[] = [];
  const printers: VirtualPrinter[] = [];

  const kiosk = async (overrides: Partial<KioskWebHostOptions> = {}): Promise<{ page: Page; stateDir: string }> => {
    const { host, tab, stateDir } = await startSiteKiosk({ rig, printerUri: vp.uri, work, browser }, overrides);
    hosts.push(host);
    tabs.push(tab);
    return { page: tab.page, stateDir };
  };

  before(async function () {
    this.timeout(120_000);
    await buildApp('kiosk-shell');
    [rig, vp, browser] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Journal UI Test' }), launchChromium()]);
    work = mkdtempSync(join(tmpdir(), 'kiosk-journal-ui-'));
  });
  afterEach(async function () {
    const errors = tabs.flatMap((t) => t.errors);
    await Promise.allSettled(tabs.splice(0).map((t) => t.close()));
    await Promise.allSettled(hosts.splice(0).map((h) => h.close()));
    await changeResident(rig, 'R0001', {});
    await vp.clearFaults();
    if (this.currentTest?.state === 'passed') assert.deepEqual(errors, [], 'the page logged errors');
  });
  after(async () => {
    await Promise.allSettled([browser?.close(), rig?.close(), vp?.stop(), ...printers.map((p) => p.stop())]);
    rmSync(work, { recursive: true, force: true });
  });

  it('a record that no longer allows the certificate: a kind refusal screen with the reason, nothing about anyone, nothing printed', async () => {
    const { page } = await kiosk();
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      const app = await rig.apply();
      await changeResident(rig, 'R0001', { status: 'moved_out' });
      const before = vp.documents().length;
      await submitReceipt(page, lang, app.receiptNumber);
      await waitForResult(page, 'refused');
      assert.equal(await heading(page).textContent(), t.refusedHeading);
      const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
      assert.ok(text.includes(t.refusalReasons.moved_out) && text.includes(t.refusedBody), text);
      assert.equal(await page.locator('.staff-detail').count(), 0, 'no technical line on the public screen');
      for (const secret of ['山田', 'R0001', app.receiptNumber, 'moved_out']) assert.ok(!text.includes(secret), `${secret} is on the screen`);
      assert.deepEqual(await page.locator('[data-action]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), ['restart'], 'no retry: it would be refused again');
      assert.equal(vp.documents().length, before);
      assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
      await capture(page, `refused-${lang}`);
      await page.click('[data-action="restart"]');
      await page.locator('.screen-start').waitFor();
      await changeResident(rig, 'R0001', {});
    }
  });

  it('the printer vanishes mid-job: the kiosk cannot tell whether it printed, says so and calls staff; the journal keeps the job', async () => {
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      const lost = await startVirtualPrinter({ name: `Kiosk Journal UI Lost ${lang}` });
      printers.push(lost);
      // The job takes long enough to be seen running before the printer goes away.
      lost.setMode('delay:20');
      const { page, stateDir } = await kiosk({ printerUri: lost.uri, recovery: { retryDelayMs: 60_000 } });
      const app = await rig.apply();
      await submitReceipt(page, lang, app.receiptNumber);
      await page.locator('.print-status', { hasText: t.jobProcessing }).waitFor({ timeout: 15_000 });
      await lost.stop();
      await waitForResult(page, 'outcome-unknown', 20_000);
      assert.equal(await heading(page).textContent(), t.unknownHeading);
      assert.ok((await page.locator('main').innerText()).includes(t.unknownBody));
      assert.match((await page.locator('.staff-detail').innerText()) ?? '', /printer did not answer/);
      await capture(page, `outcome-unknown-${lang}`);
      // Nothing was claimed either way: the journal still holds the job, the server still has it delivered.
      const [entry] = new JournalDirectory(stateDir).list();
      assert.equal(entry?.phase, 'printing');
      assert.equal(await new KioskApi(rig.endpoint, rig.kiosks[0]!.credential).status(entry.issuanceId, 0), 'delivered');
      assert.equal(await rig.applicationStatus(app.applicationId), 'in_issuance');
      await Promise.allSettled(tabs.splice(0).map((tab) => tab.close()));
      await Promise.allSettled(hosts.splice(0).map((h) => h.close()));
    }
  });

  it('the admin screen lists the jobs only staff can settle (job names only)', async () => {
    const stateDir = mkdtempSync(join(work, 'state-'));
    const entry = advance(firstEntry('0badc0de-0000-4000-8000-000000000000', '123456789012'), { phase: 'needs_staff', detail: 'the printer does not know job 7' });
    new JournalDirectory(stateDir).write(entry);
    const { page } = await kiosk({ stateDir });
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      await page.click(`[data-language="${lang}"]`);
      for (let i = 0; i < 5; i++) await page.click('.app-title');
      await heading(page).filter({ hasText: t.adminHeading }).waitFor();
      const notice = page.locator('[data-journal]');
      await notice.filter({ hasText: t.adminJournal(1) }).waitFor();
      assert.equal(await notice.locator('li').innerText(), entry.jobName);
      assert.ok(!(await notice.innerText()).includes(entry.receiptNumber));
      await capture(page, `admin-journal-${lang}`);
      await page.click('[data-action="back"]');
      await page.locator('.screen-start').waitFor();
    }
  });
});
