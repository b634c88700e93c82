// Headless mode: receipt numbers in (one per line), one JSON outcome per line out. For store
// back-offices, monitoring probes and end-to-end tests; same core as the touch UI.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { IssuanceStatus, PaymentReport } from '@cert/common';
import { paymentReport } from '../core/print-journal.ts';
import type { KioskOutcome, KioskProgress, KioskSession } from '../core/kiosk-session.ts';
import type { PrintReconciler, ReconcileEvent } from '../core/print-reconciler.ts';

/** One line of headless output (additions keep these field names). */
export interface HeadlessResult {
  receiptNumber: string;
  /** The outcome; on a journal line the server's status of the issuance, or `needs_staff`. */
  status: KioskOutcome['status'] | IssuanceStatus | 'needs_staff';
  /** For `refused`: the refusal code. */
  reason?: string;
  jobId?: number;
  error?: string;
  /** Journal lines only: the issuance a previous run left unsettled. */
  issuanceId?: string;
  reconciled?: true;
  /** The money of a paid attempt: inserted, change, refunded, refund owed and its slip code. */
  payment?: PaymentReport;
}

/** Where headless mode reads, writes and logs. */
export interface HeadlessIo {
  input: Readable;
  output: Writable;
  log: (line: string) => void;
}

/** The output line of an outcome (only the documented fields). */
export function headlessResult(o: KioskOutcome): HeadlessResult {
  return {
    receiptNumber: o.receiptNumber,
    status: o.status,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.jobId !== undefined ? { jobId: o.jobId } : {}),
    ...(o.error !== undefined ? { error: o.error } : {}),
    ...(o.payment ? { payment: o.payment } : {}),
  };
}

/** The output line of a journal entry that got settled (or now needs staff); null for events that settle nothing. */
export function reconciledResult(e: ReconcileEvent): HeadlessResult | null {
  if (e.kind === 'waiting' || e.kind === 'watching' || e.kind === 'journal-error' || e.kind === 'paid-back') return null;
  const { receiptNumber, issuanceId, jobId } = e.entry;
  const money = e.entry.payment ? { payment: paymentReport(e.entry.payment) } : {};
  const line = { receiptNumber, issuanceId, ...(jobId !== undefined ? { jobId } : {}), ...money, reconciled: true as const };
  switch (e.kind) {
    case 'reported':
      return { ...line, status: e.status, ...(e.entry.outcome === 'failed' ? { error: e.entry.detail } : {}) };
    case 'ended':
      return { ...line, status: e.status ?? 'error', error: `the printer says ${e.entry.outcome}, but the server had already ended the issuance (${e.status ?? 'unknown to it'})` };
    case 'needs-staff':
      return { ...line, status: 'needs_staff', error: e.why };
    case 'settled':
      return { ...line, status: e.status, error: 'settled on the server by staff' };
  }
}

/** A log line for a progress event (stderr; never the document, never more than the receipt number). */
export function describeProgress(p: KioskProgress): string | null {
  switch (p.kind) {
    case 'phase':
      return p.phase === 'idle' ? null : `phase ${p.phase}${p.issuanceId ? ` (issuance ${p.issuanceId})` : ''}`;
    case 'claimed':
      return `claimed: ${p.issuance.certificateType}, ${p.issuance.copies} copy/copies, fee ${p.issuance.fee}, confirm by ${p.issuance.expiresAt}`;
    case 'issuance-status':
      return `issuance ${p.issuanceId}: ${p.status}`;
    case 'printer':
      return `printer: ${p.status.condition} (${p.status.message})`;
    case 'job':
      return `job ${p.job.jobId}: ${p.job.state}${p.job.message ? ` (${p.job.message})` : ''}; printer ${p.printer.condition}`;
    case 'outcome':
      return `outcome: ${p.outcome.status}${p.outcome.error ? ` (${p.outcome.error})` : ''}`;
    case 'payment':
      return `payment ${p.payment.state}: ¥${p.payment.inserted} of ¥${p.payment.due} inserted, ¥${p.payment.paidOut} paid out${p.payment.notice ? ` (${p.payment.notice})` : ''}`;
  }
}

/** The last four characters only: logs outlive the receipt, and a full number is a claim ticket. */
export function maskReceipt(input: string): string {
  return input.length <= 4 ? '****' : `…${input.slice(-4)}`;
}

function writeLine(output: Writable, result: HeadlessResult): Promise<void> {
  return new Promise<void>((resolve, reject) => output.write(`${JSON.stringify(result)}\n`, (e) => (e ? reject(e) : resolve())));
}

/**
 * Reads receipt numbers until EOF and handles them one at a time; blank lines and `#` comments
 * are skipped. Resolves with the number of outcomes written once the last one is out.
 * `stop` (e.g. on SIGTERM) cancels the current receipt and ends after its outcome. With a
 * `journal`, its loop is started and its first pass done before the first receipt is read;
 * every entry it settles is a line of its own (`reconciled: true`).
 */
export async function runHeadless(session: KioskSession, io: HeadlessIo, stop?: AbortSignal, journal?: PrintReconciler): Promise<number> {
  const onProgress = (p: KioskProgress) => {
    const line = describeProgress(p);
    if (line) io.log(line);
  };
  const onJournal = (e: ReconcileEvent) => {
    const result = reconciledResult(e);
    if (result) writeLine(io.output, result).catch((err: unknown) => io.log(`cannot write a journal line: ${(err as Error).message}`));
  };
  session.on('progress', onProgress);
  journal?.on('event', onJournal);
  if (journal) {
    journal.start();
    // Every entry a previous run left is looked at before the first receipt (a job still held
    // by the printer then makes each receipt wait, within its bound: see KioskSession).
    await journal.whenFirstPassDone(stop);
  }
  // An explicit queue rather than `for await` over readline: a stop must end the wait for the
  // next line even though stdin is still open.
  const queue: string[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  const lines = createInterface({ input: io.input, crlfDelay: Infinity });
  lines.on('line', (l) => {
    queue.push(l);
    wake?.();
  });
  lines.on('close', () => {
    ended = true;
    wake?.();
  });
  const onStop = () => {
    session.cancel();
    wake?.();
  };
  stop?.addEventListener('abort', onStop);
  const nextLine = async (): Promise<string | null> => {
    for (;;) {
      if (stop?.aborted) return null;
      if (queue.length > 0) return queue.shift()!;
      if (ended) return null;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };
  let count = 0;
  try {
    for (let raw = await nextLine(); raw !== null; raw = await nextLine()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      io.log(`receipt ${count + 1}: ${maskReceipt(line)}`);
      const started = performance.now();
      const outcome = await session.issue(line);
      io.log(`receipt ${count + 1} done in ${Math.round(performance.now() - started)} ms`);
      await writeLine(io.output, headlessResult(outcome));
      count++;
    }
  } finally {
    lines.close();
    session.off('progress', onProgress);
    journal?.off('event', onJournal);
    stop?.removeEventListener('abort', onStop);
  }
  return count;
}
