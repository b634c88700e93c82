// What the UI end-to-end tests share: the rig started when the machine's pcscd is free, Debian
// Chromium's flags, and the axe-core check.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startDeviceRig, type DeviceRig, type DeviceRigOptions } from '../../../src/rig/device-rig.ts';
import { processAlive } from '../../../src/rig/pcscd-rig.ts';
import { REPO_ROOT } from '../../../src/rig/server-process.ts';

const AXE_SOURCE = readFileSync(join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
/** Headless Debian Chromium as RIG.md says. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// Chromium notes that a <meta> CSP cannot carry frame-ancestors (the hosts' header does).
export const EXPECTED_CONSOLE = /'frame-ancestors' is ignored when delivered via a <meta> element/;

/**
 * Starts the rig; while another process holds the machine's one pcscd, waits until that pcscd or
 * its holder is gone (never kills it), for up to 10 minutes. No event tells another process's
 * end, so this polls.
 */
export async function startRigWhenFree(options: DeviceRigOptions = { slots: 1 }): Promise<DeviceRig> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      return await startDeviceRig(options);
    } catch (e) {
      const message = (e as Error).message;
      const busy = /pcscd \(pid (\d+)\) is in use by process (\d+)/.exec(message);
      if (!busy || Date.now() > deadline) throw e;
      console.log(`      [rig] ${message}; waiting for it to be released`);
      const [pcscd, holder] = [Number(busy[1]), Number(busy[2])];
      while (processAlive(pcscd) && processAlive(holder) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Fails on serious or critical axe violations (axe goes in through DevTools: the CSP refuses addScriptTag). */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.evaluate(AXE_SOURCE);
  const bad = await page.evaluate<{ id: string; impact: string; help: string; nodes: string[] }[]>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`,
  );
  assert.deepEqual(bad, [], `${what}: accessibility violations\n${JSON.stringify(bad, null, 2)}`);
}
