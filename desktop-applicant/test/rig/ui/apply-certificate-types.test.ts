// The apply screen with every certificate type a municipality offers, in Chromium (web mode),
// against the real server (catalogue, 戸籍 and tax records loaded through its admin service) and
// the virtual My Number card through pcscd: a household member and a 戸籍 person chosen, a
// fiscal year, the fee total following the copies, a type outside its service hours, and the
// rules' refusals explained when applying, in Japanese and English.
import { catalogResponseSchema, type CatalogResponse, type CertificateType } from '@cert/common';
import { applicantStrings } from '@cert/common/i18n';
import { callJson } from '@cert/common/node';
import { buildApp } from '@cert/scripts/build';
import { ensureTestPki } from '@cert/scripts/pki';
import { leaseReaderSlots, type ReaderSlotLease } from '@cert/scripts/rig';
import { personaFromPki, VirtualMyNumberCard } from '@cert/scripts/virtual-card';
import { changeResident, CLOSED_NOW_TYPE, importTaxYear, importYamadaKoseki, startIssuanceRig, testFiscalYears, type IssuanceRig } from 'kiosk-shell/test-support';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startApplicantWebHost, type ApplicantWebHost } from '../../../src/host/web-main.ts';
import { serviceHoursText } from '../../../src/renderer/texts.ts';
import { captureScreen, focusedId, launchBrowser, setLanguage, SCREENSHOT_DIR, type TestBrowser } from './helpers/browser.ts';

const { ja, en } = applicantStrings;

/** A person of the 戸籍 as the server names them (surname and given name apart by a full-width space). */
const kosekiName = (given: string) => `山田\u3000${given}`;

/** Today in Asia/Tokyo (the rules' calendar). */
const tokyoToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());

describe('applicant UI: every certificate type, the people on it, fiscal years, fees and refusals (Chromium, web mode, real server, virtual card)', function () {
  this.timeout(120_000);
  let rig: IssuanceRig;
  let lease: ReaderSlotLease;
  let card: VirtualMyNumberCard;
  let dataDir: string;
  let host: ApplicantWebHost;
  let browser: TestBrowser;
  let page: Page;
  let catalog: CatalogResponse;
  const years = testFiscalYears();
  const problems: string[] = [];
  const hostLog: string[] = [];

  const name = (type: CertificateType) => catalog.certificateTypes.find((t) => t.type === type)!.name.ja;
  const heading = (text: string) => page.locator('main h2', { hasText: text }).waitFor();
  const alert = () => page.locator('main [role="alert"]');
  const typeRadio = (type: CertificateType) => page.getByRole('radio', { name: name(type) });
  const persons = () => page.locator('#persons');
  /** The apply screen with a fresh order of `type`. */
  const startOrder = async (type: CertificateType) => {
    await page.getByRole('navigation').getByRole('button', { name: ja.app.navApply }).click();
    await heading(ja.apply.title);
    await typeRadio(type).check();
  };
  /** Review, then apply: resolves on the receipt screen with the app's stored receipt. */
  const reviewAndApply = async () => {
    await page.getByRole('button', { name: ja.apply.next }).click();
    await heading(ja.confirm.title);
    const summary = (await page.locator('main dl').innerText()).replace(/\s+/g, ' ');
    await page.getByRole('button', { name: ja.confirm.submit, exact: true }).click();
    return summary;
  };
  const receiptShown = async () => {
    await heading(ja.receipt.title);
    const grouped = (await page.locator('#receipt-number').textContent())!;
    const receipt = host.core.receipts.all().find((r) => r.receiptNumber === grouped.replaceAll('-', ''));
    assert.ok(receipt, `the app keeps receipt ${grouped}`);
    return receipt;
  };
  /** The confirm screen's refusal, in Japanese and in English (the same message, rebuilt in the other language). */
  const assertRefusedWhenApplying = async (code: keyof typeof ja.refusals.reasons, shot: string) => {
    await alert().filter({ hasText: ja.format.sentences(ja.refusals.atApplication, ja.refusals.reasons[code]) }).waitFor();
    await setLanguage(page, 'en');
    await alert().filter({ hasText: en.format.sentences(en.refusals.atApplication, en.refusals.reasons[code]) }).waitFor();
    await setLanguage(page, 'ja');
    await captureScreen(page, shot);
  };

  before(async function () {
    this.timeout(180_000);
    await buildApp('desktop-applicant');
    rig = await startIssuanceRig();
    await importYamadaKoseki(rig);
    await importTaxYear(rig, 'R0001', years.recorded);
    catalog = await callJson(rig.endpoint, { method: 'GET', path: '/api/v1/catalog' }, catalogResponseSchema);
    lease = await leaseReaderSlots(1);
    card = new VirtualMyNumberCard(personaFromPki(await ensureTestPki(), 'R0001'));
    await card.insert(lease.slots[0]!.vpcdPort);
    dataDir = mkdtempSync(join(tmpdir(), 'applicant-types-'));
    host = await startApplicantWebHost({ dataDir, serverUrl: rig.endpoint.baseUrl, log: (m) => hostLog.push(m) });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes("'frame-ancestors'")) problems.push(`console: ${m.text()}`);
    });
    await page.goto(host.url);
    // The resident signs in with the card's PIN; their household, 戸籍 and tax years follow.
    await page.locator('#card-status', { hasText: ja.card.ready }).waitFor({ timeout: 30_000 });
    await page.getByLabel(ja.pin.label).fill('1234');
    await page.getByRole('button', { name: ja.pin.submit }).click();
    await heading(ja.apply.title);
    await page.getByText(ja.apply.noSeal).waitFor();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`host log:\n  ${hostLog.join('\n  ')}`);
      await page.screenshot({ path: join(SCREENSHOT_DIR, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
    }
    hostLog.length = 0;
    assert.deepEqual(problems, [], 'the page logged errors');
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await card?.remove().catch(() => undefined);
    await lease?.release();
    await rig?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('offers every type of the catalog with its fee per copy and service hours; the one outside its hours says so, and inkan warns of the missing seal', async () => {
    assert.equal(catalog.certificateTypes.length, 7);
    for (const info of catalog.certificateTypes) {
      const label = (await page.locator(`label[for="${await typeRadio(info.type).getAttribute('id')}"]`).innerText()).replace(/\s+/g, ' ');
      assert.ok(label.includes(ja.apply.feePerCopy(`${info.fee.toLocaleString('ja-JP')}円`)), `${info.type}: fee in "${label}"`);
      assert.ok(label.includes(ja.apply.serviceHours(serviceHoursText(ja, info.serviceHours!))), `${info.type}: hours in "${label}"`);
      assert.equal(label.includes(ja.apply.notAvailableNow), info.type === CLOSED_NOW_TYPE, `${info.type}: "not now" in "${label}"`);
      assert.equal(label.includes(ja.apply.noSeal), info.type === 'inkan', `${info.type}: seal note in "${label}"`);
    }
    assert.equal(catalog.certificateTypes.find((t) => t.type === CLOSED_NOW_TYPE)!.availableNow, false);
    await captureScreen(page, 'apply-every-type');
  });

  it('住民票の写し for chosen household members: the resident preselected, a member added, the total follows the copies', async () => {
    await startOrder('juminhyo');
    assert.equal(await persons().count(), 0, 'no one to choose while the scope is the resident alone');
    await page.getByRole('radio', { name: '世帯の一部 (選んだ人)' }).check();
    const self = persons().getByRole('checkbox', { name: '山田 太郎' });
    const spouse = persons().getByRole('checkbox', { name: '山田 花子' });
    assert.equal(await self.isChecked(), true, 'the resident is preselected');
    assert.equal(await spouse.isChecked(), false);
    assert.equal(await persons().getByRole('checkbox').count(), 3, 'the three members of the household');
    assert.ok((await persons().innerText()).includes('妻'), 'relationships as the register records them');
    await spouse.check();
    await page.getByLabel(ja.apply.copies).selectOption('3');
    const total = page.locator('#fee-total');
    await total.filter({ hasText: '600円' }).waitFor();
    assert.ok((await total.innerText()).includes(ja.apply.totalDetail('200円', 3)));
    await page.getByLabel(ja.apply.copies).selectOption('2');
    await total.filter({ hasText: '400円' }).waitFor();
    await captureScreen(page, 'apply-household-members');
    const summary = await reviewAndApply();
    for (const part of [name('juminhyo'), '世帯の一部 (選んだ人)', `山田 太郎${ja.confirm.personList}山田 花子`, '2通', '400円']) assert.ok(summary.includes(part), `${part} in "${summary}"`);
    const receipt = await receiptShown();
    assert.deepEqual([receipt.certificateType, receipt.options['scope'], receipt.options['persons'], receipt.copies, receipt.fee], ['juminhyo', 'members', 'R0001,R0002', 2, 400]);
  });

  it('戸籍個人事項証明書 for a person of the 戸籍: the removed one marked 除籍; with nobody chosen it does not go on', async () => {
    await startOrder('koseki_kojin');
    const list = persons();
    await list.waitFor();
    assert.equal(await list.getByRole('checkbox').count(), 4, 'everyone recorded in the 戸籍');
    const removed = list.locator('.choice', { hasText: kosekiName('次郎') });
    assert.ok((await removed.innerText()).includes(ja.apply.removed), '次郎 is marked 除籍');
    assert.equal(await list.locator('.badge-removed').count(), 1, 'only 次郎 left the 戸籍');
    const self = list.getByRole('checkbox', { name: kosekiName('太郎') });
    assert.equal(await self.isChecked(), true);
    await self.uncheck();
    await page.getByRole('button', { name: ja.apply.next }).click();
    await alert().filter({ hasText: ja.apply.choosePersons }).waitFor();
    assert.equal(await focusedId(page), 'person-0', 'the focus goes to the list');
    await removed.getByRole('checkbox').check();
    await alert().filter({ hasText: ja.apply.choosePersons }).waitFor({ state: 'detached' });
    await captureScreen(page, 'apply-koseki-person');
    const summary = await reviewAndApply();
    assert.ok(summary.includes(`${ja.confirm.persons} ${kosekiName('次郎')}`.replace(/\s+/g, ' ')), summary);
    const receipt = await receiptShown();
    assert.deepEqual([receipt.certificateType, receipt.options['persons'], receipt.fee], ['koseki_kojin', '4', 400]);
  });

  it('戸籍の附票の写し: the 戸籍 persons only under "chosen persons"; applying outside its hours is allowed (printing waits for them)', async () => {
    await startOrder(CLOSED_NOW_TYPE);
    assert.equal(await persons().count(), 0, 'everyone by default: no one to choose');
    await page.getByRole('radio', { name: '一部 (選んだ人)' }).check();
    await persons().getByRole('checkbox', { name: kosekiName('花子') }).check();
    assert.equal(await persons().getByRole('checkbox', { checked: true }).count(), 2, 'the resident (preselected) and 花子');
    await page.getByRole('radio', { name: '全部 (全員)' }).check();
    await persons().waitFor({ state: 'hidden' });
    await page.getByRole('radio', { name: '一部 (選んだ人)' }).check();
    assert.equal(await persons().getByRole('checkbox', { checked: true }).count(), 2, 'the choice survives a look at "everyone"');
    await reviewAndApply();
    const receipt = await receiptShown();
    assert.deepEqual([receipt.certificateType, receipt.options['scope'], receipt.options['persons']], [CLOSED_NOW_TYPE, 'some', '1,2']);
  });

  it('課税証明書: the fiscal years with the income they cover; a year without a record is flagged and refused (not taxed here) in ja and en; the recorded year applies', async () => {
    await startOrder('kazei');
    const option = catalog.certificateTypes.find((t) => t.type === 'kazei')!.options.find((o) => o.name === 'fiscalYear')!;
    assert.deepEqual(option.values, [String(years.recorded), String(years.unrecorded)]);
    const yearLabel = (year: number) => option.valueLabels![String(year)]!.ja;
    const unrecorded = page.getByRole('radio', { name: yearLabel(years.unrecorded) });
    const unrecordedText = await page.locator(`label[for="${await unrecorded.getAttribute('id')}"]`).innerText();
    assert.ok(unrecordedText.includes(ja.apply.incomeOf(years.unrecorded - 1)) && unrecordedText.includes(ja.apply.noTaxRecord), unrecordedText);
    const recorded = page.getByRole('radio', { name: yearLabel(years.recorded) });
    assert.equal(await recorded.isChecked(), true, 'the newest year first');
    assert.ok(!(await page.locator(`label[for="${await recorded.getAttribute('id')}"]`).innerText()).includes(ja.apply.noTaxRecord));
    await unrecorded.check();
    await reviewAndApply();
    await assertRefusedWhenApplying('not_taxed_here', 'apply-refused-not-taxed-here');
    const before = host.core.receipts.all().length;

    await page.getByRole('button', { name: ja.confirm.back }).click();
    await heading(ja.apply.title);
    await recorded.check();
    await page.getByLabel(ja.apply.copies).selectOption('2');
    await page.locator('#fee-total').filter({ hasText: '700円' }).waitFor();
    assert.deepEqual(await page.getByLabel(ja.apply.copies).locator('option').allTextContents(), ['1', '2', '3'], 'at most the catalog’s maxCopies');
    const summary = await reviewAndApply();
    assert.ok(summary.includes(yearLabel(years.recorded)) && summary.includes('700円'), summary);
    const receipt = await receiptShown();
    assert.deepEqual([receipt.options['fiscalYear'], receipt.fee], [String(years.recorded), 700]);
    assert.equal(host.core.receipts.all().length, before + 1, 'the refused attempt left no receipt');
  });

  it('印鑑登録証明書 without a registered seal: refused when applying, with what to do, in ja and en', async () => {
    await startOrder('inkan');
    await reviewAndApply();
    await assertRefusedWhenApplying('seal_not_registered', 'apply-refused-seal');
  });

  it('a move-out notified: applying is refused (move_out_pending) with what to do, in ja and en', async () => {
    await changeResident(rig, 'R0001', { moveOutNotifiedOn: tokyoToday() });
    try {
      await startOrder('juminhyo_kisai');
      await reviewAndApply();
      await assertRefusedWhenApplying('move_out_pending', 'apply-refused-move-out');
    } finally {
      await changeResident(rig, 'R0001', {});
    }
  });

  it('the list of applications names each certificate type (and a tax certificate’s fiscal year)', async () => {
    await page.getByRole('navigation').getByRole('button', { name: ja.app.navReceipts }).click();
    await heading(ja.receipts.title);
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    const cells = await rows.locator('td:nth-of-type(1)').allInnerTexts();
    const kazeiYear = catalog.certificateTypes.find((t) => t.type === 'kazei')!.options[0]!.valueLabels![String(years.recorded)]!.ja;
    for (const expected of [name('juminhyo'), name('koseki_kojin'), `${name('kazei')}\n${kazeiYear}`]) {
      assert.ok(cells.some((c) => c.includes(expected)), `"${expected}" among ${JSON.stringify(cells)}`);
    }
    await captureScreen(page, 'receipts-certificate-types');
  });
});
