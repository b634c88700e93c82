// The kiosk UI in Chromium, in web mode, against a real issuance server (with a logged-in
// applicant whose device answers as each test decides) and ippeveprinter. Every screen is
// screenshot in Japanese and English (the start screen in all seven languages) and checked with axe.
import { generateReceiptNumber, type PrintConfirmationRequest } from '@cert/common';
import { KIOSK_LANGUAGES, KIOSK_STRINGS, type KioskLanguage } from '@cert/common/i18n';
import { buildApp } from '@cert/scripts/build';
import { startVirtualPrinter, untilEvent, type VirtualPrinter } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { IppPrinter, type KioskPrinter, type PrintOptions } from '../../../src/core/ipp-printer.ts';
import { KioskApi } from '../../../src/core/kiosk-api.ts';
import { startKioskWebHost, type KioskWebHost, type KioskWebHostOptions } from '../../../src/host/kiosk-web-host.ts';
import { startIssuanceRig, type IssuanceRig } from '../helpers/issuance-rig.ts';
import { capture, heading, launchChromium, openKiosk, tapDigits, waitForResult, type KioskTab } from './helpers/kiosk-browser.ts';

const STORE = 'コンビニ テスト駅前店';
const BOTH: readonly KioskLanguage[] = ['ja', 'en'];

/** A valid receipt number with two neighbouring digits swapped: the check digit must catch it. */
function mistype(receipt: string): string {
  const i = [...receipt].findIndex((c, k) => k < receipt.length - 1 && c !== receipt[k + 1]);
  return receipt.slice(0, i) + receipt[i + 1] + receipt[i] + receipt.slice(i + 2);
}

/** A port nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Holds the printer check until released, so that the "checking" screen stays up for its screenshot. */
class GatedPrinter implements KioskPrinter {
  private open!: () => void;
  private readonly gate = new Promise<void>((r) => (this.open = r));
  constructor(private readonly inner: KioskPrinter) {}
  async status() {
    await this.gate;
    return this.inner.status();
  }
  print(pdf: Buffer, options: PrintOptions) {
    return this.inner.print(pdf, options);
  }
  release() {
    this.open();
  }
}

/** Everything a group of browser tests shares: server rig, printer, browser, hosts and tabs. */
function kioskSuite(rigOverrides: Parameters<typeof startIssuanceRig>[0] = {}) {
  const s = {
    rig: undefined as unknown as IssuanceRig,
    vp: undefined as unknown as VirtualPrinter,
    browser: undefined as unknown as Browser,
    hosts: [] as KioskWebHost[],
    /** Each host's state directory (print journal), removed at the end. */
    stateDirs: [] as string[],
    tabs: [] as KioskTab[],
    config(overrides: Partial<KioskWebHostOptions> = {}): KioskWebHostOptions {
      // Its own per host: one kiosk per state directory.
      const stateDir = mkdtempSync(join(tmpdir(), 'kiosk-ui-state-'));
      s.stateDirs.push(stateDir);
      return {
        endpoint: s.rig.endpoint,
        credential: s.rig.kiosks[0]!.credential,
        printerUri: s.vp.uri,
        storeName: STORE,
        location: 'テスト市本町1-1',
        inactivityMs: 60_000,
        decisionTimeoutMs: 150_000,
        printTimeoutMs: 30_000,
        adminCode: null,
        stateDir,
        payment: { mode: 'free' },
        session: { jobPollIntervalMs: 50, retryDelayMs: 100, printerFaultToleranceMs: 2000 },
        ...overrides,
      };
    },
    /** Starts a web host and opens it in a fresh browser context (`clock`: see openKiosk). */
    async kiosk(overrides: Partial<KioskWebHostOptions> = {}, tabOptions: { clock?: boolean } = {}): Promise<{ host: KioskWebHost; page: Page; tab: KioskTab }> {
      const host = await startKioskWebHost(s.config(overrides));
      s.hosts.push(host);
      const tab = await openKiosk(s.browser, host.url, tabOptions);
      s.tabs.push(tab);
      return { host, page: tab.page, tab };
    },
  };
  before(async function () {
    this.timeout(120_000);
    await buildApp('kiosk-shell');
    [s.rig, s.vp, s.browser] = await Promise.all([startIssuanceRig(rigOverrides), startVirtualPrinter({ name: 'Kiosk UI Test' }), launchChromium()]);
  });
  afterEach(async function () {
    const errors = s.tabs.flatMap((t) => t.errors);
    if (this.currentTest?.state === 'failed') console.error(`browser errors: ${JSON.stringify(errors)}\nprinter log:\n${s.vp.log().slice(-2000)}`);
    // Tabs before hosts: a tab whose host went away would log reconnect errors.
    await Promise.allSettled(s.tabs.splice(0).map((t) => t.close()));
    await Promise.allSettled(s.hosts.splice(0).map((h) => h.close()));
    s.rig.answer = () => 'approve';
    await s.vp.clearFaults();
  });
  after(async () => {
    await Promise.allSettled(s.tabs.map((t) => t.close()));
    await Promise.allSettled(s.hosts.map((h) => h.close()));
    await Promise.allSettled([s.browser?.close(), s.rig?.close(), s.vp?.stop()]);
    for (const d of s.stateDirs) rmSync(d, { recursive: true, force: true });
  });
  /** A test that also fails when a page logged an error (checked inside the test, not in a hook, so one failure does not stop the suite). */
  const test = (title: string, body: () => Promise<void>) =>
    it(title, async () => {
      await body();
      assert.deepEqual(s.tabs.flatMap((t) => t.errors), [], 'the page logged errors');
    });
  return { s, test };
}

async function startEntry(page: Page, lang: KioskLanguage): Promise<void> {
  await page.click(`[data-language="${lang}"]`);
  await page.click('[data-action="start"]');
  await page.locator('.screen-entry').waitFor();
}

async function submitOnKeypad(page: Page, lang: KioskLanguage, receipt: string): Promise<void> {
  await startEntry(page, lang);
  await tapDigits(page, receipt);
  await page.click('[data-action="submit"]');
}

async function backToStart(page: Page): Promise<void> {
  await page.click('[data-action="restart"]');
  await page.locator('.screen-start').waitFor();
}

/** The confirmation request the applicant's device received for a receipt (the last one), once it has. */
async function requestFor(rig: IssuanceRig, receipt: string): Promise<PrintConfirmationRequest> {
  const last = () => rig.requests.filter((q) => q.receiptNumber === receipt).at(-1);
  await untilEvent(rig.socket, 'confirmation-request', () => last() !== undefined, `a confirmation request for ${receipt}`, 5000);
  return last()!;
}

describe('kiosk UI in Chromium (web mode)', function () {
  this.timeout(60_000);
  const { s, test } = kioskSuite();

  test('start screen in all seven languages; the choice carries to the keypad and back', async () => {
    const { host, page } = await s.kiosk();
    // The CSP is in force: no inline script runs, not even a test's (on a tab of its own, whose
    // console then reports the refusal).
    const probe = await openKiosk(s.browser, host.url);
    await assert.rejects(probe.page.addScriptTag({ content: 'window.injected = 1' }), /Content Security Policy/);
    await probe.close();
    for (const lang of KIOSK_LANGUAGES) {
      await page.click(`[data-language="${lang}"]`);
      await heading(page).filter({ hasText: KIOSK_STRINGS[lang].startHeading }).waitFor();
      assert.equal(await page.getAttribute(`[data-language="${lang}"]`, 'aria-pressed'), 'true');
      assert.equal(await page.locator('[aria-pressed="true"]').count(), 1);
      await capture(page, `start-${lang}`);
    }
    await startEntry(page, 'vi');
    assert.equal(await heading(page).textContent(), KIOSK_STRINGS.vi.entryHeading);
    assert.equal(await page.getAttribute('html', 'lang'), 'vi');
    await page.click('[data-action="back"]');
    await heading(page).filter({ hasText: KIOSK_STRINGS.vi.startHeading }).waitFor();
    await startEntry(page, 'ja');
    assert.equal(await heading(page).textContent(), KIOSK_STRINGS.ja.entryHeading);
  });

  test('keypad entry checks the check digit as it is typed; a mistyped number is flagged and never sent', async () => {
    const { page } = await s.kiosk();
    const app = await s.rig.apply();
    const wrong = mistype(app.receiptNumber);
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      await startEntry(page, lang);
      await capture(page, `entry-empty-${lang}`);
      await tapDigits(page, wrong.slice(0, 7));
      assert.equal(await page.textContent('.entry-hint'), t.entryProgress(7));
      assert.equal(await page.textContent('.receipt-display .digits'), `${wrong.slice(0, 4)}-${wrong.slice(4, 7)}-`);
      await capture(page, `entry-partial-${lang}`);
      await tapDigits(page, wrong.slice(7));
      assert.equal(await page.textContent('.entry-hint'), t.entryMistyped);
      assert.equal(await page.getAttribute('.receipt-display', 'data-state'), 'mistyped');
      assert.equal(await page.isDisabled('[data-action="submit"]'), true);
      await capture(page, `entry-mistyped-${lang}`);
      // Enter is refused too: the next key, handled after it, still edits this entry screen.
      await page.keyboard.press('Enter');
      await page.click('[data-key="delete"]');
      assert.equal(await page.textContent('.entry-hint'), t.entryProgress(11));
      // Delete the other 10 of the last 11 digits one by one, then type the right number.
      for (let i = 0; i < 10; i++) await page.click('[data-key="delete"]');
      assert.equal(await page.textContent('.entry-hint'), t.entryProgress(1));
      await page.click('[data-key="clear"]');
      await tapDigits(page, app.receiptNumber);
      assert.equal(await page.textContent('.entry-hint'), t.entryComplete);
      assert.equal(await page.isDisabled('[data-action="submit"]'), false);
      await capture(page, `entry-complete-${lang}`);
      await page.click('[data-action="back"]');
    }
    assert.equal(s.rig.requests.filter((r) => r.receiptNumber === app.receiptNumber || r.receiptNumber === wrong).length, 0);
    assert.equal(await s.rig.applicationStatus(app.applicationId), 'submitted');
  });

  test('approve flow: store name and countdown, printing progress from the printer, done; the printer got the PDF', async () => {
    const { page } = await s.kiosk();
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      const app = await s.rig.apply();
      const before = s.vp.documents().length;
      s.rig.answer = () => 'ignore';
      // The job takes 2 s, so the printing screen shows the printer's `processing`.
      s.vp.setMode('delay:2');
      await submitOnKeypad(page, lang, app.receiptNumber);
      await page.locator('.screen-approve').waitFor();
      assert.equal(await page.textContent('.store'), t.approveStore(STORE));
      assert.match((await page.textContent('.countdown')) ?? '', /^[12]:\d\d$/);
      const details = await page.textContent('.details');
      assert.ok(details?.includes(t.certificateNames.juminhyo) && details.includes(t.copies(1)), details ?? '');
      await capture(page, `approve-${lang}`);
      s.rig.socket.respond((await requestFor(s.rig, app.receiptNumber)).requestId, true);
      await page.locator('.print-status', { hasText: t.jobProcessing }).waitFor({ timeout: 15_000 });
      await capture(page, `printing-${lang}`);
      await heading(page).filter({ hasText: t.doneHeading }).waitFor({ timeout: 20_000 });
      assert.equal(await page.textContent('.emphasis'), t.doneBody);
      await capture(page, `done-${lang}`);
      const docs = s.vp.documents();
      assert.equal(docs.length, before + 1);
      assert.equal(readFileSync(docs.at(-1)!.path).subarray(0, 5).toString(), '%PDF-');
      assert.equal(await s.rig.applicationStatus(app.applicationId), 'printed');
      await page.click('[data-action="finish"]');
      await heading(page).filter({ hasText: KIOSK_STRINGS.ja.startHeading }).waitFor();
      s.vp.setMode('ok');
    }
  });

  test('checking screen while the printer is checked and the receipt claimed; an unknown receipt gets the wrong-receipt screen', async () => {
    for (const lang of BOTH) {
      const gated = new GatedPrinter(new IppPrinter(s.vp.uri));
      const { page } = await s.kiosk({ printer: gated });
      await submitOnKeypad(page, lang, generateReceiptNumber());
      await heading(page).filter({ hasText: KIOSK_STRINGS[lang].checkingHeading }).waitFor();
      await capture(page, `checking-${lang}`);
      gated.release();
      // Unknown, expired and printed receipts look the same at the kiosk.
      await waitForResult(page, 'wrong-receipt');
      assert.equal(await heading(page).textContent(), KIOSK_STRINGS[lang].wrongReceiptHeading);
      await capture(page, `wrong-receipt-${lang}`);
      await page.click('[data-action="reenter"]');
      await page.locator('.screen-entry').waitFor();
    }
  });

  test('declined on the device: declined screen, the application stays printable', async () => {
    const { page } = await s.kiosk();
    s.rig.answer = () => 'decline';
    for (const lang of BOTH) {
      const app = await s.rig.apply();
      await submitOnKeypad(page, lang, app.receiptNumber);
      await waitForResult(page, 'declined');
      assert.equal(await heading(page).textContent(), KIOSK_STRINGS[lang].declinedHeading);
      await capture(page, `declined-${lang}`);
      assert.equal(await s.rig.applicationStatus(app.applicationId), 'submitted');
      await backToStart(page);
    }
  });

  test('scanner bursts: from the start and done screens, with hyphens; a mistyped scan lands on the keypad unsent', async () => {
    const { page } = await s.kiosk();
    const first = await s.rig.apply();
    // A USB scanner types the whole code within milliseconds and ends with Enter.
    await page.keyboard.type(`${first.receiptNumber}\n`, { delay: 5 });
    await heading(page).filter({ hasText: KIOSK_STRINGS.ja.doneHeading }).waitFor({ timeout: 20_000 });
    const second = await s.rig.apply();
    const grouped = second.receiptNumber.replace(/(\d{4})(?=\d)/g, '$1-');
    await page.keyboard.type(`${grouped}\n`, { delay: 5 });
    await page.locator('.screen-approve, .screen-wait').first().waitFor();
    await heading(page).filter({ hasText: KIOSK_STRINGS.ja.doneHeading }).waitFor({ timeout: 20_000 });
    assert.equal(await s.rig.applicationStatus(second.applicationId), 'printed');

    await page.click('[data-action="finish"]');
    const third = await s.rig.apply();
    const wrong = mistype(third.receiptNumber);
    await page.keyboard.type(`${wrong}\n`, { delay: 5 });
    await page.locator('.receipt-display[data-state="mistyped"]').waitFor();
    // The scan's Enter went nowhere: the next key, handled after it, still edits this entry screen.
    await page.click('[data-key="delete"]');
    assert.equal(await page.textContent('.entry-hint'), KIOSK_STRINGS.ja.entryProgress(11));
    assert.equal(s.rig.requests.filter((r) => r.receiptNumber === wrong).length, 0);
  });

  test('printer out of paper mid-print: staff-call screen; after staff load paper the same receipt prints', async () => {
    const { page } = await s.kiosk();
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      const app = await s.rig.apply();
      s.vp.setMode('media-empty');
      await submitOnKeypad(page, lang, app.receiptNumber);
      await waitForResult(page, 'printer');
      const text = (await page.textContent('[data-result="printer"]')) ?? '';
      for (const p of [t.printerProblem['media-empty'], t.callStaff, t.notLost]) assert.ok(text.includes(p), `missing "${p}" in ${text}`);
      await capture(page, `printer-media-empty-${lang}`);
      // The resident's issuance is not lost: the application is printable again.
      assert.equal(await s.rig.applicationStatus(app.applicationId), 'submitted');
      const before = s.vp.documents().length;
      await s.vp.clearFaults();
      await page.click('[data-action="retry"]');
      await heading(page).filter({ hasText: t.doneHeading }).waitFor({ timeout: 20_000 });
      assert.equal(s.vp.documents().length, before + 1);
      assert.equal(await s.rig.applicationStatus(app.applicationId), 'printed');
      await page.click('[data-action="finish"]');
    }
  });

  test('other printer faults: a jam mid-print, a failed job, paper out before anything is claimed', async () => {
    const { page } = await s.kiosk();
    for (const lang of BOTH) {
      const t = KIOSK_STRINGS[lang];
      for (const [mode, shown, name] of [
        ['media-jam', t.printerProblem['media-jam'], 'printer-media-jam'],
        ['fail', t.printerProblem.ready, 'printer-job-failed'],
      ] as const) {
        const app = await s.rig.apply();
        s.vp.setMode(mode);
        await submitOnKeypad(page, lang, app.receiptNumber);
        await waitForResult(page, 'printer');
        assert.ok((await page.textContent('[data-result="printer"]'))?.includes(shown));
        await capture(page, `${name}-${lang}`);
        assert.equal(await s.rig.applicationStatus(app.applicationId), 'submitted');
        await s.vp.clearFaults();
        await backToStart(page);
      }
      // An empty tray is seen before claiming: the applicant is not even asked.
      const app = await s.rig.apply();
      await s.vp.emptyMedia();
      await submitOnKeypad(page, lang, app.receiptNumber);
      await waitForResult(page, 'printer');
      assert.ok((await page.textContent('[data-result="printer"]'))?.includes(t.printerProblem['media-empty']));
      await capture(page, `printer-unavailable-${lang}`);
      assert.equal(s.rig.requests.filter((r) => r.receiptNumber === app.receiptNumber).length, 0);
      await s.vp.clearFaults();
      await backToStart(page);
    }
  });

  test('receipt in use at another kiosk: busy screen', async () => {
    const { page } = await s.kiosk();
    const other = new KioskApi(s.rig.endpoint, s.rig.kiosks[1]!.credential);
    s.rig.answer = () => 'ignore';
    for (const lang of BOTH) {
      const app = await s.rig.apply();
      const claim = await other.start(app.receiptNumber);
      await submitOnKeypad(page, lang, app.receiptNumber);
      await waitForResult(page, 'busy');
      assert.equal(await heading(page).textContent(), KIOSK_STRINGS[lang].busyHeading);
      await capture(page, `busy-${lang}`);
      await other.abandon(claim.issuanceId);
      await backToStart(page);
    }
  });

  test('server unreachable, kiosk not authorized (out of service), and a call refused by the host (error)', async () => {
    const app = await s.rig.apply();
    const dead = await s.kiosk({ endpoint: { baseUrl: `http://127.0.0.1:${await closedPort()}` } });
    const unauthorized = await s.kiosk({ credential: 'not-a-kiosk-credential' });
    for (const lang of BOTH) {
      await submitOnKeypad(dead.page, lang, app.receiptNumber);
      await waitForResult(dead.page, 'server-unreachable');
      assert.equal(await heading(dead.page).textContent(), KIOSK_STRINGS[lang].serverHeading);
      await capture(dead.page, `server-unreachable-${lang}`);
      await backToStart(dead.page);

      await submitOnKeypad(unauthorized.page, lang, app.receiptNumber);
      await waitForResult(unauthorized.page, 'out-of-service');
      await capture(unauthorized.page, `out-of-service-${lang}`);
      await backToStart(unauthorized.page);
    }
    // Two screens on one host: the second is refused while the first is being served.
    s.rig.answer = () => 'ignore';
    const { host, page } = await s.kiosk();
    const second = await openKiosk(s.browser, host.url);
    s.tabs.push(second);
    await submitOnKeypad(page, 'ja', app.receiptNumber);
    await page.locator('.screen-approve').waitFor();
    for (const lang of BOTH) {
      await submitOnKeypad(second.page, lang, app.receiptNumber);
      await waitForResult(second.page, 'error');
      assert.ok((await second.page.textContent('.staff-detail'))?.includes('kiosk_busy'));
      await capture(second.page, `error-${lang}`);
      await backToStart(second.page);
    }
    await page.click('[data-action="cancel"]');
    await page.locator('.screen-start').waitFor();
  });

  test('keyboard alone: language, entry, print, finish; focus lands on each new screen heading', async () => {
    const { page } = await s.kiosk();
    const app = await s.rig.apply();
    const focused = () => page.evaluate('document.activeElement?.getAttribute("data-language") ?? document.activeElement?.getAttribute("data-action") ?? document.activeElement?.tagName');
    assert.equal(await focused(), 'H1');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'start');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'en');
    await page.keyboard.press('Enter');
    await heading(page).filter({ hasText: KIOSK_STRINGS.en.startHeading }).waitFor();
    assert.equal(await focused(), 'en', 'focus stays on the language just chosen');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'start');
    await page.keyboard.press('Enter');
    await page.locator('.screen-entry').waitFor();
    assert.equal(await focused(), 'H1');
    // Human speed: digits go into the entry one by one, and a slip is fixed with Backspace.
    await page.keyboard.type(`${app.receiptNumber.slice(0, 5)}9`, { delay: 90 });
    await page.keyboard.press('Backspace');
    await page.keyboard.type(app.receiptNumber.slice(5), { delay: 90 });
    assert.equal(await page.textContent('.entry-hint'), KIOSK_STRINGS.en.entryComplete);
    await page.keyboard.press('Enter');
    await heading(page).filter({ hasText: KIOSK_STRINGS.en.doneHeading }).waitFor({ timeout: 20_000 });
    assert.equal(await focused(), 'H1');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'finish');
    await page.keyboard.press('Enter');
    await heading(page).filter({ hasText: KIOSK_STRINGS.ja.startHeading }).waitFor();
    assert.equal(await s.rig.applicationStatus(app.applicationId), 'printed');
  });

  test('kiosk inactivity: entry, result and done screens return to start in Japanese; the approval countdown is not cut short', async () => {
    const { page } = await s.kiosk({ inactivityMs: 1500 }, { clock: true });
    const startJa = heading(page).filter({ hasText: KIOSK_STRINGS.ja.startHeading });
    await startEntry(page, 'en');
    await tapDigits(page, '1234');
    await startJa.waitFor({ timeout: 5000 });

    await submitOnKeypad(page, 'en', generateReceiptNumber());
    await waitForResult(page, 'wrong-receipt');
    await startJa.waitFor({ timeout: 5000 });

    const app = await s.rig.apply();
    await submitOnKeypad(page, 'en', app.receiptNumber);
    await heading(page).filter({ hasText: KIOSK_STRINGS.en.doneHeading }).waitFor({ timeout: 20_000 });
    await startJa.waitFor({ timeout: 5000 });

    // While the resident looks at the phone, the countdown (not inactivity) is the limit.
    s.rig.answer = () => 'ignore';
    const waiting = await s.rig.apply();
    await submitOnKeypad(page, 'en', waiting.receiptNumber);
    await page.locator('.screen-approve').waitFor();
    // Twice the inactivity limit passes on the page's clock, every timer firing on the way.
    await page.clock.runFor(3000);
    assert.equal(await page.locator('.screen-approve').count(), 1);
    // Cancel abandons the attempt: the receipt is printable again (the device hears of it).
    let status: string | undefined;
    const onStatus = (u: { applicationId: string; status: string }) => {
      if (u.applicationId === waiting.applicationId) status = u.status;
    };
    s.rig.socket.on('application-status', onStatus);
    await page.click('[data-action="cancel"]');
    await page.locator('.screen-start').waitFor();
    await untilEvent(s.rig.socket, 'application-status', () => status === 'submitted', 'the application back to submitted', 5000).finally(() => s.rig.socket.off('application-status', onStatus));
    assert.equal(await s.rig.applicationStatus(waiting.applicationId), 'submitted');
  });

  test('admin exit: hidden behind five taps on the title; a wrong code is refused; the right one stops the kiosk', async () => {
    let exits = 0;
    let exited = () => {};
    const { host } = await s.kiosk({
      adminCode: '246810',
      onAdminExit: () => {
        exits++;
        exited();
      },
    });
    for (const lang of BOTH) {
      const tab = await openKiosk(s.browser, host.url);
      s.tabs.push(tab);
      const page = tab.page;
      const t = KIOSK_STRINGS[lang];
      await page.click(`[data-language="${lang}"]`);
      for (let i = 0; i < 5; i++) await page.click('.app-title');
      await heading(page).filter({ hasText: t.adminHeading }).waitFor();
      await capture(page, `admin-${lang}`);
      await tapDigits(page, '111111');
      await page.click('[data-action="admin-exit"]');
      await page.locator('.entry-hint', { hasText: t.adminWrong }).waitFor();
      await capture(page, `admin-wrong-${lang}`);
      assert.equal(exits, lang === 'ja' ? 0 : 1);
      await tapDigits(page, '246810');
      const exit = new Promise<void>((resolve) => (exited = resolve));
      await page.click('[data-action="admin-exit"]');
      await heading(page).filter({ hasText: t.adminClosing }).waitFor();
      await capture(page, `closing-${lang}`);
      await exit;
      assert.equal(exits, lang === 'ja' ? 1 : 2);
    }
  });
});

describe('kiosk UI in Chromium: server-side limits', function () {
  this.timeout(60_000);
  // The server's confirmation timeout is 3 s here, and each kiosk gets two lookups a minute.
  const { s, test } = kioskSuite({ confirmationTimeoutMs: 3000, kioskRateLimit: { burst: 2, perMinute: 1 } });

  test('no answer from the device in time: timed-out screen, then back to start; the application stays printable', async () => {
    const { page } = await s.kiosk();
    s.rig.answer = () => 'ignore';
    for (const lang of BOTH) {
      const app = await s.rig.apply();
      await submitOnKeypad(page, lang, app.receiptNumber);
      await page.locator('.screen-approve').waitFor();
      await waitForResult(page, 'timed-out', 15_000);
      assert.equal(await heading(page).textContent(), KIOSK_STRINGS[lang].timedOutHeading);
      await capture(page, `timed-out-${lang}`);
      assert.equal(await s.rig.applicationStatus(app.applicationId), 'submitted');
      await backToStart(page);
    }
  });

  test('too many lookups from one kiosk: too-many-tries screen', async () => {
    const { page } = await s.kiosk({ credential: s.rig.kiosks[1]!.credential });
    for (let i = 0; i < 2; i++) {
      await submitOnKeypad(page, 'ja', generateReceiptNumber());
      await waitForResult(page, 'wrong-receipt');
      await backToStart(page);
    }
    for (const lang of BOTH) {
      await submitOnKeypad(page, lang, generateReceiptNumber());
      await waitForResult(page, 'rate-limited');
      const text = (await page.textContent('[data-result="rate-limited"]')) ?? '';
      assert.match(text, /\d+/, 'says how long to wait');
      await capture(page, `rate-limited-${lang}`);
      await backToStart(page);
    }
  });
});
