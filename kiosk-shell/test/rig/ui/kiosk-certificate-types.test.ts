// The kiosk with every certificate type a municipality offers, in Chromium (web mode) against the
// real server (catalogue, 戸籍, tax and seal records loaded through its admin service) and
// ippeveprinter: the approval screen names the certificate, copies and fee in the resident's
// language, and a refusal by the rules says why, and what to do, in each of the kiosk's languages.
import { KIOSK_LANGUAGE_TAGS, KIOSK_LANGUAGES, KIOSK_STRINGS, type KioskLanguage } from '@cert/common/i18n';
import { buildApp } from '@cert/scripts/build';
import { startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { KioskWebHost } from '../../../src/host/kiosk-web-host.ts';
import { startIssuanceRig, type IssuanceRig } from '../helpers/issuance-rig.ts';
import { CLOSED_NOW_TYPE, importSeal, importTaxYear, importYamadaKoseki, TEST_FEES, testFiscalYears } from '../helpers/municipal-records.ts';
import { changeResident } from '../helpers/resident-records.ts';
import { capture, heading, launchChromium, startSiteKiosk, submitReceipt, waitForResult, type KioskTab } from './helpers/kiosk-browser.ts';

/** Today in Asia/Tokyo (the rules' calendar). */
const tokyoToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());

describe('kiosk: certificate types and their refusals in every kiosk language (Chromium, web mode)', function () {
  this.timeout(120_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let browser: Browser;
  let work: string;
  const hosts: KioskWebHost[] = [];
  const tabs: KioskTab[] = [];
  const years = testFiscalYears();

  const kiosk = async (): Promise<Page> => {
    const { host, tab } = await startSiteKiosk({ rig, printerUri: vp.uri, work, browser });
    hosts.push(host);
    tabs.push(tab);
    return tab.page;
  };
  const screenText = async (page: Page) => (await page.locator('main').innerText()).replace(/\s+/g, ' ');
  /** A refusal screen in `lang`: its heading, the reason for `code`, that nothing printed, nothing about anyone, only the way back. */
  const assertRefused = async (page: Page, lang: KioskLanguage, code: keyof (typeof KIOSK_STRINGS)['ja']['refusalReasons']) => {
    const t = KIOSK_STRINGS[lang];
    await waitForResult(page, 'refused');
    assert.equal(await heading(page).textContent(), t.refusedHeading);
    const text = await screenText(page);
    assert.ok(text.includes(t.refusalReasons[code]), `${lang}: "${t.refusalReasons[code]}" in "${text}"`);
    assert.ok(text.includes(t.refusedBody), text);
    for (const secret of ['山田', 'R0001', code]) assert.ok(!text.includes(secret), `${lang}: ${secret} on the public screen`);
    assert.deepEqual(await page.locator('[data-action]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), ['restart']);
  };

  before(async function () {
    this.timeout(120_000);
    await buildApp('kiosk-shell');
    [rig, vp, browser] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Certificate Types Test' }), launchChromium()]);
    work = mkdtempSync(join(tmpdir(), 'kiosk-types-'));
    await importTaxYear(rig, 'R0001', years.recorded);
    await importSeal(rig, 'R0001', 'active');
    await importYamadaKoseki(rig);
  });
  afterEach(async function () {
    const errors = tabs.flatMap((t) => t.errors);
    await Promise.allSettled(tabs.splice(0).map((t) => t.close()));
    await Promise.allSettled(hosts.splice(0).map((h) => h.close()));
    rig.answer = () => 'approve';
    await changeResident(rig, 'R0001', {});
    await importSeal(rig, 'R0001', 'active');
    if (this.currentTest?.state === 'passed') assert.deepEqual(errors, [], 'the page logged errors');
  });
  after(async () => {
    await Promise.allSettled([browser?.close(), rig?.close(), vp?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the approval screen names the certificate, the copies and the fee in Korean (a tax certificate, 2 copies)', async () => {
    const t = KIOSK_STRINGS.ko;
    // The resident's device does not answer: the approval screen stays up to be read.
    rig.answer = () => 'ignore';
    const app = await rig.applicant.apply({ certificateType: 'kazei', options: { fiscalYear: String(years.recorded) }, copies: 2 });
    assert.equal(app.fee, TEST_FEES.kazei.fee * 2);
    const page = await kiosk();
    await submitReceipt(page, 'ko', app.receiptNumber);
    await page.locator('.screen-approve').waitFor();
    const details = (await page.locator('.screen-approve dl').innerText()).replace(/\s+/g, ' ');
    const fee = new Intl.NumberFormat(KIOSK_LANGUAGE_TAGS.ko, { style: 'currency', currency: 'JPY' }).format(app.fee);
    for (const part of [t.certificateLabel, t.certificateNames.kazei, t.copiesLabel, t.copies(2), t.feeLabel, fee]) assert.ok(details.includes(part), `${part} in "${details}"`);
    assert.equal(await page.locator('html').getAttribute('lang'), KIOSK_LANGUAGE_TAGS.ko);
    await capture(page, 'approve-kazei-ko');
    await page.click('[data-action="cancel"]');
    await page.locator('.screen-start').waitFor();
  });

  it('a seal abolished after the application: refused at the claim, the reason in Vietnamese; nothing printed, the application kept', async () => {
    const app = await rig.applicant.apply({ certificateType: 'inkan', options: {}, copies: 1 });
    await importSeal(rig, 'R0001', 'abolished');
    const before = vp.documents().length;
    const page = await kiosk();
    await submitReceipt(page, 'vi', app.receiptNumber);
    await assertRefused(page, 'vi', 'seal_registration_invalid');
    assert.equal(rig.requests.filter((r) => r.receiptNumber === app.receiptNumber).length, 0, 'nobody was asked to approve');
    assert.equal(vp.documents().length, before);
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    await capture(page, 'refused-seal-vi');
  });

  it('a certificate outside its service hours: refused with the reason in Portuguese; the receipt stays valid for later', async () => {
    const app = await rig.applicant.apply({ certificateType: CLOSED_NOW_TYPE, options: {}, copies: 1 });
    const page = await kiosk();
    await submitReceipt(page, 'pt', app.receiptNumber);
    await assertRefused(page, 'pt', 'outside_service_hours');
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    await capture(page, 'refused-hours-pt');
  });

  it('a move-out notified after the application: every language of the kiosk says why in its own words', async () => {
    const app = await rig.applicant.apply({ certificateType: 'juminhyo', options: {}, copies: 1 });
    await changeResident(rig, 'R0001', { moveOutNotifiedOn: tokyoToday() });
    const page = await kiosk();
    for (const lang of KIOSK_LANGUAGES) {
      await submitReceipt(page, lang, app.receiptNumber);
      await assertRefused(page, lang, 'move_out_pending');
      await capture(page, `refused-move-out-${lang}`);
      await page.click('[data-action="restart"]');
      await page.locator('.screen-start').waitFor();
    }
    // Refused at the claim every time: the receipt is still the resident's.
    assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
  });
});
