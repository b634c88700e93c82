// The print journal's reconciler: for every entry the session left behind (the kiosk died, the
// server could not be told, the printer stopped answering) it finds out what really happened
// and tells the server, retrying with back-off until the server acknowledges. The rules:
//
//   journal phase          printer's answer                      reported
//   paying                 (not asked: nothing was fetched)      failed (money held is paid back first)
//   fetching               (not asked: no Print-Job was sent)    failed
//   submitting / printing  job completed                         printed
//   submitting / printing  job aborted or canceled               failed
//   submitting / printing  job pending or processing             nothing yet: watch it (fault handling as when printing)
//   submitting / printing  no such job (id unknown, or the id    nothing: the entry waits for staff (needs_staff)
//                          now names another job)
//   any unjudged phase     printer does not answer               nothing yet: ask again with back-off
//   reporting              (not asked: the outcome is recorded)  the recorded outcome
//   needs_staff            (not asked)                           nothing; the entry goes once the server shows the
//                                                                attempt settled (staff: `issuances settle`), after
//                                                                its money is reported with staff's outcome
//
// Money (issue 11): an entry's `payment` goes with its report. Before a `failed` report, whatever
// the kiosk holds is paid back through the payment device (what it cannot pay becomes a refund
// owed, with a slip code); a payout the kiosk died in the middle of counts as owed, so that no
// yen is ever paid twice. Credits the cash unit took while the kiosk was down join the entry
// that was taking money.
//
// "Not printed" is only ever claimed with evidence: the printer saying so, or the journal
// showing that no job was sent. While an entry is unjudged the printer may still be working on
// it, so the kiosk takes no new receipt (see {@link PrintReconciler.whenPrinterFree}).
import { FINAL_ISSUANCE_STATUSES, type IssuanceStatus, type KioskJournalView } from '@cert/common';
import { ContractError, NetworkError } from '@cert/common/node';
import { EventEmitter } from 'node:events';
import { abortableSleep } from './abortable-sleep.ts';
import { PrinterError, TERMINAL_JOB_STATES, type JobStatus, type PrintJobLookup } from './ipp-printer.ts';
import type { KioskApi } from './kiosk-api.ts';
import type { PaymentPort } from './payment-port.ts';
import { advance, heldYen, newSlipCode, paymentReport, UNJUDGED_PHASES, withPayment, type JournalEntry, type JournalStep, type JournalStore, type ReportingEntry } from './print-journal.ts';

/** The server calls the reconciler makes. */
export type ReconcileServer = Pick<KioskApi, 'result' | 'issuance'>;

/** What the printer's answer means for a journaled job. */
export type Verdict =
  /** `jobId`: the job the printer answered about (learnt by name when the journal had none). */
  | { kind: 'printed'; detail: string; jobId?: number }
  | { kind: 'failed'; detail: string; jobId?: number }
  /** The printer does not know the job (restarted, or forgot it): only staff can settle it. */
  | { kind: 'unknown'; detail: string }
  /** Still running, or the printer did not answer: ask again later. */
  | { kind: 'pending'; detail: string };

/** How a report to the server went. */
export type Told =
  /** The server recorded the outcome; `status` is the attempt's status now. */
  | { kind: 'recorded'; status: IssuanceStatus }
  /** The server had already ended the attempt otherwise (`status` null: it does not know the issuance); `conflict` when that contradicts the printer. */
  | { kind: 'ended'; status: IssuanceStatus | null; conflict: boolean }
  /** The server could not be told; the entry stays. */
  | { kind: 'undelivered'; error: string };

/** What the reconciler did, for logs, headless output and staff. */
export type ReconcileEvent =
  | { kind: 'reported'; entry: ReportingEntry; status: IssuanceStatus }
  | { kind: 'ended'; entry: ReportingEntry; status: IssuanceStatus | null; conflict: boolean }
  | { kind: 'needs-staff'; entry: JournalEntry; why: string }
  | { kind: 'settled'; entry: JournalEntry; status: IssuanceStatus }
  | { kind: 'waiting'; entry: JournalEntry; why: string; retryInMs: number }
  | { kind: 'watching'; entry: JournalEntry; jobId: number }
  | { kind: 'paid-back'; entry: JournalEntry; purpose: 'change' | 'refund'; paid: number; owed: number }
  | { kind: 'journal-error'; issuanceId: string | null; error: string };

/** Limits of the reconciler; durations in ms. */
export interface PrintReconcilerOptions {
  /** How long a job found still running is watched before the kiosk cancels it (default 120 s). */
  printTimeoutMs?: number;
  /** How long the printer may report a fault while a watched job is unfinished (default 10 s). */
  faultToleranceMs?: number;
  /** Job polling interval (default 250 ms). */
  pollIntervalMs?: number;
  /** First retry after a failed report or a printer that did not answer; doubles each time (default 500 ms). */
  retryDelayMs?: number;
  /** The longest retry delay, and how often an entry waiting for staff is re-checked (default 60 s). */
  maxRetryDelayMs?: number;
  /** The payment device that pays money back (absent: a free kiosk; money found in the journal is then owed). */
  payment?: PaymentPort;
}

const DEFAULTS: Required<Omit<PrintReconcilerOptions, 'payment'>> = {
  printTimeoutMs: 120_000,
  faultToleranceMs: 10_000,
  pollIntervalMs: 250,
  retryDelayMs: 500,
  maxRetryDelayMs: 60_000,
};

// setTimeout's longest delay; the loop sleeps this long when nothing is due (a wake ends it early).
const IDLE_MS = 2 ** 31 - 1;

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isNotFound = (e: unknown) => e instanceof PrinterError && e.details.ippStatus === 'client-error-not-found';
// Worth another try later: the server was not reached, was busy, or refused for a while.
const isTransient = (e: unknown) => e instanceof NetworkError || (e instanceof ContractError && (e.status >= 500 || e.status === 429));

/** Completed → printed, aborted/canceled → failed, anything else is still running. */
function verdictOf(job: JobStatus): Verdict {
  if (job.state === 'completed') return { kind: 'printed', detail: `job ${job.jobId} completed`, jobId: job.jobId };
  if (job.state === 'aborted' || job.state === 'canceled') return { kind: 'failed', detail: `job ${job.jobId} ${job.state}${job.message ? `: ${job.message}` : ''}`, jobId: job.jobId };
  return { kind: 'pending', detail: `job ${job.jobId} is ${job.state}` };
}

/**
 * Owns the journal: the session records its steps through it, and it reconciles every entry the
 * session is not working on, in a background loop ({@link start}) that retries with back-off.
 * Emits `event` ({@link ReconcileEvent}) and `change` (the journal or its state changed).
 */
export class PrintReconciler extends EventEmitter<{ event: [ReconcileEvent]; change: [] }> {
  private readonly opts: Required<Omit<PrintReconcilerOptions, 'payment'>>;
  private readonly payment: PaymentPort | null;
  /** Entries a running session is working on: the loop leaves them alone. */
  private readonly claimed = new Set<string>();
  private readonly backoff = new Map<string, { failures: number; dueAt: number }>();
  private loop: Promise<void> | null = null;
  private firstPassDone = false;
  private readonly stopping = new AbortController();
  private wakeUp = new AbortController();

  constructor(
    private readonly store: JournalStore,
    private readonly server: ReconcileServer,
    private readonly lookup: PrintJobLookup,
    options: PrintReconcilerOptions = {},
  ) {
    super();
    const { payment, ...limits } = options;
    this.opts = { ...DEFAULTS, ...limits };
    this.payment = payment ?? null;
  }

  // ——— the session's side ———

  /** Writes an entry before the step it describes; false (with a `journal-error` event) when it could not be made durable. */
  record(entry: JournalEntry): boolean {
    try {
      this.store.write(entry);
    } catch (e) {
      this.emit('event', { kind: 'journal-error', issuanceId: entry.issuanceId, error: `cannot write the journal entry: ${errorText(e)}` });
      return false;
    }
    this.emit('change');
    return true;
  }

  /** Removes an entry once its outcome is settled (a failure is reported as an event: the loop will settle it again). */
  forget(issuanceId: string): void {
    this.backoff.delete(issuanceId);
    try {
      this.store.remove(issuanceId);
    } catch (e) {
      this.emit('event', { kind: 'journal-error', issuanceId, error: `cannot remove the journal entry: ${errorText(e)}` });
    }
    this.emit('change');
  }

  /** A session works on this issuance: the loop keeps away from its entry. */
  claim(issuanceId: string): void {
    this.claimed.add(issuanceId);
  }

  /** The session is done with this issuance; whatever entry it left is the loop's now. */
  release(issuanceId: string): void {
    this.claimed.delete(issuanceId);
    this.emit('change');
    this.wake();
  }

  // ——— state ———

  /** Every entry, oldest first. */
  entries(): JournalEntry[] {
    return this.store.list();
  }

  /** True while the fate of a previous job is not known yet (or the first pass has not run): the printer may still be busy with it. */
  get recovering(): boolean {
    if (this.loop && !this.firstPassDone) return true;
    try {
      return this.store.list().some((e) => !this.claimed.has(e.issuanceId) && UNJUDGED_PHASES.includes(e.phase));
    } catch {
      // A journal that cannot be read cannot vouch for the printer either.
      return true;
    }
  }

  /** The journal as staff see it: whether a previous job still holds the printer, and the jobs only staff can settle. */
  view(): KioskJournalView {
    let staff: JournalEntry[] = [];
    try {
      staff = this.store.list().filter((e) => e.phase === 'needs_staff');
    } catch {
      // `recovering` says the journal cannot be read.
    }
    return { recovering: this.recovering, staffChecks: staff.map((e) => ({ jobName: e.jobName, ...(e.jobId !== undefined ? { jobId: e.jobId } : {}), since: e.updatedAt })) };
  }

  /** Resolves true once nothing holds the printer, false when `timeoutMs` passes or `signal` aborts first. */
  whenPrinterFree(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.until(() => !this.recovering, timeoutMs, signal);
  }

  /** Resolves true once the loop's first pass is done (every entry looked at once), false when `signal` aborts first. */
  whenFirstPassDone(signal?: AbortSignal): Promise<boolean> {
    return this.until(() => this.firstPassDone, Infinity, signal);
  }

  /** Re-checks `done` on every change until it holds, `timeoutMs` passes or `signal` aborts. */
  private async until(done: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const look = () => {
          clearTimeout(timer);
          this.off('change', look);
          signal?.removeEventListener('abort', look);
          resolve();
        };
        const timer = setTimeout(look, Math.min(left, IDLE_MS));
        this.on('change', look);
        signal?.addEventListener('abort', look, { once: true });
      });
    }
    return true;
  }

  // ——— the loop ———

  /** Starts the background loop; its first pass runs at once. */
  start(): void {
    this.loop ??= (async () => {
      while (!this.stopping.signal.aborted) {
        // Created before the pass: a wake() during the pass makes the loop go round again at once.
        const wakeUp = (this.wakeUp = new AbortController());
        const waitMs = await this.pass();
        // The loop's waits never keep a process alive by themselves: its host does (or ends it).
        if (!wakeUp.signal.aborted) await abortableSleep(Math.min(waitMs, IDLE_MS), AbortSignal.any([this.stopping.signal, wakeUp.signal]), false);
      }
    })();
  }

  /** Stops the loop (a watched job is left running: the journal still has it) and waits for it to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** Looks at every entry again now, back-off or not (a session left an entry, or a resident waits for the printer). */
  wake(): void {
    for (const b of this.backoff.values()) b.dueAt = 0;
    this.wakeUp.abort();
  }

  /** One round over the entries that are due (the loop's step; call it yourself only without the loop); resolves with the ms until the next one is due. */
  async pass(): Promise<number> {
    let next = Infinity;
    let entries: JournalEntry[] = [];
    try {
      entries = this.store.list();
    } catch (e) {
      this.emit('event', { kind: 'journal-error', issuanceId: null, error: `cannot read the journal: ${errorText(e)}` });
      next = this.opts.maxRetryDelayMs;
    }
    for (const entry of entries) {
      if (this.stopping.signal.aborted) break;
      if (this.claimed.has(entry.issuanceId)) continue;
      const dueIn = (this.backoff.get(entry.issuanceId)?.dueAt ?? 0) - Date.now();
      const again = dueIn > 0 ? dueIn : await this.reconcile(entry);
      if (again !== null) next = Math.min(next, again);
    }
    this.firstPassDone = true;
    this.emit('change');
    return next;
  }

  /** Moves one entry on; returns the ms until it should be looked at again, or null when it is settled. */
  private async reconcile(found: JournalEntry): Promise<number | null> {
    const entry = this.afterCrash(found);
    switch (entry.phase) {
      case 'paying':
        return this.conclude(entry, { kind: 'failed', detail: 'the kiosk stopped while it was taking payment: nothing was printed' });
      case 'reporting':
        return this.deliver(entry);
      case 'needs_staff':
        return this.recheck(entry);
      case 'fetching':
        return this.conclude(entry, { kind: 'failed', detail: 'the kiosk stopped before it sent the print job: nothing was printed' });
      case 'submitting':
      case 'printing':
        return this.conclude(entry, await this.judge(entry, { watch: true }));
    }
  }

  /** An entry the kiosk left mid-payout or mid-payment: the payout counts as owed, the credits taken meanwhile join it. */
  private afterCrash(entry: JournalEntry): JournalEntry {
    let p = entry.payment;
    if (!p) return entry;
    if (p.dispensing) p = { ...p, owed: p.owed + p.dispensing.yen, slipCode: p.slipCode ?? newSlipCode(), dispensing: undefined };
    if (entry.phase === 'paying' && this.payment) {
      const known = new Set(p.credits.map((c) => `${c.source}:${c.counter}`));
      const missed = this.payment.takeMissed().filter((c) => !known.has(`${c.source}:${c.counter}`));
      if (missed.length > 0) p = { ...p, credits: [...p.credits, ...missed] };
    }
    if (p === entry.payment) return entry;
    const next = withPayment(entry, p);
    return this.record(next) ? next : entry;
  }

  /**
   * Pays `yen` out through the payment device, journaled first: the entry says what is being
   * paid out before a coin moves, and what came out (and what is owed, with a slip code) after.
   * Resolves with the entry as recorded.
   */
  async payOut(entry: JournalEntry, purpose: 'change' | 'refund', yen: number): Promise<JournalEntry> {
    const p = entry.payment;
    if (!p || yen <= 0) return entry;
    const owe = (e: JournalEntry, amount: number) => withPayment(e, { ...e.payment!, dispensing: undefined, owed: e.payment!.owed + amount, slipCode: e.payment!.slipCode ?? newSlipCode() });
    const before = withPayment(entry, { ...p, dispensing: { purpose, yen } });
    // Not journaled, not paid: the resident is owed it (a slip) rather than paid with no trace.
    if (!this.payment || !this.record(before)) {
      const owed = owe(entry, yen);
      this.record(owed);
      this.emit('event', { kind: 'paid-back', entry: owed, purpose, paid: 0, owed: yen });
      return owed;
    }
    const out = await this.payment.payOut(yen).catch((e: unknown) => ({ pieces: [] as number[], short: yen, problem: errorText(e) }));
    const paid = out.pieces.reduce((a, b) => a + b, 0);
    const q = before.payment!;
    let after = withPayment(before, { ...q, dispensing: undefined, payouts: [...q.payouts, ...out.pieces], ...(purpose === 'change' ? { change: q.change + paid } : { refunded: q.refunded + paid }) });
    if (yen - paid > 0) after = owe(after, yen - paid);
    this.record(after);
    this.emit('event', { kind: 'paid-back', entry: after, purpose, paid, owed: yen - paid });
    return after;
  }

  /** Before a `failed` report: everything the kiosk holds goes back to the resident. */
  async refundHeld(entry: JournalEntry): Promise<JournalEntry> {
    const held = entry.payment ? heldYen(entry.payment) : 0;
    return held > 0 ? this.payOut(entry, 'refund', held) : entry;
  }

  private async conclude(found: JournalEntry, verdict: Verdict): Promise<number | null> {
    if (verdict.kind === 'pending') return this.later(found, verdict.detail);
    const entry = verdict.kind === 'failed' ? await this.refundHeld(found) : found;
    const step: JournalStep = verdict.kind === 'unknown' ? { phase: 'needs_staff', detail: verdict.detail } : { phase: 'reporting', outcome: verdict.kind, detail: verdict.detail, ...(verdict.jobId !== undefined ? { jobId: verdict.jobId } : {}) };
    const next = advance(entry, step);
    if (!this.record(next)) return this.later(entry, 'the journal could not be written');
    if (next.phase === 'reporting') return this.deliver(next);
    this.emit('event', { kind: 'needs-staff', entry: next, why: verdict.detail });
    return this.later(next, null);
  }

  private async deliver(entry: ReportingEntry): Promise<number | null> {
    const told = await this.report(entry, 1);
    if (told.kind === 'recorded') this.emit('event', { kind: 'reported', entry, status: told.status });
    else if (told.kind === 'ended') this.emit('event', { kind: 'ended', entry, status: told.status, conflict: told.conflict });
    else return this.later(entry, `the server was not told: ${told.error}`);
    return null;
  }

  /** A staff entry goes once the server shows its attempt settled (by the kiosk's report or by staff). */
  private async recheck(entry: JournalEntry): Promise<number | null> {
    try {
      const { status } = await this.server.issuance(entry.issuanceId, 0);
      if (FINAL_ISSUANCE_STATUSES.includes(status)) {
        if (entry.payment) return this.reportSettledPayment(entry, status);
        this.forget(entry.issuanceId);
        this.emit('event', { kind: 'settled', entry, status });
        return null;
      }
    } catch (e) {
      if (!isTransient(e)) this.emit('event', { kind: 'journal-error', issuanceId: entry.issuanceId, error: `cannot check the issuance: ${errorText(e)}` });
    }
    return this.later(entry, null);
  }

  /**
   * Staff settled a paid job whose fate the printer forgot: the money goes to the server with the
   * outcome they chose, so that settlement counts it. Not printed: the resident has left, so
   * nothing is paid out into the tray; what the kiosk holds is owed against a slip code.
   */
  private async reportSettledPayment(entry: JournalEntry, status: IssuanceStatus): Promise<number | null> {
    const p = entry.payment!;
    const printed = status === 'printed';
    const held = heldYen(p);
    const owing = !printed && held > 0 ? withPayment(entry, { ...p, owed: p.owed + held, slipCode: p.slipCode ?? newSlipCode() }) : entry;
    const detail = `settled by staff as ${printed ? 'printed' : 'not printed'}`;
    const next = advance(owing, { phase: 'reporting', outcome: printed ? 'printed' : 'failed', detail });
    if (!this.record(next)) return this.later(entry, 'the journal could not be written');
    if (next.payment && next.payment.owed > p.owed) this.emit('event', { kind: 'paid-back', entry: next, purpose: 'refund', paid: 0, owed: next.payment.owed - p.owed });
    return this.deliver(next);
  }

  /** Schedules the entry again with back-off (`why` null: a staff entry, re-checked at the longest delay). */
  private later(entry: JournalEntry, why: string | null): number {
    const b = this.backoff.get(entry.issuanceId) ?? { failures: 0, dueAt: 0 };
    b.failures++;
    const delay = why === null ? this.opts.maxRetryDelayMs : Math.min(this.opts.retryDelayMs * 2 ** (b.failures - 1), this.opts.maxRetryDelayMs);
    b.dueAt = Date.now() + delay;
    this.backoff.set(entry.issuanceId, b);
    if (why !== null) this.emit('event', { kind: 'waiting', entry, why, retryInMs: delay });
    return delay;
  }

  // ——— shared with the session ———

  /**
   * What the printer says about a journaled job. `watch`: a job still running is watched to its
   * end with the usual fault handling; `settleMs`: a job still running is polled this long (the
   * kiosk has just cancelled it). Without either, a running job is `pending`.
   */
  async judge(entry: JournalEntry, how: { watch?: boolean; settleMs?: number }): Promise<Verdict> {
    let job: JobStatus | null;
    try {
      job = await this.findJob(entry);
    } catch (e) {
      return { kind: 'pending', detail: `the printer did not answer: ${errorText(e)}` };
    }
    if (!job) {
      const which = entry.jobId !== undefined ? `job ${entry.jobId} (${entry.jobName})` : `a job named ${entry.jobName}`;
      return { kind: 'unknown', detail: `the printer does not know ${which}: it may have restarted; whether anything printed is unknown` };
    }
    if (TERMINAL_JOB_STATES.includes(job.state)) return verdictOf(job);
    try {
      if (how.watch) {
        this.emit('event', { kind: 'watching', entry, jobId: job.jobId });
        await this.lookup
          .waitForJob(job.jobId, {
            timeoutMs: this.opts.printTimeoutMs,
            faultToleranceMs: this.opts.faultToleranceMs,
            pollIntervalMs: this.opts.pollIntervalMs,
            detach: this.stopping.signal,
          })
          .catch(() => undefined); // how it ended is read back below
      } else if (how.settleMs) {
        const deadline = Date.now() + how.settleMs;
        while (!TERMINAL_JOB_STATES.includes(job.state) && Date.now() < deadline) {
          await abortableSleep(this.opts.pollIntervalMs);
          job = await this.lookup.job(job.jobId);
        }
      }
      return verdictOf(await this.lookup.job(job.jobId));
    } catch (e) {
      return { kind: 'pending', detail: `the printer did not answer about job ${job.jobId}: ${errorText(e)}` };
    }
  }

  /** The entry's job: by id (checking that the id still names our job), else by job-name (recording the id learnt). */
  private async findJob(entry: JournalEntry): Promise<JobStatus | null> {
    if (entry.jobId !== undefined) {
      try {
        const job = await this.lookup.job(entry.jobId);
        // A printer that restarted numbers its jobs from 1 again: the id may name someone else's job.
        return job.name === null || job.name === entry.jobName ? job : null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    }
    const job = (await this.lookup.jobsNamed(entry.jobName)).at(-1) ?? null;
    if (job) this.record(advance(entry, { phase: 'printing', jobId: job.jobId }));
    return job;
  }

  /**
   * Tells the server the recorded outcome, trying up to `attempts` times with back-off while it
   * cannot be reached, and removes the entry once the server has it final.
   */
  async report(entry: ReportingEntry, attempts: number): Promise<Told> {
    for (let attempt = 1; ; attempt++) {
      try {
        const status = await this.server.result(entry.issuanceId, entry.outcome, entry.detail, entry.payment ? paymentReport(entry.payment) : undefined);
        this.forget(entry.issuanceId);
        return { kind: 'recorded', status };
      } catch (e) {
        if (e instanceof ContractError && (e.code === 'invalid_state' || e.code === 'not_found')) {
          const ended = await this.endedAs(entry, e.code);
          if (ended) return ended;
        }
        if (attempt >= attempts || !isTransient(e)) return { kind: 'undelivered', error: errorText(e) };
        await abortableSleep(this.opts.retryDelayMs * 2 ** (attempt - 1), this.stopping.signal);
      }
    }
  }

  /** The attempt ended otherwise on the server; null when its status could not be read or it is still open. */
  private async endedAs(entry: ReportingEntry, code: 'invalid_state' | 'not_found'): Promise<Told | null> {
    let status: IssuanceStatus | null = null;
    if (code === 'invalid_state') {
      try {
        status = (await this.server.issuance(entry.issuanceId, 0)).status;
      } catch {
        return null;
      }
      if (!FINAL_ISSUANCE_STATUSES.includes(status)) return null;
    }
    this.forget(entry.issuanceId);
    const conflict = entry.outcome === 'printed' ? status !== 'printed' : status === 'printed';
    return { kind: 'ended', status, conflict };
  }
}

/** A log line for a reconciler event (ids and the job's name only: never the receipt number or anything about the resident). */
export function describeReconcile(e: ReconcileEvent): string {
  const about = (x: JournalEntry) => `journal: issuance ${x.issuanceId} (${x.jobName}${x.jobId !== undefined ? `, job ${x.jobId}` : ''})`;
  switch (e.kind) {
    case 'reported':
      return `${about(e.entry)}: reported ${e.entry.outcome} (${e.entry.detail}); the server has it ${e.status}`;
    case 'ended':
      return `${about(e.entry)}: ${e.conflict ? 'CONFLICT: ' : ''}the printer says ${e.entry.outcome}, but the server had already ended the issuance (${e.status ?? 'unknown to it'})`;
    case 'needs-staff':
      return `${about(e.entry)}: STAFF CHECK NEEDED: ${e.why}. Nothing was reported; settle it on the server (issuance-server admin … issuances settle ${e.entry.issuanceId} printed|not-printed)`;
    case 'settled':
      return `${about(e.entry)}: settled on the server (${e.status}); entry removed`;
    case 'waiting':
      return `${about(e.entry)}: ${e.why}; trying again in ${Math.ceil(e.retryInMs / 1000)} s`;
    case 'watching':
      return `${about(e.entry)}: job ${e.jobId} is still running at the printer; watching it`;
    case 'paid-back':
      return `${about(e.entry)}: ${e.purpose} paid out: ¥${e.paid}${e.owed > 0 ? `; ¥${e.owed} OWED to the resident against slip ${e.entry.payment?.slipCode ?? '?'}` : ''}`;
    case 'journal-error':
      return `journal${e.issuanceId ? `: issuance ${e.issuanceId}` : ''}: ${e.error}`;
  }
}
