// The resident at the store with only their phone (issue 9), in Chromium over the device rig: the
// applicant app (web mode) signs in with the virtual card and pairs a phone; the phone is Chromium
// with mobile emulation (a phone viewport, touch) and a virtual WebAuthn platform authenticator
// with user verification (DevTools protocol). The kiosk scans the QR code the phone shows (decoded
// from the rendered image with jsQR and typed as a USB scanner types it), the phone approves with
// its passkey, the printer prints. Then the PC answers while the phone shows the same prompt.
// Every phone screen is photographed in Japanese and English and checked with axe-core.
import { applicantStrings, KIOSK_STRINGS, PHONE_STRINGS } from '@cert/common/i18n';
import { startApplicantWebHost, type ApplicantWebHost } from 'desktop-applicant/web-host';
import { startKioskWebHost, type KioskWebHost } from 'kiosk-shell/web-host';
import jsQR from 'jsqr';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildApp } from '../../../src/build/build-apps.ts';
import { DEMO_KIOSKS } from '../../../src/demo/seed-demo.ts';
import type { DeviceRig } from '../../../src/rig/device-rig.ts';
import { REPO_ROOT } from '../../../src/rig/server-process.ts';
import type { VirtualMyNumberCard } from '../../../src/virtual-card/virtual-mynumber-card.ts';
import { assertAccessible, CHROMIUM_ARGS, EXPECTED_CONSOLE, startRigWhenFree } from './ui-helpers.ts';

const ja = applicantStrings.ja;
const pja = PHONE_STRINGS.ja;
const SHOTS = join(REPO_ROOT, '.test-output', 'screenshots', 'phone');

/** A phone as Chromium emulates one: 412×915 CSS pixels, touch, a mobile user agent. */
const PHONE = {
  viewport: { width: 412, height: 915 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  locale: 'ja-JP',
  timezoneId: 'Asia/Tokyo',
};

/** The phone screen in both languages (`<name>.ja.png`, `<name>.en.png`), axe-checked; back in Japanese. */
async function phoneShots(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const lang of ['ja', 'en'] as const) {
    if ((await page.getAttribute('html', 'lang')) !== lang) {
      await page.locator('#lang-switch').click();
      await page.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
    }
    await page.evaluate('document.fonts.ready.then(() => true)');
    await page.screenshot({ path: join(SHOTS, `${name}.${lang}.png`), animations: 'disabled', fullPage: true });
    await assertAccessible(page, `phone ${name} (${lang})`);
  }
  await page.locator('#lang-switch').click();
  await page.locator('html[lang="ja"]').waitFor({ state: 'attached' });
}

/** The QR code the phone shows, as Chromium rendered it, decoded by jsQR (what the kiosk's scanner reads). */
async function decodeShownQr(page: Page): Promise<string> {
  await page.locator('#receipt-qr[src^="data:"]').waitFor();
  const image = await page.evaluate<{ width: number; height: number; data: number[] }>(`(async () => {
    const img = document.getElementById('receipt-qr');
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { width: d.width, height: d.height, data: Array.from(d.data) };
  })()`);
  const code = jsQR(Uint8ClampedArray.from(image.data), image.width, image.height);
  assert.ok(code, 'the phone shows a QR code jsQR can read');
  return code.data;
}

describe('the phone in the resident’s hand: pairing, the receipt QR at the kiosk, approval with the passkey', function () {
  this.timeout(90_000);
  let rig: DeviceRig;
  let card: VirtualMyNumberCard | undefined;
  let applicantHost: ApplicantWebHost | undefined;
  let kioskHost: KioskWebHost | undefined;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  let pc: Page;
  let phone: Page;
  let kiosk: Page;

  const watch = (name: string, page: Page) => {
    page.on('pageerror', (e) => problems.push(`${name}: uncaught ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_CONSOLE.test(m.text())) problems.push(`${name}: console ${m.text()}`);
    });
  };
  const open = async (name: string, options: Parameters<Browser['newContext']>[0]) => {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    watch(name, page);
    return page;
  };
  const heading = (page: Page, text: string) => page.locator('main h2', { hasText: text }).waitFor();
  /** 住民票の写し for the household, one copy; returns the receipt number (12 digits). */
  const apply = async (): Promise<string> => {
    await pc.getByRole('navigation').getByRole('button', { name: ja.app.navApply }).click();
    await heading(pc, ja.apply.title);
    await pc.getByLabel('住民票の写し').check();
    await pc.getByLabel('世帯全員').check();
    await pc.getByRole('button', { name: ja.apply.next }).click();
    await heading(pc, ja.confirm.title);
    await pc.getByRole('button', { name: ja.confirm.submit, exact: true }).click();
    await heading(pc, ja.receipt.title);
    return ((await pc.locator('#receipt-number').textContent()) ?? '').replaceAll('-', '').trim();
  };
  /** The PC's prompt, once it shows the print's end, is closed (it is modal). */
  const closePcPrompt = async () => {
    await pc.locator('#print-prompt').getByText(ja.prompt.outcomes.printed).waitFor({ timeout: 10_000 });
    await pc.locator('#print-prompt').getByRole('button', { name: ja.prompt.close }).click();
    await pc.locator('#print-prompt').waitFor({ state: 'hidden' });
  };
  /** The kiosk scans what the phone shows: its receipt QR decoded, typed as a USB scanner types. */
  const scanPhoneAtKiosk = async (receipt: string) => {
    await phone.locator(`button[data-receipt="${receipt}"]`).click();
    await phone.locator('#receipt-number').waitFor();
    const scanned = await decodeShownQr(phone);
    assert.equal(scanned, receipt, 'the QR code holds exactly the receipt number the kiosk reads');
    if (kiosk.url() !== kioskHost!.url) await kiosk.goto(kioskHost!.url);
    await kiosk.locator('.screen-start').waitFor();
    await kiosk.click('[data-language="ja"]');
    await kiosk.keyboard.type(`${scanned}\n`, { delay: 5 });
    await kiosk.locator('.screen-approve').waitFor({ timeout: 20_000 });
  };

  before(async function () {
    this.timeout(15 * 60_000);
    rig = await startRigWhenFree();
    await buildApp('desktop-applicant');
    await buildApp('kiosk-shell');
    card = await rig.insertCard({ residentId: 'R0001' });
    applicantHost = await startApplicantWebHost({ dataDir: mkdtempSync(join(rig.work, 'applicant-')), serverUrl: rig.serverUrl, log: () => undefined });
    kioskHost = await startKioskWebHost({
      endpoint: { baseUrl: rig.serverUrl },
      credential: rig.kiosks[0]!.credential,
      printerUri: rig.printer.uri,
      storeName: rig.kiosks[0]!.name,
      location: DEMO_KIOSKS[0].location,
      inactivityMs: 90_000,
      decisionTimeoutMs: 150_000,
      printTimeoutMs: 30_000,
      adminCode: null,
      // The phone's part is the subject here; paying is walked in kiosk-payment-ui.test.ts.
      payment: { mode: 'free' },
      stateDir: join(rig.work, 'kiosk-state'),
      session: { jobPollIntervalMs: 50, retryDelayMs: 100, printerFaultToleranceMs: 2000 },
      log: () => undefined,
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    pc = await open('pc', { viewport: { width: 1040, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    phone = await open('phone', PHONE);
    kiosk = await open('kiosk', { viewport: { width: 1920, height: 1080 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    // The phone's platform authenticator: a passkey with user verification (fingerprint, face).
    const cdp = await phone.context().newCDPSession(phone);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      mkdirSync(SHOTS, { recursive: true });
      for (const [name, page] of [['pc', pc], ['phone', phone], ['kiosk', kiosk]] as const) await page?.screenshot({ path: join(SHOTS, `failed-${name}.png`) }).catch(() => undefined);
      console.log(`problems: ${JSON.stringify(problems)}`);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close().catch(() => undefined);
    await kioskHost?.close().catch(() => undefined);
    await applicantHost?.close().catch(() => undefined);
    await card?.remove().catch(() => undefined);
    await rig?.close();
  });

  it('pairs the phone from the card session: same check code on both, confirmed on the PC', async () => {
    await phone.goto(new URL('/phone/', rig.serverUrl.replace('127.0.0.1', 'localhost')).href);
    await heading(phone, pja.pair.title);
    await phoneShots(phone, '01-opened-without-pairing-link');

    await pc.goto(applicantHost!.url);
    await heading(pc, ja.card.title);
    await pc.locator('#card-status', { hasText: ja.card.ready }).waitFor({ timeout: 15_000 });
    await pc.getByLabel(ja.pin.label).fill('1234');
    await pc.keyboard.press('Enter');
    await heading(pc, ja.apply.title);
    await pc.getByRole('navigation').getByRole('button', { name: ja.app.navPhones }).click();
    await heading(pc, ja.phones.title);
    await pc.click('#pair-start');
    const url = ((await pc.locator('#pairing-url').textContent()) ?? '').trim();
    assert.match(url, /^http:\/\/localhost:\d+\/phone\/#pair=[A-Za-z0-9_-]{43}$/, 'the pairing URL as text on the PC');
    await pc.locator('#pairing-qr').waitFor();
    await assertAccessible(pc, 'PC pairing QR');
    await pc.screenshot({ path: join(SHOTS, 'pc-01-pairing-qr.png'), fullPage: true });

    await phone.goto(url);
    await phone.locator('#pair-submit').waitFor();
    await phoneShots(phone, '02-pair');
    await phone.fill('#phone-label', 'Pixel テスト');
    await phone.locator('#pair-submit').tap();
    await phone.locator('#pair-code').waitFor({ timeout: 20_000 });
    assert.doesNotMatch(phone.url(), /pair=/, 'the spent secret left the address bar');
    const phoneCode = ((await phone.locator('#pair-code').textContent()) ?? '').trim();
    await phoneShots(phone, '03-waiting-for-pc');

    await pc.locator('#pairing-code').waitFor({ timeout: 10_000 });
    assert.equal(((await pc.locator('#pairing-code').textContent()) ?? '').trim(), phoneCode, 'the PC shows the code the phone shows');
    assert.match((await pc.locator('#pairing-phone').textContent()) ?? '', /Pixel テスト/);
    await assertAccessible(pc, 'PC pairing confirmation');
    await pc.screenshot({ path: join(SHOTS, 'pc-02-pairing-check-code.png'), fullPage: true });
    await pc.click('#pair-confirm');
    await pc.locator('tr[data-phone]', { hasText: phoneCode }).waitFor();
    await assertAccessible(pc, 'PC phone list');
    await pc.screenshot({ path: join(SHOTS, 'pc-03-phone-list.png'), fullPage: true });
    await heading(phone, pja.home.title);
    await phone.locator('#connection', { hasText: pja.connection.online }).waitFor();
    await phoneShots(phone, '04-home-empty');
    assert.deepEqual(problems, []);
  });

  it('applies on the PC; the kiosk scans the receipt QR on the phone; the phone approves with its passkey; the kiosk prints', async () => {
    const receipt = await apply();
    await phone.locator(`button[data-receipt="${receipt}"]`).waitFor({ timeout: 10_000 });
    await phoneShots(phone, '05-home-with-receipt');
    await phone.locator(`button[data-receipt="${receipt}"]`).tap();
    await phone.locator('#receipt-number').waitFor();
    await phoneShots(phone, '06-receipt-qr');
    await phone.locator('main button', { hasText: pja.receipt.back }).tap();

    const printed = rig.printer.documents().length;
    await scanPhoneAtKiosk(receipt);
    await phone.locator('#prompt').waitFor({ timeout: 10_000 });
    const text = (await phone.locator('#prompt').textContent()) ?? '';
    for (const part of [rig.kiosks[0]!.name, DEMO_KIOSKS[0].location, '住民票の写し', '1通', '200円']) assert.ok(text.includes(part), `${part} in the phone's prompt: ${text}`);
    await phone.locator('#countdown', { hasText: /残り \d分\d{2}秒/ }).waitFor();
    await phoneShots(phone, '07-prompt');
    await phone.locator('#approve').tap();
    await kiosk.locator('main h1', { hasText: KIOSK_STRINGS.ja.doneHeading }).waitFor({ timeout: 30_000 });
    await phone.locator('#outcome', { hasText: pja.outcome.statuses.printed }).waitFor({ timeout: 30_000 });
    await phoneShots(phone, '08-outcome-printed');
    assert.equal(rig.printer.documents().length, printed + 1, 'the kiosk printed one document');
    await kiosk.click('[data-action="finish"]');
    await phone.locator('main button', { hasText: pja.outcome.back }).tap();
    await phone.locator(`button[data-receipt="${receipt}"]`).waitFor({ state: 'detached' });
    // The PC was asked too; it shows how the phone's answer ended.
    await closePcPrompt();
    // The service worker cached the app's shell and nothing else (no API answer, no receipt).
    const cached = await phone.evaluate<string[]>(`(async () => {
      const urls = [];
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
      return urls.sort();
    })()`);
    assert.ok(cached.length > 0, 'the shell is cached for offline start');
    for (const path of cached) assert.match(path, /^\/phone\/(app\.js|styles\.css|manifest\.webmanifest|icon\.svg)?$/, `only the shell is cached: ${path}`);
    assert.deepEqual(problems, []);
  });

  it('the PC approves while the phone shows the same prompt: the phone says it was answered elsewhere', async () => {
    const receipt = await apply();
    await phone.locator(`button[data-receipt="${receipt}"]`).waitFor({ timeout: 10_000 });
    const printed = rig.printer.documents().length;
    await scanPhoneAtKiosk(receipt);
    await phone.locator('#prompt').waitFor({ timeout: 10_000 });
    await pc.locator('#print-prompt').getByRole('button', { name: ja.prompt.approve }).click();
    await phone.locator('#outcome', { hasText: pja.outcome.statuses.answeredElsewhere }).waitFor({ timeout: 10_000 });
    await phoneShots(phone, '09-outcome-answered-on-pc');
    await phone.locator('#outcome', { hasText: pja.outcome.statuses.printed }).waitFor({ timeout: 30_000 });
    assert.equal(rig.printer.documents().length, printed + 1);
    await kiosk.click('[data-action="finish"]');
    await phone.locator('main button', { hasText: pja.outcome.back }).tap();
    await closePcPrompt();
    assert.deepEqual(problems, []);
  });

  it('removed on the PC: the phone says so and forgets its key', async () => {
    await pc.getByRole('navigation').getByRole('button', { name: ja.app.navPhones }).click();
    await heading(pc, ja.phones.title);
    await pc.locator('button[data-remove]').first().click();
    await pc.locator('button[data-remove-yes]').first().click();
    await pc.locator('tr[data-phone]').waitFor({ state: 'detached' });
    await heading(phone, pja.removed.title);
    await phoneShots(phone, '10-removed');
    await phone.reload();
    await heading(phone, pja.pair.title);
    assert.deepEqual(problems, []);
  });
});
