// Chromium (Debian's, through playwright-core) for the renderer tests: a fresh profile per run,
// screenshots in both languages, and axe-core accessibility checks.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const REPO_ROOT = new URL('../../../../../', import.meta.url).pathname;
/** Where the screenshots go (git-ignored). */
export const SCREENSHOT_DIR = join(REPO_ROOT, '.test-output/screenshots/applicant');
const AXE_SOURCE = readFileSync(join(REPO_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** A browser with its own throw-away profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches /usr/bin/chromium headless with a fresh user-data-dir (removed by close). */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'applicant-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1040, height: 800 },
      locale: 'ja-JP',
      timezoneId: 'Asia/Tokyo',
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}

/** axe-core results the tests care about. */
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core on the page and fails on serious or critical violations. The renderer's CSP
 * refuses inline scripts (addScriptTag injects one), so axe is evaluated through the DevTools
 * protocol, which the page's CSP does not govern.
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  // Page code is passed as text: the tests' tsconfig has no DOM types (it is the Node side).
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate<AxeViolation[]>(
    'axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))',
  );
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
}

/** The id of the element with the keyboard focus. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate<string | undefined>('document.activeElement?.id');
}

/**
 * Waits until a page expression is true. Playwright's waitForFunction compiles its predicate in
 * the page, which the renderer's CSP (no 'unsafe-eval') refuses; evaluate goes through DevTools.
 */
export async function waitForPage(page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Switches the UI language with the header switch (dispatched, so it works under a modal too). */
export async function setLanguage(page: Page, lang: 'ja' | 'en'): Promise<void> {
  if ((await page.locator('html').getAttribute('lang')) === lang) return;
  await page.locator('#lang-switch').dispatchEvent('click');
  await page.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
}

/**
 * Screenshots the current screen in Japanese and English (`<name>.ja.png`, `<name>.en.png`) and
 * checks each with axe; leaves the page in Japanese. A dialog that the language switch cannot
 * reach (the page behind a modal is inert) is opened and closed around each shot by `dialog`.
 */
export async function captureScreen(page: Page, name: string, dialog?: { open(): Promise<void>; close(): Promise<void> }): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const lang of ['ja', 'en'] as const) {
    await setLanguage(page, lang);
    await dialog?.open();
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.${lang}.png`), fullPage: true });
    await assertAccessible(page, `${name} (${lang})`);
    await dialog?.close();
  }
  await setLanguage(page, 'ja');
}
