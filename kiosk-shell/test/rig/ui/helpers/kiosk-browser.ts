// Debian's Chromium driven by playwright-core against the kiosk's web mode: launching, opening
// the kiosk, screenshots (1920×1080 landscape, the panel the UI is designed for) and axe checks.
import { REPO_ROOT } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

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
