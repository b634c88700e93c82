// The applicant renderer in Chromium, in web mode, against the real rig: the issuance server,
// pcscd + vpcd with the virtual My Number card, and ippeveprinter behind a kiosk core. One
// resident's journey, screen by screen; every screen is photographed in Japanese and English and
// checked with axe.
import { formatReceiptNumber } from '@cert/common';
import { applicantStrings } from '@cert/common/i18n';
import { DEMO_KIOSKS } from '@cert/scripts/demo';
import { startDeviceRig, untilEvent, type CardSpec, type DeviceRig } from '@cert/scripts/rig';
import type { VirtualMyNumberCard } from '@cert/scripts/virtual-card';
import { IppPrinter, KioskApi, KioskSession } from 'kiosk-shell';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startApplicantWebHost, type ApplicantWebHost } from '../../../src/host/web-main.ts';
import { captureScreen, focusedId, launchBrowser, SCREENSHOT_DIR, waitForPage, type TestBrowser } from './helpers/browser.ts';

const ja = applicantStrings.ja;
const RIGHT_PIN = '1234';
const WRONG_PIN = '9999';

/** A port nobody listens on (for the unreachable-server cases). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('applicant UI in Chromium (web mode, real server, virtual card, printer)', function () {
  this.timeout(120_000);
  let rig: DeviceRig;
  let host: ApplicantWebHost;
  let browser: TestBrowser;
  let page: Page;
  const problems: string[] = [];
  /** The host's log and the card statuses, printed when a test fails. */
  const hostLog: string[] = [];
  let card: VirtualMyNumberCard | null = null;
  const receipts: string[] = [];

  const insert = async (spec: CardSpec, triesLeft?: number) => {
    card = await rig.insertCard(spec);
    // Set before PC/SC sees the card, so the app's first read already finds it so.
    if (triesLeft !== undefined) card.card.setTriesLeft('auth', triesLeft);
  };
  const remove = async () => {
    await card?.remove();
    card = null;
    await untilEvent(host.core, 'card', () => host.core.card.status.state === 'no_card', 'the core to see the card gone');
  };
  const cardStatus = (text: string) => page.locator('#card-status', { hasText: text }).waitFor();
  const heading = (text: string) => page.locator('main h2', { hasText: text }).waitFor();
  const alertText = (text: string) => page.locator('main [role="alert"]', { hasText: text }).waitFor();
  const prompt = () => page.locator('#print-prompt');
  const menu = (name: string) => page.getByRole('navigation').getByRole('button', { name });
  /** Kiosk sessions (a failed step may leave one waiting): cancelled and awaited before the rig stops. */
  const kiosks: { session: KioskSession; outcome: Promise<unknown> }[] = [];
  /** A kiosk of the rig enters a receipt number; resolves with how the kiosk ended it. */
  const kioskIssues = (receiptNumber: string) => {
    const session = new KioskSession(new KioskApi({ baseUrl: rig.serverUrl }, rig.kiosks[0]!.credential), new IppPrinter(rig.printer.uri, { requestTimeoutMs: 5000 }), {
      jobPollIntervalMs: 50,
      retryDelayMs: 100,
    });
    const outcome = session.issue(receiptNumber);
    kiosks.push({ session, outcome });
    return outcome;
  };
  const applyOnce = async (): Promise<string> => {
    await menu(ja.app.navApply).click();
    await heading(ja.apply.title);
    await page.getByRole('button', { name: ja.apply.next }).click();
    await heading(ja.confirm.title);
    await page.getByRole('button', { name: ja.confirm.submit, exact: true }).click();
    await heading(ja.receipt.title);
    const grouped = (await page.locator('#receipt-number').textContent())!;
    receipts.push(grouped);
    return grouped.replaceAll('-', '');
  };

  before(async () => {
    rig = await startDeviceRig({ slots: 1 });
    host = await startApplicantWebHost({ dataDir: mkdtempSync(join(rig.work, 'applicant-')), log: (m) => hostLog.push(m) });
    host.core.on('card', (s) => hostLog.push(`card: ${JSON.stringify(s)}`));
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(host.url).origin });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // Chromium notes that a <meta> CSP cannot carry frame-ancestors (the host's header does).
      if (m.type() === 'error' && !m.text().includes("'frame-ancestors'")) problems.push(`console: ${m.text()}`);
    });
    await page.goto(host.url);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`host log:\n  ${hostLog.join('\n  ')}`);
      await page.screenshot({ path: join(SCREENSHOT_DIR, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
      // A card a failed step left in the reader would stand in the next step's way.
      if (card) await remove().catch(() => undefined);
    }
    hostLog.length = 0;
  });

  after(async () => {
    kiosks.forEach((k) => k.session.cancel());
    await Promise.allSettled(kiosks.map((k) => k.outcome));
    await browser?.close();
    await host?.close();
    await card?.remove().catch(() => undefined);
    await rig?.close();
  });

  it('connect: a malformed and an unreachable address are explained; the right one is saved', async () => {
    await heading(ja.connect.title);
    await captureScreen(page, '01-connect');
    const url = page.getByLabel(ja.connect.urlLabel);
    await url.fill('municipality');
    await page.getByRole('button', { name: ja.connect.submit }).click();
    await alertText(ja.connect.invalidUrl);
    await url.fill(`http://127.0.0.1:${await closedPort()}`);
    await page.getByRole('button', { name: ja.connect.submit }).click();
    await alertText(ja.errors.server_unreachable);
    await captureScreen(page, '02-connect-unreachable');
    await url.fill(rig.serverUrl);
    await page.getByRole('button', { name: ja.connect.submit }).click();
    await heading(ja.card.title);
    await page.getByText(ja.app.municipality('テスト市')).waitFor();
    await cardStatus(ja.card.noCard);
    assert.equal(host.core.settings().serverUrl, new URL(rig.serverUrl).origin);
    await captureScreen(page, '03-card-none');
  });

  it('card status is live: smartphone token, blocked card, and the last try needs confirmation', async () => {
    await insert({ residentId: 'R0001', smartphone: true });
    await cardStatus(ja.card.smartphone);
    await page.getByText(ja.card.triesLeft(3)).waitFor();
    await captureScreen(page, '04-card-smartphone');
    await remove();
    await cardStatus(ja.card.noCard);

    await insert({ residentId: 'R0001' }, 0);
    await cardStatus(ja.card.blocked);
    assert.equal(await page.locator('#pin-form').isHidden(), true, 'no PIN is asked for a blocked card');
    await captureScreen(page, '05-card-blocked');
    await remove();

    await insert({ residentId: 'R0001' }, 1);
    await page.getByText(ja.card.triesLeft(1)).waitFor();
    await page.getByText(ja.pin.lastTryWarning).waitFor();
    await captureScreen(page, '06-pin-last-try');
    await page.getByLabel(ja.pin.label).fill(RIGHT_PIN);
    await page.getByRole('button', { name: ja.pin.submit }).click();
    await alertText(ja.card.kinds.last_try_needs_confirmation);
    assert.equal(await focusedId(page), 'confirm-last-try', 'the focus goes to the confirmation box');
    assert.equal(card!.state.counters.auth.remaining, 1, 'no try was spent without the confirmation');
    await remove();
  });

  it('a revoked card certificate gets its own message at login', async () => {
    await insert({ residentId: rig.pki.special.revoked.residentId, authCredential: rig.pki.special.revoked });
    await page.getByText(ja.card.triesLeft(3)).waitFor();
    await page.getByLabel(ja.pin.label).fill(RIGHT_PIN);
    await page.getByRole('button', { name: ja.pin.submit }).click();
    await alertText(ja.errors.certificate_revoked);
    await captureScreen(page, '07-login-revoked');
    await remove();
  });

  it('PIN: tries left shown before typing; a wrong PIN shows 2 left; the right PIN (keyboard only) signs in', async () => {
    await insert({ residentId: 'R0001' });
    await cardStatus(ja.card.ready);
    await page.getByText(ja.card.triesLeft(3)).waitFor();
    await captureScreen(page, '08-card-ready');

    await page.getByLabel(ja.pin.label).fill(WRONG_PIN);
    await page.getByRole('button', { name: ja.pin.submit }).click();
    await alertText(ja.pin.wrongPin(2));
    await page.getByText(ja.card.triesLeft(2)).waitFor();
    assert.equal(await page.getByLabel(ja.pin.label).inputValue(), '', 'the PIN is never left in the field');
    assert.equal(await focusedId(page), 'pin', 'the focus is back in the PIN field after the error');
    await captureScreen(page, '09-pin-wrong');

    // Keyboard only from the PIN field (the screenshots moved the focus to the language switch).
    await page.getByLabel(ja.pin.label).focus();
    await page.keyboard.type(RIGHT_PIN);
    await page.keyboard.press('Enter');
    await heading(ja.apply.title);
    await page.getByText(ja.pin.signedIn('山田 太郎')).waitFor();
    await page.locator('#connection-status', { hasText: ja.connection.authenticated }).waitFor();
    assert.equal(card!.state.counters.auth.remaining, 3);
  });

  it('apply: options and copies from the catalog with the fee; confirm; receipt grouped with its QR code; copy', async () => {
    await captureScreen(page, '10-apply');
    await page.getByLabel('世帯全員').check();
    await page.getByLabel(ja.apply.copies).selectOption('2');
    await page.locator('#fee-total', { hasText: '400円' }).waitFor();
    await page.getByRole('button', { name: ja.apply.next }).click();
    await heading(ja.confirm.title);
    const summary = await page.locator('main dl').textContent();
    for (const part of ['住民票の写し', '世帯全員', '2通', '400円']) assert.ok(summary?.includes(part), `${part} in ${summary}`);
    await captureScreen(page, '11-confirm');

    await page.getByRole('button', { name: ja.confirm.submit, exact: true }).click();
    await heading(ja.receipt.title);
    const grouped = (await page.locator('#receipt-number').textContent())!;
    assert.match(grouped, /^\d{4}-\d{4}-\d{4}$/);
    receipts.push(grouped);
    const stored = host.core.receipts.all();
    assert.equal(formatReceiptNumber(stored[0]!.receiptNumber), grouped, 'the app keeps the receipt');
    const qr = page.locator('img.qr');
    await waitForPage(page, "(document.querySelector('img.qr')?.naturalWidth ?? 0) > 0");
    assert.match((await qr.getAttribute('src'))!, /^data:image\/svg\+xml;base64,/);
    assert.equal(await qr.getAttribute('alt'), ja.receipt.qrAlt(grouped));
    await page.getByText(ja.receipt.expires(''), { exact: false }).waitFor();
    await captureScreen(page, '12-receipt');

    await page.getByRole('button', { name: ja.receipt.copy }).click();
    await page.getByText(ja.receipt.copied).waitFor();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), grouped);
  });

  it('a kiosk claims the receipt: the prompt shows store, certificate, copies, fee and time; Approve prints it', async () => {
    await menu(ja.app.navReceipts).click();
    await heading(ja.receipts.title);
    const row = page.locator('tbody tr', { hasText: receipts[0]! });
    await row.locator('.badge', { hasText: ja.receipts.statuses.submitted }).waitFor();
    await captureScreen(page, '13-receipts');

    const printedBefore = rig.printer.documents().length;
    const outcome = kioskIssues(receipts[0]!);
    await prompt().locator('h2', { hasText: ja.prompt.title }).waitFor();
    const text = (await prompt().textContent())!;
    for (const part of [DEMO_KIOSKS[0].name, DEMO_KIOSKS[0].location, '住民票の写し', '2通', '400円', receipts[0]!]) assert.ok(text.includes(part), `${part} in the prompt`);
    assert.match((await prompt().locator('#prompt-time-left').textContent())!, /^残り時間 \d+分\d{2}秒$/);
    // Web mode draws attention with the tab title (the system notification needs the resident's permission).
    await waitForPage(page, `document.title.startsWith(${JSON.stringify(ja.prompt.titleFlash)})`);
    await captureScreen(page, '14-print-prompt');

    // Keyboard only: the focus starts on the title; Tab reaches Approve first.
    assert.equal(await focusedId(page), 'prompt-title');
    await page.keyboard.press('Tab');
    assert.equal(await focusedId(page), 'prompt-approve');
    await page.keyboard.press('Enter');
    assert.equal((await outcome).status, 'printed');
    assert.equal(rig.printer.documents().length, printedBefore + 1, 'the printer got the certificate');
    await prompt().getByText(ja.prompt.outcomes.printed).waitFor();
    await captureScreen(page, '15-print-printed');
    await prompt().getByRole('button', { name: ja.prompt.close }).click();
    await prompt().waitFor({ state: 'hidden' });
    await row.locator('.badge', { hasText: ja.receipts.statuses.printed }).waitFor();
  });

  it('Decline: the kiosk gets no document and the receipt stays printable', async () => {
    const receiptNumber = await applyOnce();
    const printedBefore = rig.printer.documents().length;
    const outcome = kioskIssues(receiptNumber);
    await prompt().locator('#prompt-decline').waitFor();
    await prompt().getByRole('button', { name: ja.prompt.decline }).click();
    assert.equal((await outcome).status, 'declined');
    await prompt().getByText(ja.prompt.outcomes.declined).waitFor();
    await captureScreen(page, '16-print-declined');
    assert.equal(rig.printer.documents().length, printedBefore);
    await prompt().getByRole('button', { name: ja.prompt.close }).click();
  });

  it('cancel from the list, after a confirmation dialog', async () => {
    const grouped = receipts.at(-1)!;
    await menu(ja.app.navReceipts).click();
    const row = page.locator('tbody tr', { hasText: grouped });
    await row.locator('.badge', { hasText: ja.receipts.statuses.submitted }).waitFor();
    const cancelButton = row.locator('button.danger');
    const dialog = page.locator('dialog[open]');
    await captureScreen(page, '17-cancel-confirm', {
      open: async () => {
        await cancelButton.click();
        await dialog.waitFor();
      },
      close: async () => {
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
      },
    });
    assert.equal(await cancelButton.getAttribute('aria-label'), ja.receipts.cancelLabel(grouped));
    await cancelButton.click();
    await page.getByRole('dialog', { name: ja.receipts.cancelTitle }).getByRole('button', { name: ja.receipts.cancelYes }).click();
    await page.getByText(ja.receipts.cancelled(grouped)).waitFor();
    await row.locator('.badge', { hasText: ja.receipts.statuses.cancelled }).waitFor();
    assert.equal(host.core.receipts.all().find((r) => formatReceiptNumber(r.receiptNumber) === grouped)?.status, 'cancelled');
    await captureScreen(page, '18-receipts-after-cancel');
  });

  it('a saved server that does not answer: the app says it is retrying and keeps working', async () => {
    assert.deepEqual(problems, [], 'no script errors so far');
    await remove();
    await host.close();
    const dataDir = mkdtempSync(join(rig.work, 'applicant-offline-'));
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ serverUrl: `http://127.0.0.1:${await closedPort()}` }));
    host = await startApplicantWebHost({ dataDir, log: (m) => hostLog.push(m) });
    await page.goto(host.url);
    await heading(ja.card.title);
    await page.locator('#server-banner', { hasText: ja.connection.serverRetrying }).waitFor();
    await captureScreen(page, '19-server-offline');
  });
});
