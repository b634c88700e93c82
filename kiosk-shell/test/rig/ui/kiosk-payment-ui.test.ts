// The payment screens in Chromium (web mode) with the kiosk's own cash unit driver on the virtual
// cash unit's pseudo-terminal, in Japanese and English: the amount due, inserted and still to
// pay, the change on the done screen, the money returned after a cancel, and the slip code of a
// refund the kiosk could not pay. Screenshots go to .test-output/screenshots/kiosk/payment-*.png.
import { KIOSK_STRINGS } from '@cert/common/i18n';
import { buildApp } from '@cert/scripts/build';
import { startVirtualCashUnit, startVirtualPrinter, untilEvent, type VirtualCashUnit, type VirtualPrinter } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { KioskWebHost } from '../../../src/host/kiosk-web-host.ts';
import { startIssuanceRig, type IssuanceRig } from '../helpers/issuance-rig.ts';
import { capture, heading, launchChromium, startSiteKiosk, submitReceipt, waitForResult, type KioskTab } from './helpers/kiosk-browser.ts';

describe('kiosk payment screens in Japanese and English (Chromium, web mode, virtual cash unit)', function () {
  this.timeout(120_000);
  let rig: IssuanceRig;
  let vp: VirtualPrinter;
  let vcu: VirtualCashUnit;
  let browser: Browser;
  let work: string;
  let host: KioskWebHost;
  let tab: KioskTab;
  let page: Page;

  const text = async () => (await page.locator('main').innerText()).replace(/\s+/g, ' ');
  /** A new application, its receipt typed in `lang`, approved: resolves on the payment screen with the acceptors open. */
  const toPayment = async (lang: 'ja' | 'en') => {
    const app = await rig.apply();
    await submitReceipt(page, lang, app.receiptNumber);
    await page.locator('.screen-pay').waitFor({ timeout: 20_000 });
    await untilEvent(vcu, 'change', () => vcu.accepting().coin && vcu.accepting().bill, 'the acceptors to open', 20_000);
    return app;
  };

  before(async function () {
    await buildApp('kiosk-shell');
    [rig, vp, vcu, browser] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Kiosk Payment UI Test' }), startVirtualCashUnit({ msPerCoin: 2 }), launchChromium()]);
    work = mkdtempSync(join(tmpdir(), 'kiosk-pay-ui-'));
    ({ host, tab } = await startSiteKiosk({ rig, printerUri: vp.uri, work, browser }, { payment: { mode: 'cash', device: 'cctalk', serialPath: vcu.serialPath, idleTimeoutSeconds: 120 } }));
    page = tab.page;
  });
  after(async () => {
    await tab?.close();
    await host?.close();
    await Promise.allSettled([browser?.close(), rig?.close(), vp?.stop(), vcu?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    assert.deepEqual(tab.errors, []);
    await vp.clearFaults();
    for (const a of [3, 4, 5]) vcu.setHopperCoins(a, 100);
    if (await page.locator('[data-action="finish"], [data-action="restart"]').count()) await page.locator('[data-action="finish"], [data-action="restart"]').first().click();
    await page.locator('.screen-start').waitFor();
  });

  it('ja: the fee, what was inserted and what remains; a note pays and the done screen says the change', async () => {
    const t = KIOSK_STRINGS.ja;
    const app = await toPayment('ja');
    assert.equal(await heading(page).textContent(), t.payHeading);
    assert.equal(await page.locator('.amount.due').textContent(), t.yen(app.fee));
    await capture(page, 'payment-ja-due');
    vcu.insertCoin(100);
    await page.locator('.amount.inserted', { hasText: t.yen(100) }).waitFor();
    assert.equal(await page.locator('.amount.remaining').textContent(), t.yen(app.fee - 100));
    await capture(page, 'payment-ja-inserted');
    vcu.insertNote();
    await page.locator('.screen-result.tone-success').waitFor({ timeout: 20_000 });
    assert.ok((await text()).includes(t.doneChange(1100 - app.fee)), await text());
    await capture(page, 'payment-ja-done-change');
  });

  it('ja: a note refused for want of change is explained on the screen', async () => {
    const t = KIOSK_STRINGS.ja;
    for (const a of [3, 4, 5]) vcu.setHopperCoins(a, 0);
    await toPayment('ja');
    vcu.insertNote();
    await page.locator('.pay-notice', { hasText: t.payNotices.note_returned_no_change }).waitFor();
    await capture(page, 'payment-ja-note-returned');
    await page.click('[data-action="cancel"]');
    await waitForResult(page, 'payment-cancelled');
  });

  it('en: Cancel with coins inserted returns them and says so', async () => {
    const t = KIOSK_STRINGS.en;
    await toPayment('en');
    vcu.insertCoin(50);
    vcu.insertCoin(10);
    await page.locator('.amount.inserted', { hasText: t.yen(60) }).waitFor();
    await capture(page, 'payment-en-inserted');
    await page.click('[data-action="cancel"]');
    await waitForResult(page, 'payment-cancelled');
    assert.equal(await heading(page).textContent(), t.paymentCancelledHeading);
    assert.ok((await text()).includes(t.refundPaid(60)), await text());
    await capture(page, 'payment-en-cancelled');
  });

  it('en: out of paper after payment with the hoppers empty: the slip code for the refund owed', async () => {
    const t = KIOSK_STRINGS.en;
    vp.setMode('media-empty');
    const app = await toPayment('en');
    for (let left = app.fee; left > 0; left -= 100) vcu.insertCoin(100);
    for (const a of [3, 4, 5]) vcu.setHopperCoins(a, 0);
    await waitForResult(page, 'printer', 30_000);
    const shown = await text();
    const slip = /R-[0-9A-Z]{4}-[0-9A-Z]{4}/.exec(shown)?.[0];
    assert.ok(slip, shown);
    assert.ok(shown.includes(t.refundOwed(app.fee, slip)), shown);
    await capture(page, 'payment-en-refund-owed');
  });
});
