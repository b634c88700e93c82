// The print prompt and the receipt list when a print does not end on paper: a refusal by the
// municipality's rules after the resident approved (the reason in plain words, the same as when
// applying), and a delivered document whose result never came (outcome_unknown). The applicant app runs in web mode in
// Chromium against the real server; its device key is registered by a login with the resident's
// software token (the card path is covered by applicant-ui.test.ts), so no card reader is needed.
import { formatReceiptNumber, type Application } from '@cert/common';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { applicantStrings } from '@cert/common/i18n';
import { KioskApi } from 'kiosk-shell';
import { changeResident, importSeal, startIssuanceRig, type IssuanceRig } from 'kiosk-shell/test-support';
import { buildApp } from '@cert/scripts/build';
import { ensureTestPki } from '@cert/scripts/pki';
import { softwareToken } from '@cert/scripts/rig';
import { ApplicantApi } from '../../../src/core/applicant-api.ts';
import { DEVICE_KEY_FILE } from '../../../src/core/applicant-core.ts';
import { DeviceKey, plainFileProtector } from '../../../src/core/device-key.ts';
import { ReceiptStore } from '../../../src/core/receipt-store.ts';
import { startApplicantWebHost, type ApplicantWebHost } from '../../../src/host/web-main.ts';
import { captureScreen, launchBrowser, setLanguage, type TestBrowser } from './helpers/browser.ts';

const { ja, en } = applicantStrings;

describe('applicant print prompt: refused and unknown outcomes (Chromium, web mode, real server)', function () {
  this.timeout(90_000);
  let rig: IssuanceRig;
  let dataDir: string;
  let api: ApplicantApi;
  let kiosk: KioskApi;
  let host: ApplicantWebHost;
  let browser: TestBrowser;
  let page: Page;
  const problems: string[] = [];

  const prompt = () => page.locator('#print-prompt');
  /** A kiosk claims the receipt, `meanwhile` runs, then the resident approves in the browser's prompt. */
  const claimAndApprove = async (app: Application, meanwhile: () => Promise<void> = async () => {}) => {
    const { issuanceId } = await kiosk.start(app.receiptNumber);
    await meanwhile();
    await prompt().locator('#prompt-approve').click();
    return issuanceId;
  };
  /** Waits (long-polling, as a kiosk does) until the issuance leaves `from`. */
  const statusAfter = async (issuanceId: string, from: string[]) => {
    let view = await kiosk.issuance(issuanceId, 0);
    while (from.includes(view.status)) view = await kiosk.issuance(issuanceId, 10_000, view.status);
    return view;
  };
  const apply = async (order: Parameters<ApplicantApi['apply']>[0] = { certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 }) => {
    const app = await api.apply(order);
    new ReceiptStore(dataDir).upsert(rig.endpoint.baseUrl, [app]);
    return app;
  };

  before(async function () {
    this.timeout(120_000);
    await buildApp('desktop-applicant');
    // A short print timeout: a delivered document without a result becomes outcome_unknown soon.
    rig = await startIssuanceRig({ printTimeoutMs: 2000, sweepIntervalMs: 200 });
    // A registered seal, for the 印鑑登録証明書.
    await importSeal(rig, 'R0001', 'active');
    kiosk = new KioskApi(rig.endpoint, rig.kiosks[0]!.credential);
    dataDir = mkdtempSync(join(tmpdir(), 'applicant-prompt-'));
    // The app's own device key, registered by a login (as the PIN login would), and a saved server:
    // on start the app opens its socket for the receipts it holds.
    const device = DeviceKey.loadOrCreate(join(dataDir, DEVICE_KEY_FILE), plainFileProtector);
    api = new ApplicantApi(rig.endpoint);
    await api.login(softwareToken((await ensureTestPki()).residents['R0001']!.auth), device);
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ serverUrl: rig.endpoint.baseUrl }), { mode: 0o600 });
    await apply();
    host = await startApplicantWebHost({ dataDir });
    await host.core.whenConnected(10_000);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes("'frame-ancestors'")) problems.push(`console: ${m.text()}`);
    });
    await page.goto(host.url);
  });
  afterEach(async () => {
    await changeResident(rig, 'R0001', {});
    assert.deepEqual(problems, [], 'the page logged errors');
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await rig?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refused after the approval: the prompt says so with the reason in plain words; the receipt list says why the last print was refused', async () => {
    const app = await apply();
    // The records change while the resident looks at the prompt: the document is refused when it is made.
    const issuanceId = await claimAndApprove(app, () => changeResident(rig, 'R0001', { supportMeasure: true }));
    assert.deepEqual(await statusAfter(issuanceId, ['confirmation_pending', 'approved']), { issuanceId, status: 'refused', reason: 'support_measure' });
    await prompt().getByText(ja.format.sentences(ja.prompt.outcomes.refused, ja.refusals.reasons.support_measure)).waitFor();
    assert.equal(await prompt().locator('#prompt-approve').count(), 0, 'nothing left to answer');
    await captureScreen(page, 'print-prompt-refused');
    await setLanguage(page, 'en');
    await prompt().getByText(en.format.sentences(en.prompt.outcomes.refused, en.refusals.reasons.support_measure)).waitFor();
    await setLanguage(page, 'ja');
    await prompt().getByRole('button', { name: ja.prompt.close }).click();
    await prompt().waitFor({ state: 'hidden' });

    await page.getByRole('navigation').getByRole('button', { name: ja.app.navReceipts }).click();
    const row = page.locator('tr', { hasText: formatReceiptNumber(app.receiptNumber) });
    await row.getByText(ja.receipts.statuses.submitted).waitFor();
    await row.getByText(ja.format.sentences(ja.receipts.refusedNote, ja.refusals.reasons.support_measure)).waitFor();
  });

  it('refused for a reason of its own type (the seal abolished while the prompt is open): the same words as when applying, in ja and en', async () => {
    const app = await apply({ certificateType: 'inkan', options: {}, copies: 1 });
    try {
      const issuanceId = await claimAndApprove(app, () => importSeal(rig, 'R0001', 'abolished'));
      assert.deepEqual(await statusAfter(issuanceId, ['confirmation_pending', 'approved']), { issuanceId, status: 'refused', reason: 'seal_registration_invalid' });
      for (const t of [ja, en]) {
        await setLanguage(page, t === ja ? 'ja' : 'en');
        await prompt().getByText(t.format.sentences(t.prompt.outcomes.refused, t.refusals.reasons.seal_registration_invalid)).waitFor();
      }
      await setLanguage(page, 'ja');
      await captureScreen(page, 'print-prompt-refused-seal');
      await prompt().getByRole('button', { name: ja.prompt.close }).click();
      await prompt().waitFor({ state: 'hidden' });
    } finally {
      await importSeal(rig, 'R0001', 'active');
    }
  });

  it('delivered and no result came: the prompt says the outcome is unknown and the receipt cannot print again; the list marks it', async () => {
    const app = await apply();
    const issuanceId = await claimAndApprove(app);
    assert.equal((await statusAfter(issuanceId, ['confirmation_pending'])).status, 'approved');
    // The kiosk takes the document and is never heard of again.
    await kiosk.document(issuanceId);
    assert.equal((await statusAfter(issuanceId, ['delivered'])).status, 'outcome_unknown');
    await prompt().getByText(ja.prompt.outcomes.outcome_unknown).waitFor();
    await captureScreen(page, 'print-prompt-outcome-unknown');
    // Nothing more will happen here until staff settle it: Esc closes the dialog like Close does.
    await page.keyboard.press('Escape');
    await prompt().waitFor({ state: 'hidden' });

    await page.getByRole('navigation').getByRole('button', { name: ja.app.navReceipts }).click();
    const row = page.locator('tr', { hasText: formatReceiptNumber(app.receiptNumber) });
    await row.locator('.status-outcome_unknown', { hasText: ja.receipts.statuses.outcome_unknown }).waitFor();
    await captureScreen(page, 'receipts-refused-and-unknown');
  });
});
