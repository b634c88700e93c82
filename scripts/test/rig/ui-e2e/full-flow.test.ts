// Both UIs in Chromium against one device rig, as a resident and a store would use them: the
// applicant app (web mode) over pcscd + vpcd with the virtual My Number card, and the kiosk shell
// (web mode) over ippeveprinter, both talking to the same issuance server. Every number the kiosk
// is given is read off the applicant's screen; every answer is clicked in the applicant's prompt.
import { applicantStrings, KIOSK_STRINGS } from '@cert/common/i18n';
import { startApplicantWebHost, type ApplicantWebHost } from 'desktop-applicant/web-host';
import { startKioskWebHost, type KioskWebHost, type KioskWebHostOptions } from 'kiosk-shell/web-host';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildApp } from '../../../src/build/build-apps.ts';
import { DEMO_KIOSKS } from '../../../src/demo/seed-demo.ts';
import type { DeviceRig } from '../../../src/rig/device-rig.ts';
import { REPO_ROOT } from '../../../src/rig/server-process.ts';
import { assertAccessible, CHROMIUM_ARGS, EXPECTED_CONSOLE, startRigWhenFree } from './ui-helpers.ts';
import type { VirtualMyNumberCard } from '../../../src/virtual-card/virtual-mynumber-card.ts';

const ja = applicantStrings.ja;
const kja = KIOSK_STRINGS.ja;
const RIGHT_PIN = '1234';
const WRONG_PIN = '9999';
const SHOTS = join(REPO_ROOT, '.test-output', 'screenshots', 'full-flow');
// The timed-out kiosk: gives up on the applicant after this long, and returns to start after this much inactivity.
const SHORT_DECISION_MS = 4000;
const SHORT_INACTIVITY_MS = 3000;
/** One screenshot per step (fonts loaded first), checked with axe. */
async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate('document.fonts.ready.then(() => true)');
  await page.screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled' });
  await assertAccessible(page, name);
}

/** The text of a printed PDF. */
function pdfText(path: string): string {
  const r = spawnSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`pdftotext failed on ${path}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Records every kiosk screen as it appears (kind and time), so that a screen which flashed past
 * too quickly for a resident to read is caught. Installed through DevTools (the CSP allows no eval).
 */
const WATCH_SCREENS = `(() => {
  if (window.__screens) return true;
  const log = (window.__screens = []);
  const main = document.querySelector('main');
  const note = () => {
    const s = main.firstElementChild;
    if (s) log.push({ at: Date.now(), kind: s.getAttribute('data-result') ?? s.className, heading: s.querySelector('h1')?.textContent ?? '' });
  };
  new MutationObserver(note).observe(main, { childList: true });
  note();
  return true;
})()`;
type ScreenSeen = { at: number; kind: string; heading: string };

describe('both UIs in Chromium over the device rig: resident at home, store kiosk', function () {
  this.timeout(60_000);
  let rig: DeviceRig;
  let card: VirtualMyNumberCard | undefined;
  let applicantHost: ApplicantWebHost | undefined;
  let browser: Browser;
  const kioskHosts: KioskWebHost[] = [];
  let mainKiosk: KioskWebHost;
  let shortKiosk: KioskWebHost;
  /** The contexts of the running test (a fresh pair per test). */
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const hostLog: string[] = [];
  /** The receipt numbers the tests have applied for, as the applicant screen shows them. */
  const receipts: { printed?: string; declined?: string; timedOut?: string; paper?: string } = {};

  const kioskConfig = (i: 0 | 1, overrides: Partial<KioskWebHostOptions> = {}): KioskWebHostOptions => ({
    endpoint: { baseUrl: rig.serverUrl },
    credential: rig.kiosks[i]!.credential,
    printerUri: rig.printer.uri,
    storeName: rig.kiosks[i]!.name,
    location: DEMO_KIOSKS[i].location,
    inactivityMs: 90_000,
    decisionTimeoutMs: 150_000,
    printTimeoutMs: 30_000,
    adminCode: null,
    stateDir: join(rig.work, `kiosk-state-${i}`),
    payment: { mode: 'free' },
    session: { jobPollIntervalMs: 50, retryDelayMs: 100, printerFaultToleranceMs: 2000 },
    log: (m) => hostLog.push(`kiosk ${i}: ${m}`),
    ...overrides,
  });

  const newPage = async (name: string, options: Parameters<Browser['newContext']>[0]): Promise<Page> => {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`${name}: uncaught ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_CONSOLE.test(m.text())) problems.push(`${name}: console ${m.text()}`);
    });
    return page;
  };
  /** The applicant app in a fresh context, as on the resident's PC. */
  const openApplicant = async (): Promise<Page> => {
    const page = await newPage('applicant', { viewport: { width: 1040, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    await page.goto(applicantHost!.url);
    return page;
  };
  /** A kiosk screen in a fresh context (landscape full HD), on its start screen, its screens recorded. */
  const openKiosk = async (host: KioskWebHost): Promise<Page> => {
    const page = await newPage('kiosk', { viewport: { width: 1920, height: 1080 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    await page.goto(host.url);
    await page.locator('.screen-start').waitFor();
    await page.evaluate(WATCH_SCREENS);
    return page;
  };
  const screensSeen = (page: Page) => page.evaluate<ScreenSeen[]>('window.__screens');

  // ——— applicant steps ———
  const heading = (page: Page, text: string) => page.locator('main h2', { hasText: text }).waitFor();
  const menu = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name });
  const prompt = (page: Page) => page.locator('#print-prompt');
  /** Types the PIN with the keyboard into the PIN field and presses Enter. */
  const typePin = async (page: Page, pin: string) => {
    await page.getByLabel(ja.pin.label).focus();
    await page.keyboard.type(pin);
    await page.keyboard.press('Enter');
  };
  /** 住民票の写し, household, one copy; returns the receipt number as the screen shows it (grouped). */
  const applyForJuminhyo = async (page: Page, shotName?: string): Promise<string> => {
    await menu(page, ja.app.navApply).click();
    await heading(page, ja.apply.title);
    await page.getByLabel('住民票の写し').check();
    await page.getByLabel('世帯全員').check();
    await page.getByLabel(ja.apply.copies).selectOption('1');
    await page.locator('#fee-total', { hasText: '200円' }).waitFor();
    if (shotName) await shot(page, `${shotName}-apply`);
    await page.getByRole('button', { name: ja.apply.next }).click();
    await heading(page, ja.confirm.title);
    const summary = (await page.locator('main dl').textContent()) ?? '';
    for (const part of ['住民票の写し', '世帯全員', '1通', '200円']) assert.ok(summary.includes(part), `${part} in the confirmation: ${summary}`);
    if (shotName) await shot(page, `${shotName}-confirm`);
    await page.getByRole('button', { name: ja.confirm.submit, exact: true }).click();
    await heading(page, ja.receipt.title);
    const grouped = ((await page.locator('#receipt-number').textContent()) ?? '').trim();
    assert.match(grouped, /^\d{4}-\d{4}-\d{4}$/, 'the receipt number is shown in groups of four');
    if (shotName) await shot(page, `${shotName}-receipt`);
    return grouped;
  };
  /** The status badge of a receipt in the applicant's list. */
  const listStatus = async (page: Page, grouped: string, status: string) => {
    await menu(page, ja.app.navReceipts).click();
    await heading(page, ja.receipts.title);
    await page.locator('tbody tr', { hasText: grouped }).locator('.badge', { hasText: status }).waitFor();
  };
  /** Waits for the print prompt of a receipt and checks what it shows the resident. */
  const promptFor = async (page: Page, grouped: string, store: string) => {
    await prompt(page).locator('h2', { hasText: ja.prompt.title }).waitFor();
    const text = (await prompt(page).textContent()) ?? '';
    for (const part of [store, '住民票の写し', '1通', '200円', grouped]) assert.ok(text.includes(part), `${part} in the prompt: ${text}`);
  };
  const closePrompt = async (page: Page) => {
    await prompt(page).getByRole('button', { name: ja.prompt.close }).click();
    await prompt(page).waitFor({ state: 'hidden' });
  };

  // ——— kiosk steps ———
  const kioskHeading = (page: Page, text: string, timeout = 20_000) => page.locator('main h1', { hasText: text }).waitFor({ timeout });
  /** 日本語, then the receipt number typed digit by digit on the on-screen keypad, then 次へ. */
  const keypadEntry = async (page: Page, grouped: string, shotName?: string) => {
    await page.click('[data-language="ja"]');
    await page.click('[data-action="start"]');
    await page.locator('.screen-entry').waitFor();
    for (const d of grouped.replaceAll('-', '')) await page.click(`[data-key="${d}"]`);
    assert.equal(await page.textContent('.receipt-display .digits'), grouped, 'the keypad shows the number as the app does');
    assert.equal(await page.textContent('.entry-hint'), kja.entryComplete);
    if (shotName) await shot(page, shotName);
    await page.click('[data-action="submit"]');
  };
  /** The approval screen, naming the store that the applicant's prompt will name. */
  const approveScreen = async (page: Page, store: string) => {
    await page.locator('.screen-approve').waitFor();
    await kioskHeading(page, kja.approveHeading);
    assert.equal(await page.textContent('.screen-approve .store'), kja.approveStore(store));
  };

  before(async function () {
    this.timeout(15 * 60_000); // waiting for another process's pcscd may take a while
    rig = await startRigWhenFree();
    // Built after the rig: the PC/SC tests of another process (which rebuild too) are over by then.
    await buildApp('desktop-applicant');
    await buildApp('kiosk-shell');
    card = await rig.insertCard({ residentId: 'R0001' });
    applicantHost = await startApplicantWebHost({ dataDir: mkdtempSync(join(rig.work, 'applicant-')), log: (m) => hostLog.push(`applicant: ${m}`) });
    mainKiosk = await startKioskWebHost(kioskConfig(0));
    kioskHosts.push(mainKiosk);
    // The second store's kiosk gives up on the applicant after 4 s and goes idle after 3 s.
    shortKiosk = await startKioskWebHost(kioskConfig(1, { decisionTimeoutMs: SHORT_DECISION_MS, inactivityMs: SHORT_INACTIVITY_MS }));
    kioskHosts.push(shortKiosk);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      mkdirSync(SHOTS, { recursive: true });
      const pages = contexts.flatMap((c) => c.pages());
      for (const [i, p] of pages.entries()) await p.screenshot({ path: join(SHOTS, `failed-${this.currentTest.title.slice(0, 30).replace(/\W+/g, '-')}-${i}.png`) }).catch(() => undefined);
      console.log(`problems: ${JSON.stringify(problems)}\nhost log:\n  ${hostLog.join('\n  ')}\nprinter log (tail):\n${rig?.printer.log().slice(-1500)}`);
    }
    hostLog.length = 0;
    // Pages before hosts; leave the printer as the next test expects it.
    await Promise.allSettled(contexts.splice(0).map((c) => c.close()));
    if (rig) {
      rig.printer.setMode('ok');
      await rig.printer.clearFaults().catch(() => undefined);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled(contexts.splice(0).map((c) => c.close()));
    await browser?.close().catch(() => undefined);
    await Promise.allSettled(kioskHosts.map((h) => h.close()));
    await applicantHost?.close().catch(() => undefined);
    await card?.remove().catch(() => undefined);
    await rig?.close();
  });

  it('full flow: PIN at home, 住民票の写し, the number typed at the kiosk, Approve on the device, printed', async () => {
    const app = await openApplicant();
    // Connect as the resident would: the municipality's address typed into the app.
    await heading(app, ja.connect.title);
    await app.getByLabel(ja.connect.urlLabel).fill(rig.serverUrl);
    await shot(app, '01-applicant-connect');
    await app.getByRole('button', { name: ja.connect.submit }).click();
    await heading(app, ja.card.title);
    await app.locator('#card-status', { hasText: ja.card.ready }).waitFor({ timeout: 15_000 });
    await app.locator('#tries-left', { hasText: ja.card.triesLeft(3) }).waitFor();
    await shot(app, '02-applicant-card-ready');
    await typePin(app, RIGHT_PIN);
    await heading(app, ja.apply.title);
    await app.getByText(ja.pin.signedIn('山田 太郎')).waitFor();
    const grouped = await applyForJuminhyo(app, '03');
    receipts.printed = grouped;

    const kiosk = await openKiosk(mainKiosk);
    await shot(kiosk, '04-kiosk-start');
    await keypadEntry(kiosk, grouped, '05-kiosk-keypad');
    const store = rig.kiosks[0]!.name;
    await approveScreen(kiosk, store);
    await shot(kiosk, '06-kiosk-approve-on-device');

    // The job takes 2 s, so that the printing screen is there to be seen.
    rig.printer.setMode('delay:2');
    const printedBefore = rig.printer.documents().length;
    await promptFor(app, grouped, store);
    await shot(app, '07-applicant-prompt');
    await prompt(app).getByRole('button', { name: ja.prompt.approve }).click();

    await kioskHeading(kiosk, kja.printingHeading);
    await shot(kiosk, '08-kiosk-printing');
    await kioskHeading(kiosk, kja.doneHeading);
    await shot(kiosk, '09-kiosk-done');
    const docs = rig.printer.documents();
    assert.equal(docs.length, printedBefore + 1, 'the printer received one document');
    const text = pdfText(docs.at(-1)!.path);
    assert.ok(text.includes('山田 太郎'), `the printed certificate names the resident:\n${text.slice(0, 800)}`);

    await prompt(app).getByText(ja.prompt.outcomes.printed).waitFor({ timeout: 10_000 });
    await closePrompt(app);
    await listStatus(app, grouped, ja.receipts.statuses.printed);
    await shot(app, '10-applicant-list-printed');
    await kiosk.click('[data-action="finish"]');
    await kiosk.locator('.screen-start').waitFor();
    assert.deepEqual(problems, [], 'no script errors in either UI');
  });

  it('wrong PIN: tries left goes from 3 to 2 with an error; the right PIN then signs in', async () => {
    // A fresh app install (started with the server address) finds the card signed out.
    await applicantHost!.close();
    applicantHost = undefined;
    applicantHost = await startApplicantWebHost({ dataDir: mkdtempSync(join(rig.work, 'applicant-')), serverUrl: rig.serverUrl, log: (m) => hostLog.push(`applicant: ${m}`) });
    const app = await openApplicant();
    await heading(app, ja.card.title);
    await app.locator('#card-status', { hasText: ja.card.ready }).waitFor({ timeout: 15_000 });
    await app.locator('#tries-left', { hasText: ja.card.triesLeft(3) }).waitFor();
    await typePin(app, WRONG_PIN);
    await app.locator('main [role="alert"]', { hasText: ja.pin.wrongPin(2) }).waitFor();
    await app.locator('#tries-left', { hasText: ja.card.triesLeft(2) }).waitFor();
    assert.equal(await app.getByLabel(ja.pin.label).inputValue(), '', 'the wrong PIN is not left in the field');
    assert.equal(card!.state.counters.auth.remaining, 2);
    await shot(app, '11-applicant-wrong-pin');
    await typePin(app, RIGHT_PIN);
    await heading(app, ja.apply.title);
    await app.getByText(ja.pin.signedIn('山田 太郎')).waitFor();
    assert.equal(card!.state.counters.auth.remaining, 3, 'the right PIN resets the counter');
    assert.deepEqual(problems, []);
  });

  it('decline on the device: the kiosk says so and returns to start; the application is printable again', async () => {
    const app = await openApplicant();
    await heading(app, ja.apply.title);
    const grouped = await applyForJuminhyo(app);
    receipts.declined = grouped;
    const kiosk = await openKiosk(mainKiosk);
    const printedBefore = rig.printer.documents().length;
    await keypadEntry(kiosk, grouped);
    await approveScreen(kiosk, rig.kiosks[0]!.name);
    await promptFor(app, grouped, rig.kiosks[0]!.name);
    await prompt(app).getByRole('button', { name: ja.prompt.decline }).click();
    await kiosk.locator('[data-result="declined"]').waitFor({ timeout: 20_000 });
    await kioskHeading(kiosk, kja.declinedHeading);
    await shot(kiosk, '12-kiosk-declined');
    await prompt(app).getByText(ja.prompt.outcomes.declined).waitFor();
    await closePrompt(app);
    await kiosk.click('[data-action="restart"]');
    await kiosk.locator('.screen-start').waitFor();
    await kioskHeading(kiosk, kja.startHeading);
    assert.equal(rig.printer.documents().length, printedBefore, 'nothing was printed');
    await listStatus(app, grouped, ja.receipts.statuses.submitted);
    await shot(app, '13-applicant-list-after-decline');
    assert.deepEqual(problems, []);
  });

  it('no answer from the device: the kiosk shows timed-out long enough to read, then returns to start', async () => {
    const app = await openApplicant();
    await heading(app, ja.apply.title);
    const grouped = await applyForJuminhyo(app);
    receipts.timedOut = grouped;
    const kiosk = await openKiosk(shortKiosk);
    await keypadEntry(kiosk, grouped);
    const store = rig.kiosks[1]!.name;
    await approveScreen(kiosk, store);
    await promptFor(app, grouped, store);
    // The resident does not answer; nobody touches the kiosk.
    await kiosk.locator('.screen-start').waitFor({ timeout: SHORT_DECISION_MS + SHORT_INACTIVITY_MS + 10_000 });
    const seen = await screensSeen(kiosk);
    const i = seen.findIndex((s) => s.kind === 'timed-out');
    assert.ok(i >= 0, `the timed-out screen was shown: ${JSON.stringify(seen)}`);
    assert.equal(seen[i]!.heading, kja.timedOutHeading);
    const next = seen[i + 1];
    assert.ok(next && next.kind.includes('screen-start'), `then the start screen: ${JSON.stringify(seen)}`);
    const shownMs = next.at - seen[i]!.at;
    assert.ok(shownMs >= SHORT_INACTIVITY_MS - 500, `the timed-out screen stayed up for only ${shownMs} ms (inactivity ${SHORT_INACTIVITY_MS} ms): ${JSON.stringify(seen)}`);
    await shot(kiosk, '14-kiosk-back-to-start-after-timeout');
    // The prompt on the device says the attempt is over; the receipt can still be printed.
    await prompt(app).getByText(ja.prompt.outcomes.abandoned).waitFor({ timeout: 10_000 });
    await shot(app, '15-applicant-prompt-abandoned');
    await closePrompt(app);
    await listStatus(app, grouped, ja.receipts.statuses.submitted);
    assert.deepEqual(problems, []);
  });

  it('printer out of paper when approved: staff-call screen; after paper is loaded the same number prints', async () => {
    const app = await openApplicant();
    await heading(app, ja.apply.title);
    const grouped = await applyForJuminhyo(app);
    receipts.paper = grouped;
    const kiosk = await openKiosk(mainKiosk);
    const store = rig.kiosks[0]!.name;
    await keypadEntry(kiosk, grouped);
    await approveScreen(kiosk, store);
    await promptFor(app, grouped, store);
    // The tray runs empty while the resident looks at the phone.
    await rig.printer.emptyMedia();
    const printedBefore = rig.printer.documents().length;
    await prompt(app).getByRole('button', { name: ja.prompt.approve }).click();
    await kiosk.locator('[data-result="printer"]').waitFor({ timeout: 20_000 });
    const text = (await kiosk.textContent('[data-result="printer"]')) ?? '';
    for (const p of [kja.printerHeading, kja.printerProblem['media-empty'], kja.callStaff, kja.notLost]) assert.ok(text.includes(p), `"${p}" on the printer screen: ${text}`);
    await shot(kiosk, '16-kiosk-out-of-paper');
    await prompt(app).getByText(ja.prompt.outcomes.print_failed).waitFor({ timeout: 10_000 });
    await closePrompt(app);
    await listStatus(app, grouped, ja.receipts.statuses.submitted);
    assert.equal(rig.printer.documents().length, printedBefore, 'no document reached the empty printer');

    // Staff load paper; the resident types the same number again.
    await rig.printer.clearMedia();
    await kiosk.click('[data-action="restart"]');
    await kiosk.locator('.screen-start').waitFor();
    await keypadEntry(kiosk, grouped);
    await approveScreen(kiosk, store);
    await promptFor(app, grouped, store);
    await prompt(app).getByRole('button', { name: ja.prompt.approve }).click();
    await kioskHeading(kiosk, kja.doneHeading);
    await shot(kiosk, '17-kiosk-done-after-paper');
    assert.equal(rig.printer.documents().length, printedBefore + 1);
    assert.ok(pdfText(rig.printer.documents().at(-1)!.path).includes('山田 太郎'));
    await prompt(app).getByText(ja.prompt.outcomes.printed).waitFor({ timeout: 10_000 });
    await closePrompt(app);
    await listStatus(app, grouped, ja.receipts.statuses.printed);
    await shot(app, '18-applicant-list-final');
    // The whole day in the list: printed, declined (printable), timed out (printable), printed after the paper.
    for (const [n, s] of [
      [receipts.declined, ja.receipts.statuses.submitted],
      [receipts.timedOut, ja.receipts.statuses.submitted],
    ] as const) {
      if (n) await app.locator('tbody tr', { hasText: n }).locator('.badge', { hasText: s }).waitFor();
    }
    assert.deepEqual(problems, []);
  });
});
