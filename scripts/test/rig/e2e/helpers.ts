// Helpers for the end-to-end tests: the applicant core and the kiosk core driven as the apps drive
// them, over the device rig (pcscd + vpcd + virtual card, ippeveprinter, the issuance server).
import type { PrintConfirmationRequest } from '@cert/common';
import { ApplicantCore, type CardStatus } from 'desktop-applicant';
import { IppPrinter, KioskApi, KioskSession, MemoryJournalStore, PrintReconciler, type KioskProgress, type KioskSessionOptions } from 'kiosk-shell';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceRig } from '../../../src/rig/device-rig.ts';
import type { ApduLogEntry } from '../../../src/virtual-card/virtual-mynumber-card.ts';

/** Something a test must undo in its after hook, whatever happened. */
type Cleanup = () => unknown;

/** Collects cleanups and runs them newest first, never throwing (after hooks must always finish). */
export class Cleanups {
  private readonly items: Cleanup[] = [];

  add<T>(thing: T, cleanup: (t: T) => unknown): T {
    this.items.push(() => cleanup(thing));
    return thing;
  }

  async run(): Promise<void> {
    while (this.items.length) {
      const c = this.items.pop()!;
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
  }
}

/** What the applicant's device does with each print confirmation request. */
export type Answer = 'approve' | 'decline' | 'ignore';

/** An applicant core with its own data directory, started and connected to the rig's server. */
export interface TestApplicant {
  core: ApplicantCore;
  dataDir: string;
  /** Every card status the core reported, oldest first. */
  statuses: CardStatus[];
  /** Every confirmation request that reached the core. */
  requests: PrintConfirmationRequest[];
  /** Decides each request (default approve). */
  answer: Answer;
}

/** Starts an applicant core as the Electron main process would (dataDir, start, connect). */
export async function startApplicant(rig: DeviceRig, cleanups: Cleanups): Promise<TestApplicant> {
  const dataDir = mkdtempSync(join(rig.work, 'applicant-'));
  const core = cleanups.add(new ApplicantCore({ dataDir }), (c) => c.stop());
  const t: TestApplicant = { core, dataDir, statuses: [], requests: [], answer: 'approve' };
  core.on('card', (s) => t.statuses.push(s));
  if (process.env.E2E_DEBUG) {
    core.on('card', (s) => console.log(`      [card ${performance.now().toFixed(0)}] ${describeStatus(s)}`));
    core.card.monitor.on('readers', (r) => console.log(`      [readers ${performance.now().toFixed(0)}] ${JSON.stringify(r)}`));
  }
  core.on('confirmation-request', (r) => {
    t.requests.push(r);
    if (t.answer !== 'ignore') core.respond(r.requestId, t.answer === 'approve');
  });
  core.start();
  await core.connect(rig.serverUrl);
  return t;
}

/** Resolves with the core's card status once `pred` holds (checked now and on every change). */
export function waitForCard(core: ApplicantCore, pred: (s: CardStatus) => boolean, what: string, timeoutMs = 10_000): Promise<CardStatus> {
  const seen: string[] = [];
  return new Promise((resolve, reject) => {
    const check = (s: CardStatus) => {
      seen.push(describeStatus(s));
      if (!pred(s)) return;
      clearTimeout(timer);
      core.off('card', check);
      resolve(s);
    };
    const timer = setTimeout(() => {
      core.off('card', check);
      reject(new Error(`card status never became ${what} within ${timeoutMs} ms; seen: ${seen.join(' → ')}`));
    }, timeoutMs);
    core.on('card', check);
    check(core.card.status);
  });
}

/** Waits for `card_ready` (optionally with a given number of tries left). */
export async function waitForReady(core: ApplicantCore, triesLeft?: number, timeoutMs = 10_000) {
  const s = await waitForCard(
    core,
    (x) => x.state === 'card_ready' && (triesLeft === undefined || x.info.triesLeft === triesLeft),
    `card_ready${triesLeft === undefined ? '' : ` with ${triesLeft} tries left`}`,
    timeoutMs,
  );
  assert.equal(s.state, 'card_ready');
  return s.info;
}

/** A status as one short string, for messages. */
export function describeStatus(s: CardStatus): string {
  if (s.state === 'card_ready') return `card_ready(${s.info.kind}, ${s.info.triesLeft})`;
  if (s.state === 'card_error') return `card_error(${s.error.kind}: ${s.error.message})`;
  return s.state;
}

/** The name of a command APDU from the apdu log (what a reader of the log would call it). */
export function commandName(e: Pick<ApduLogEntry, 'command'>): string {
  const b = Buffer.from(e.command.replace(/\s/g, ''), 'hex');
  switch (b[1]) {
    case 0xa4:
      return b[2] === 0x04 ? 'SELECT AP' : 'SELECT EF';
    case 0xb0:
      return 'READ BINARY';
    case 0x20:
      return b.length > 5 ? 'VERIFY' : 'PIN retry query';
    case 0x2a:
      return 'COMPUTE DIGITAL SIGNATURE';
    default:
      return `INS ${b[1]?.toString(16)}`;
  }
}

/** True for a VERIFY that carries a PIN (the retry query has no data). */
export const isVerifyWithPin = (e: Pick<ApduLogEntry, 'command'>) => commandName(e) === 'VERIFY';

/** A kiosk as the kiosk app builds it: its own credential, the rig's printer, quick polling; cancelled by `cleanups`. */
export function newKiosk(rig: DeviceRig, cleanups: Cleanups, index = 0, options: KioskSessionOptions = {}): { session: KioskSession; api: KioskApi; progress: KioskProgress[] } {
  const api = new KioskApi({ baseUrl: rig.serverUrl }, rig.kiosks[index]!.credential);
  const printer = new IppPrinter(rig.printer.uri, { requestTimeoutMs: 5000 });
  // The journal's loop runs as on a real kiosk: a job the kiosk could not see end is watched until it does.
  const journal = new PrintReconciler(new MemoryJournalStore(), api, printer, { retryDelayMs: 100, pollIntervalMs: 50 });
  journal.start();
  cleanups.add(journal, (j) => j.stop());
  const session = new KioskSession(api, printer, { jobPollIntervalMs: 50, retryDelayMs: 100, journal, ...options });
  // A test that fails while the kiosk waits must not leave it polling a closed server.
  cleanups.add(session, (k) => k.cancel());
  const progress: KioskProgress[] = [];
  session.on('progress', (p) => progress.push(p));
  return { session, api, progress };
}

/** The text of a PDF the printer received. */
export function pdfText(path: string): string {
  const r = spawnSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The status the server holds for an application, as the logged-in applicant lists it. */
export async function serverStatus(core: ApplicantCore, applicationId: string): Promise<string> {
  const r = (await core.listReceipts()).find((x) => x.applicationId === applicationId);
  assert.ok(r, `application ${applicationId} is not in the resident's list`);
  return r.status;
}
