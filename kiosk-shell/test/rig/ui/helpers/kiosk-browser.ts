// Debian's Chromium driven by playwright-core against the kiosk's web mode: launching, opening
// the kiosk (also a whole web-mode kiosk on a test rig), entering a receipt, screenshots
// (1920×1080 landscape, the panel the UI is designed for) and axe checks.
import type { KioskLanguage } from '@cert/common/i18n';
import { REPO_ROOT } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startKioskWebHost, type KioskWebHost, type KioskWebHostOptions } from '../../../../src/host/kiosk-web-host.ts';
import type { IssuanceRig } from '../../helpers/issuance-rig.ts';

/** Where every screen's screenshot goes (git-ignored). */
export const SCREENSHOT_DIR = join(REPO_ROOT, '.test-output', 'screenshots', 'kiosk');
/** The kiosk panel: landscape full HD. */
export const VIEWPORT = { width: 1920, height: 1080 };
const AXE_PATH = join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js');

// Chrome reports this for the CSP <meta>, which repeats the header policy word for word.
const EXPECTED_CONSOLE = [/'frame-ancestors' is ignored when delivered via a <meta> element/];

/** Launches headless Chromium (playwright gives every launch a fresh temporary profile). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** One kiosk tab with the console errors it logged. */
export interface KioskTab {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, expected ones left out. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Opens the kiosk URL in a new context and waits for the start screen. With `clock`, the page's
 * timers run on Playwright's clock: time flows as usual, and a test can also move it forward.
 */
export async function openKiosk(browser: Browser, url: string, options: { clock?: boolean } = {}): Promise<KioskTab> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  if (options.clock) await context.clock.install();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED_CONSOLE.some((re) => re.test(m.text()))) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(url);
  await page.locator('.screen-start').waitFor();
  return { page, context, errors, close: () => context.close() };
}

/** Where a test's kiosks stand: the rig's server (and its first kiosk's credential), a printer, a folder for their state. */
export interface KioskSite {
  rig: IssuanceRig;
  printerUri: string;
  /** Each kiosk gets its own state directory below it (one kiosk per directory). */
  work: string;
  browser: Browser;
}

/** Starts a web-mode kiosk at the site (quick polling, long timeouts, no admin code) and opens it; the caller closes the host and the tab. */
export async function startSiteKiosk(site: KioskSite, overrides: Partial<KioskWebHostOptions> = {}): Promise<{ host: KioskWebHost; tab: KioskTab; stateDir: string }> {
  const stateDir = overrides.stateDir ?? mkdtempSync(join(site.work, 'state-'));
  const host = await startKioskWebHost({
    endpoint: site.rig.endpoint,
    credential: site.rig.kiosks[0]!.credential,
    printerUri: site.printerUri,
    storeName: 'コンビニ テスト駅前店',
    location: 'テスト市本町1-1',
    inactivityMs: 60_000,
    decisionTimeoutMs: 60_000,
    printTimeoutMs: 30_000,
    adminCode: null,
    stateDir,
    payment: { mode: 'free' },
    session: { jobPollIntervalMs: 50, retryDelayMs: 100, printerFaultToleranceMs: 1500 },
    ...overrides,
  });
  try {
    return { host, tab: await openKiosk(site.browser, host.url), stateDir };
  } catch (e) {
    await host.close();
    throw e;
  }
}

/** From the start screen: the language, the keypad, the receipt number, and next. */
export async function submitReceipt(page: Page, lang: KioskLanguage, receipt: string): Promise<void> {
  await page.click(`[data-language="${lang}"]`);
  await page.click('[data-action="start"]');
  await tapDigits(page, receipt);
  await page.click('[data-action="submit"]');
}

/** The heading of the screen on show. */
export function heading(page: Page) {
  return page.locator('main h1');
}

/** Waits for a result screen of the given kind (`wrong-receipt`, `printer`…). */
export async function waitForResult(page: Page, kind: string, timeout = 20_000): Promise<void> {
  await page.locator(`[data-result="${kind}"]`).waitFor({ timeout });
}

/** Taps digits on the on-screen keypad. */
export async function tapDigits(page: Page, digits: string): Promise<void> {
  for (const d of digits) await page.click(`[data-key="${d}"]`);
}

type AxeViolation = { id: string; impact: string; help: string; nodes: string[] };

/**
 * Runs axe-core on the page; fails on serious or critical violations. axe goes in through the
 * DevTools protocol: the renderer's CSP refuses page.addScriptTag (an inline script), as it should.
 */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(readFileSync(AXE_PATH, 'utf8'));
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`)) as AxeViolation[];
  assert.deepEqual(violations, [], `${label}: accessibility violations\n${JSON.stringify(violations, null, 2)}`);
}

/** Screenshots the screen into {@link SCREENSHOT_DIR} and checks it with axe. */
export async function capture(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Fonts first: a screenshot taken mid-load would show fallback glyphs.
  await page.evaluate('document.fonts.ready.then(() => true)');
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), animations: 'disabled' });
  await assertAccessible(page, name);
}
