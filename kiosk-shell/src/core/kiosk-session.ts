// One resident at the kiosk, from typing the receipt number to the paper (DESIGN.md; PROTOCOL.md,
// Kiosk). Plain Node, no Electron: the touch UI and the headless mode both drive this class and
// render its progress events.
//
// The certificate exists on the kiosk only in memory, only while its job runs: it is never
// written to disk, and the buffer is zeroed as soon as the job has ended, however it ended.
// What the kiosk is about to do with it is journaled before each step (print-journal.ts), so
// that its fate can be found out after a crash (print-reconciler.ts).
//
// With a payment device (issue 11) the resident pays after approving and before the document is
// fetched: every credit is journaled before it counts, change is paid out, and a print that
// fails after payment is paid back (or recorded as owed, with a slip code). The money goes to
// the server with the result, or with the abandon when the resident gave up.
import { abortableSleep } from './abortable-sleep.ts';
import {
  FINAL_ISSUANCE_STATUSES,
  parseReceiptNumber,
  type CreateIssuanceResponse,
  type IssuanceStatus,
  type PaymentNotice,
  type PaymentProgressView,
  type PaymentReport,
  type ReceiptCheck,
} from '@cert/common';
import { ContractError, NetworkError } from '@cert/common/node';
import { EventEmitter } from 'node:events';
import type { KioskApi } from './kiosk-api.ts';
import { PrinterError, type JobStatus, type KioskPrinter, type PrinterCondition, type PrinterStatus, type PrintJobLookup } from './ipp-printer.ts';
import type { Collected, PaymentPort } from './payment-port.ts';
import { advance, firstEntry, heldYen, insertedYen, MemoryJournalStore, paymentReport, withPayment, type JournalEntry } from './print-journal.ts';
import { PrintReconciler, type Verdict } from './print-reconciler.ts';

/** Where the session is; `idle` between residents. */
export type KioskPhase =
  | 'idle'
  | 'recovering'
  | 'checking_printer'
  | 'claiming'
  | 'awaiting_confirmation'
  | 'paying'
  | 'fetching_document'
  | 'printing'
  | 'refunding'
  | 'reporting'
  | 'abandoning';

/**
 * How one receipt ended. The first seven are the server's issuance statuses; the rest are
 * decided at the kiosk: `printed_unreported` (on paper; the journal will tell the server),
 * nothing claimed, or the server could not be told. `outcome_unknown` also stands for a job
 * whose end the kiosk could not see (its journal keeps asking the printer, or waits for staff).
 */
export type KioskOutcomeStatus =
  | 'printed'
  | 'declined'
  | 'expired'
  | 'print_failed'
  | 'abandoned'
  | 'refused'
  | 'outcome_unknown'
  | 'printed_unreported'
  | 'receipt_malformed'
  | 'receipt_not_found'
  | 'issuance_in_progress'
  | 'rate_limited'
  | 'kiosk_unauthorized'
  | 'printer_unavailable'
  | 'payment_unavailable'
  | 'server_unreachable'
  | 'cancelled'
  | 'error';

/** The result of one {@link KioskSession.issue} call. */
export interface KioskOutcome {
  /** The normalised 12 digits, or the input as typed when it is not a receipt number. */
  receiptNumber: string;
  status: KioskOutcomeStatus;
  /** For `refused`: the refusal code (REFUSAL_CODES, or a newer one this build does not know by name). */
  reason?: string;
  issuanceId?: string;
  /** The IPP job id, once a job was created. */
  jobId?: number;
  /** Why it did not print (for logs and the clerk; the UI translates `status`). */
  error?: string;
  /** The printer's condition when the printer was the reason. */
  printer?: PrinterCondition;
  /** For `rate_limited`: when to try again. */
  retryAfterSeconds?: number;
  /** For `receipt_malformed` found locally: what is wrong with the input. */
  receiptProblem?: Extract<ReceiptCheck, { ok: false }>['reason'];
  /** The money of the attempt, when the resident put any in. */
  payment?: PaymentReport;
  /** Why a payment ended without the fee: the resident cancelled, it timed out, or the device failed. */
  paymentEnd?: 'cancelled' | 'timeout' | 'fault';
  /** What the payment device had to say (a jam, change that could not be paid). */
  paymentNotice?: PaymentNotice;
}

/** Progress events for the UI, in the order they happen. */
export type KioskProgress =
  | { kind: 'phase'; phase: KioskPhase; receiptNumber?: string; issuanceId?: string }
  | { kind: 'claimed'; issuance: CreateIssuanceResponse }
  | { kind: 'issuance-status'; issuanceId: string; status: IssuanceStatus }
  | { kind: 'printer'; status: PrinterStatus }
  | { kind: 'job'; job: JobStatus; printer: PrinterStatus }
  | { kind: 'outcome'; outcome: KioskOutcome }
  | { kind: 'payment'; payment: PaymentProgressView };

/** The kiosk API as the session uses it (KioskApi, or a wrapper in tests). */
export type KioskServer = Pick<KioskApi, 'start' | 'issuance' | 'document' | 'result' | 'abandon'>;

/** Limits of a session; all durations in ms. */
export interface KioskSessionOptions {
  /** How long to wait for the applicant's answer before abandoning (default 150 s, above the server's 120 s default so the server's `expired` normally comes first). */
  decisionTimeoutMs?: number;
  /** From Print-Job to `completed` (default 120 s). */
  printTimeoutMs?: number;
  /** waitMs of each status long-poll (default 25 s; the server caps it at 30 s). */
  longPollMs?: number;
  /** How long the printer may report a fault while our job is unfinished (default 10 s). */
  printerFaultToleranceMs?: number;
  /** Job polling interval (default 250 ms). */
  jobPollIntervalMs?: number;
  /** Attempts for the calls that must reach the server (document, result, abandon) (default 4). */
  serverAttempts?: number;
  /** Delay before the first retry; doubles each time (default 500 ms). */
  retryDelayMs?: number;
  /** How long a new receipt waits for the fate of a previous job before the kiosk gives up on it (default: the print timeout). */
  recoveryWaitMs?: number;
  /**
   * The print journal (hosts give one on disk). Without it the session keeps one in memory,
   * which survives nothing; the printer must then be able to look jobs up (IppPrinter can).
   */
  journal?: PrintReconciler;
  /** The payment device; without it the kiosk prints for free (a municipal building). */
  payment?: PaymentPort;
  /** How long the payment screen waits for the next coin or note before paying everything back (default 120 s). */
  paymentIdleTimeoutMs?: number;
}

const RECEIPT_PROBLEMS: Record<Extract<ReceiptCheck, { ok: false }>['reason'], string> = {
  not_digits: 'the receipt number may contain only digits, spaces and hyphens',
  too_short: 'the receipt number has fewer than 12 digits',
  too_long: 'the receipt number has more than 12 digits',
  check_digit: 'the receipt number is mistyped (its check digit does not match)',
};

// Contract error codes of POST /kiosk/issuances that are outcomes in their own right.
const START_ERRORS: Partial<Record<string, KioskOutcomeStatus>> = {
  receipt_malformed: 'receipt_malformed',
  receipt_not_found: 'receipt_not_found',
  issuance_in_progress: 'issuance_in_progress',
  rate_limited: 'rate_limited',
  kiosk_unauthorized: 'kiosk_unauthorized',
};

const DEFAULTS: Required<Omit<KioskSessionOptions, 'journal' | 'recoveryWaitMs' | 'payment'>> = {
  decisionTimeoutMs: 150_000,
  printTimeoutMs: 120_000,
  longPollMs: 25_000,
  printerFaultToleranceMs: 10_000,
  jobPollIntervalMs: 250,
  serverAttempts: 4,
  retryDelayMs: 500,
  paymentIdleTimeoutMs: 120_000,
};

// A 403 from the kiosk API is the municipality's rules refusing the certificate: its code is the
// reason (REFUSAL_CODES today; a newer server may send codes this build does not know by name).
const isRefusal = (e: unknown): e is ContractError => e instanceof ContractError && e.status === 403;
/** A dropped connection, or a 503: the server saying "not now" (busy database, documents queued). Worth another try. */
const transient = (e: unknown): boolean => e instanceof NetworkError || (e instanceof ContractError && e.code === 'service_unavailable');

// The server's text of a refusal may quote the record (glyph_missing names the characters of a
// name, possibly of another household member): the kiosk's outcome, logs and headless lines
// carry the code only.
const refusedOutcome = (e: ContractError) => ({ status: 'refused' as const, reason: e.code, error: `the municipality's rules do not allow this certificate now (${e.code})` });

// The money of an entry as the outcome carries it (only when any was inserted).
const moneyOf = (entry: JournalEntry): Pick<KioskOutcome, 'payment'> => (entry.payment && insertedYen(entry.payment) > 0 ? { payment: paymentReport(entry.payment) } : {});

const isJobLookup = (p: KioskPrinter): p is KioskPrinter & PrintJobLookup => 'job' in p && 'jobsNamed' in p && 'waitForJob' in p;

/** Thrown by {@link KioskSession.issue} while another receipt is being handled. */
export class KioskBusyError extends Error {
  constructor() {
    super('the kiosk is already handling a receipt');
    this.name = 'KioskBusyError';
  }
}

/** A receipt the server let this kiosk claim. */
type Claimed = { receiptNumber: string; issuanceId: string };

/** Why a print did not complete, as the printer module said it. */
type PrintFailure = { error: Error; printer?: PrinterCondition };

type Decision =
  | { kind: 'status'; status: IssuanceStatus; reason?: string }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'error'; error: unknown };

/**
 * Handles one receipt at a time: local check → printer check → claim → wait for the applicant
 * → printer check → document → print → report; abandons on the kiosk's timeout or on
 * {@link cancel}. Emits `progress` events ({@link KioskProgress}).
 */
export class KioskSession extends EventEmitter<{ progress: [KioskProgress] }> {
  private readonly opts: Required<Omit<KioskSessionOptions, 'journal' | 'payment'>>;
  private readonly journal: PrintReconciler;
  private readonly payment: PaymentPort | null;
  private running: AbortController | null = null;
  private currentPhase: KioskPhase = 'idle';

  constructor(
    private readonly server: KioskServer,
    private readonly printer: KioskPrinter,
    options: KioskSessionOptions = {},
  ) {
    super();
    const { journal, payment, ...limits } = options;
    this.payment = payment ?? null;
    this.opts = { ...DEFAULTS, recoveryWaitMs: limits.printTimeoutMs ?? DEFAULTS.printTimeoutMs, ...limits };
    // The server never waits longer than 30 s per poll.
    this.opts.longPollMs = Math.max(1, Math.min(this.opts.longPollMs, 30_000));
    if (journal) this.journal = journal;
    else if (isJobLookup(printer)) {
      this.journal = new PrintReconciler(new MemoryJournalStore(), server, printer, { retryDelayMs: this.opts.retryDelayMs, pollIntervalMs: this.opts.jobPollIntervalMs, ...(payment ? { payment } : {}) });
    }
    else throw new TypeError('a session needs a print journal, or a printer that can look its jobs up');
  }

  /** The current phase. */
  get phase(): KioskPhase {
    return this.currentPhase;
  }

  /** True while a receipt is being handled. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** The resident walked away (or the UI timed out): abandon whatever is running. */
  cancel(): void {
    this.running?.abort();
  }

  private emitProgress(p: KioskProgress): void {
    this.emit('progress', p);
  }

  private setPhase(phase: KioskPhase, receiptNumber?: string, issuanceId?: string): void {
    this.currentPhase = phase;
    this.emitProgress({ kind: 'phase', phase, ...(receiptNumber ? { receiptNumber } : {}), ...(issuanceId ? { issuanceId } : {}) });
  }

  /** Handles one typed receipt number to its end; resolves with the outcome (never rejects, except {@link KioskBusyError}). */
  async issue(input: string): Promise<KioskOutcome> {
    if (this.running) throw new KioskBusyError();
    const ac = new AbortController();
    this.running = ac;
    let outcome: KioskOutcome;
    try {
      outcome = await this.run(input, ac.signal);
    } catch (e) {
      // Every expected failure is an outcome; this is a bug or an unexpected library error.
      outcome = { receiptNumber: input.trim(), status: 'error', error: (e as Error).message };
    } finally {
      this.running = null;
    }
    this.setPhase('idle');
    this.emitProgress({ kind: 'outcome', outcome });
    return outcome;
  }

  private async printerStatus(): Promise<PrinterStatus> {
    const s = await this.printer.status();
    this.emitProgress({ kind: 'printer', status: s });
    return s;
  }

  private async run(input: string, signal: AbortSignal): Promise<KioskOutcome> {
    // 1. Local check: a mistyped number never reaches the server (and never costs rate limit).
    const parsed = parseReceiptNumber(input);
    if (!parsed.ok) {
      return { receiptNumber: input.trim(), status: 'receipt_malformed', error: RECEIPT_PROBLEMS[parsed.reason], receiptProblem: parsed.reason };
    }
    const receiptNumber = parsed.receiptNumber;
    const base = { receiptNumber };

    // 2. A previous job whose fate is still being found out may hold the printer (its paper
    //    could end up with this resident): wait for the journal first.
    if (this.journal.recovering) {
      this.setPhase('recovering', receiptNumber);
      // A resident is waiting: ask the printer again now rather than at the next back-off step.
      this.journal.wake();
      if (!(await this.journal.whenPrinterFree(this.opts.recoveryWaitMs, signal))) {
        if (signal.aborted) return { ...base, status: 'cancelled', error: 'cancelled at the kiosk' };
        const printer = await this.printerStatus();
        return { ...base, status: 'printer_unavailable', error: 'the kiosk is still finding out how a previous print job ended (see its journal)', printer: printer.condition };
      }
    }

    // 3. Printer first: claiming a receipt we cannot print would bother the applicant for nothing.
    this.setPhase('checking_printer', receiptNumber);
    const before = await this.printerStatus();
    if (!before.ready) return { ...base, status: 'printer_unavailable', error: before.message, printer: before.condition };
    // The same for the payment device: a receipt claimed at a kiosk that cannot take the fee would bother the applicant for nothing.
    const cashProblem = this.payment ? await this.payment.check().catch((e: unknown) => (e as Error).message) : null;
    if (cashProblem) return { ...base, status: 'payment_unavailable', error: cashProblem };
    if (signal.aborted) return { ...base, status: 'cancelled', error: 'cancelled at the kiosk' };

    // 4. Claim.
    this.setPhase('claiming', receiptNumber);
    let claim: CreateIssuanceResponse;
    try {
      claim = await this.server.start(receiptNumber);
    } catch (e) {
      return { ...base, ...this.startFailure(e) };
    }
    const issuanceId = claim.issuanceId;
    const claimed = { ...base, issuanceId };
    this.emitProgress({ kind: 'claimed', issuance: claim });
    this.emitProgress({ kind: 'issuance-status', issuanceId, status: claim.status });
    if (signal.aborted) return this.abandon(claimed, 'cancelled at the kiosk');

    // 5. The applicant's device decides.
    this.setPhase('awaiting_confirmation', receiptNumber, issuanceId);
    const decision = await this.waitForDecision(issuanceId, signal);
    if (decision.kind === 'cancelled') return this.abandon(claimed, 'cancelled at the kiosk');
    if (decision.kind === 'timeout') return this.abandon(claimed, `no answer from the applicant within ${Math.round(this.opts.decisionTimeoutMs / 1000)} s`);
    if (decision.kind === 'error') return this.abandon(claimed, `lost the server while waiting: ${(decision.error as Error).message}`, decision.error);
    if (decision.status !== 'approved' && decision.status !== 'delivered') {
      return { ...claimed, status: decision.status as KioskOutcomeStatus, ...(decision.reason ? { reason: decision.reason } : {}) };
    }

    // 6. The printer may have changed while the resident looked at the phone: check before
    //    taking the document, so that a known-bad printer never receives it.
    this.setPhase('checking_printer', receiptNumber, issuanceId);
    const ready = await this.printerStatus();
    if (!ready.ready) return this.reportFailed(claimed, `printer not ready: ${ready.message}`, ready.condition);
    if (signal.aborted) return this.abandon(claimed, 'cancelled at the kiosk');

    // 7. Payment, document, job and report, journaled; the journal's loop keeps away while we work.
    this.journal.claim(issuanceId);
    try {
      let first = firstEntry(issuanceId, receiptNumber);
      if (this.payment && claim.fee > 0) {
        const paid = await this.pay(claimed, firstEntry(issuanceId, receiptNumber, { device: this.payment.device, due: claim.fee }), signal);
        if ('outcome' in paid) return paid.outcome;
        first = advance(paid.entry, { phase: 'fetching' });
      }
      return await this.printJournaled(claimed, first, signal);
    } finally {
      this.journal.release(issuanceId);
    }
  }

  private emitPayment(entry: JournalEntry, state: PaymentProgressView['state'], notice?: PaymentNotice): void {
    const p = entry.payment!;
    const inserted = insertedYen(p);
    this.emitProgress({ kind: 'payment', payment: { state, due: p.due, inserted, remaining: Math.max(0, p.due - inserted), paidOut: p.change + p.refunded, accepting: [], ...(notice ? { notice } : {}) } });
  }

  /** Takes the fee: resolves with the entry (fee covered, change paid) or the outcome of a payment that ended without it (everything paid back or owed, the attempt abandoned). */
  private async pay(claimed: Claimed, first: JournalEntry, signal: AbortSignal): Promise<{ entry: JournalEntry } | { outcome: KioskOutcome }> {
    const port = this.payment!;
    this.setPhase('paying', claimed.receiptNumber, claimed.issuanceId);
    if (!this.journal.record(first)) return { outcome: await this.abandon(claimed, 'the kiosk cannot write its journal, so it takes no money') };
    let entry = first;
    let collected: Collected;
    try {
      collected = await port.collect(first.payment!.due, 0, {
        signal,
        idleTimeoutMs: this.opts.paymentIdleTimeoutMs,
        onCredit: (c) => {
          const next = withPayment(entry, { ...entry.payment!, credits: [...entry.payment!.credits, c] });
          if (!this.journal.record(next)) return false;
          entry = next;
          return true;
        },
        onProgress: (payment) => this.emitProgress({ kind: 'payment', payment }),
      });
    } catch (e) {
      collected = { kind: 'fault', notice: 'device_unavailable', detail: (e as Error).message };
    }
    if (collected.kind === 'paid') {
      const change = insertedYen(entry.payment!) - entry.payment!.due;
      if (change > 0) {
        this.emitPayment(entry, 'paying_change');
        entry = await this.journal.payOut(entry, 'change', change);
      }
      const short = entry.payment!.owed > 0;
      this.emitPayment(entry, 'paid', short ? 'change_short' : undefined);
      return { entry };
    }
    // Not paid: everything goes back, and the attempt is given up (the receipt stays printable).
    const why = collected.kind === 'cancelled' ? 'cancelled at the kiosk during payment' : collected.kind === 'timeout' ? `no money inserted for ${Math.round(this.opts.paymentIdleTimeoutMs / 1000)} s` : `the payment device failed: ${collected.detail ?? collected.notice ?? 'unknown'}`;
    if (heldYen(entry.payment!) > 0) {
      this.setPhase('refunding', claimed.receiptNumber, claimed.issuanceId);
      this.emitPayment(entry, 'refunding', collected.notice);
      entry = await this.journal.refundHeld(entry);
    }
    const outcome = await this.abandon(claimed, why, undefined, entry);
    return { outcome: { ...outcome, paymentEnd: collected.kind, ...(collected.notice ? { paymentNotice: collected.notice } : {}) } };
  }

  /** Fetch → print → report, each step journaled first. The buffer lives only inside this method. */
  private async printJournaled(claimed: Claimed, first: JournalEntry, signal: AbortSignal): Promise<KioskOutcome> {
    const { receiptNumber, issuanceId } = claimed;
    this.setPhase('fetching_document', receiptNumber, issuanceId);
    if (!this.journal.record(first)) return this.abandon(claimed, 'the kiosk cannot write its print journal, so it does not print');
    let entry = first;
    let pdf: Buffer | null = null;
    let failure: PrintFailure | null = null;
    let verdict: Verdict;
    try {
      try {
        pdf = await this.withRetries(() => this.server.document(issuanceId));
      } catch (e) {
        // Nothing was handed out: the server ended the attempt itself (refused at delivery, or timed out).
        if (isRefusal(e)) {
          const money = await this.settleUnprinted(entry, refusedOutcome(e).error);
          return { ...claimed, ...refusedOutcome(e), ...money };
        }
        if (e instanceof ContractError && e.code === 'invalid_state') {
          const money = await this.settleUnprinted(entry, e.message);
          return { ...claimed, status: await this.currentStatus(issuanceId, 'error'), error: e.message, ...money };
        }
        const refunded = await this.refundIfPaid(entry);
        return this.abandon(claimed, `could not fetch the certificate: ${(e as Error).message}`, e, refunded);
      }
      entry = advance(entry, { phase: 'submitting' });
      if (signal.aborted) {
        verdict = { kind: 'failed', detail: 'cancelled at the kiosk before printing' };
        failure = { error: new PrinterError('job_cancelled', 'cancelled at the kiosk before printing') };
      } else if (!this.journal.record(entry)) {
        verdict = { kind: 'failed', detail: 'the kiosk could not write its print journal, so it did not send the print job' };
      } else {
        this.setPhase('printing', receiptNumber, issuanceId);
        try {
          const r = await this.printer.print(pdf, {
            jobName: entry.jobName,
            timeoutMs: this.opts.printTimeoutMs,
            faultToleranceMs: this.opts.printerFaultToleranceMs,
            pollIntervalMs: this.opts.jobPollIntervalMs,
            signal,
            onJob: (jobId) => {
              entry = advance(entry, { phase: 'printing', jobId });
              // A failed write is survivable here: the job is found by its name.
              this.journal.record(entry);
            },
            onProgress: (job, printer) => this.emitProgress({ kind: 'job', job, printer }),
          });
          verdict = { kind: 'printed', detail: `job ${r.jobId} completed`, jobId: r.jobId };
        } catch (e) {
          const pe = e instanceof PrinterError ? e : null;
          failure = { error: e as Error, ...(pe?.details.condition ? { printer: pe.details.condition } : {}) };
          verdict = await this.verdictAfter(entry, e);
        }
      }
    } finally {
      pdf?.fill(0);
    }
    return this.conclude(claimed, entry, verdict, failure);
  }

  /** What a failed print means: the printer's word on the job, unless no job can exist. */
  private async verdictAfter(entry: JournalEntry, e: unknown): Promise<Verdict> {
    const message = (e as Error).message;
    const pe = e instanceof PrinterError ? e : null;
    // No job id yet, and the Print-Job never reached the printer or the printer answered it with an error: no job exists.
    if (entry.phase === 'submitting' && pe && (pe.code === 'job_cancelled' || pe.details.notSent || pe.details.ippStatus !== undefined)) return { kind: 'failed', detail: message };
    // The kiosk may just have cancelled the job: give the cancel as long as a printer fault gets to take effect.
    const v = await this.journal.judge(entry, { settleMs: this.opts.printerFaultToleranceMs });
    return v.kind === 'failed' ? { ...v, detail: message } : v;
  }

  /** Journals the verdict and tells the server; the outcome says what the resident and the clerk should know. */
  private async conclude(claimed: Claimed, concluded: JournalEntry, verdict: Verdict, failure: PrintFailure | null): Promise<KioskOutcome> {
    let entry = concluded;
    const jobId = ('jobId' in verdict ? verdict.jobId : undefined) ?? entry.jobId;
    const withJob = { ...claimed, ...(jobId !== undefined ? { jobId } : {}), ...moneyOf(entry) };
    if (verdict.kind === 'unknown' || verdict.kind === 'pending') {
      if (verdict.kind === 'unknown') this.journal.record(advance(entry, { phase: 'needs_staff', detail: verdict.detail }));
      // The server keeps the attempt delivered (then outcome_unknown): the receipt cannot print again by mistake.
      // The money stays with the entry: nothing is paid back while the paper may exist.
      return { ...withJob, status: 'outcome_unknown', error: `${failure ? `${failure.error.message}; ` : ''}${verdict.detail}` };
    }
    if (verdict.kind === 'failed') {
      entry = await this.refundIfPaid(entry);
      Object.assign(withJob, moneyOf(entry));
    }
    const reporting = advance(entry, { phase: 'reporting', outcome: verdict.kind, detail: verdict.detail, ...(jobId !== undefined ? { jobId } : {}) });
    // Should this write fail, the entry before it still leads the journal to the same outcome.
    this.journal.record(reporting);
    this.setPhase('reporting', claimed.receiptNumber, claimed.issuanceId);
    if (verdict.kind === 'failed' && failure?.error instanceof PrinterError && failure.error.code === 'job_cancelled') {
      return this.abandon(withJob, jobId !== undefined ? 'cancelled at the kiosk while printing (job canceled)' : 'cancelled at the kiosk', undefined, entry);
    }
    const printer = verdict.kind === 'failed' && failure?.printer && failure.printer !== 'ready' ? { printer: failure.printer } : {};
    const told = await this.journal.report(reporting, this.opts.serverAttempts);
    if (told.kind === 'recorded') {
      this.emitProgress({ kind: 'issuance-status', issuanceId: claimed.issuanceId, status: told.status });
      return { ...withJob, status: told.status as KioskOutcomeStatus, ...(verdict.kind === 'failed' ? { error: verdict.detail, ...printer } : {}) };
    }
    if (told.kind === 'ended') {
      const status = (told.status ?? 'error') as KioskOutcomeStatus;
      const said = verdict.kind === 'printed' ? 'printed' : 'not printed';
      return { ...withJob, status, error: `${said}, but the server had already ended the issuance (${told.status ?? 'unknown to it'})`, ...printer };
    }
    // The journal keeps the outcome and tells the server once it can be reached.
    if (verdict.kind === 'printed') return { ...withJob, status: 'printed_unreported', error: `printed; the server has not been told yet (the kiosk keeps trying): ${told.error}` };
    return { ...withJob, status: 'server_unreachable', error: `${verdict.detail}; the server has not been told yet (the kiosk keeps trying): ${told.error}`, ...printer };
  }

  private startFailure(e: unknown): Omit<KioskOutcome, 'receiptNumber'> {
    if (isRefusal(e)) return refusedOutcome(e);
    if (e instanceof ContractError) {
      const status = START_ERRORS[e.code] ?? 'error';
      return { status, error: status === 'error' ? `${e.code}: ${e.message}` : e.message, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) };
    }
    if (e instanceof NetworkError) return { status: 'server_unreachable', error: e.message };
    return { status: 'error', error: (e as Error).message };
  }

  private async waitForDecision(issuanceId: string, signal: AbortSignal): Promise<Decision> {
    const deadline = Date.now() + this.opts.decisionTimeoutMs;
    let seen: IssuanceStatus = 'confirmation_pending';
    let failures = 0;
    for (;;) {
      if (signal.aborted) return { kind: 'cancelled' };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout' };
      try {
        const { status, reason } = await this.server.issuance(issuanceId, Math.min(this.opts.longPollMs, left), seen, signal);
        failures = 0;
        if (status !== seen) {
          seen = status;
          this.emitProgress({ kind: 'issuance-status', issuanceId, status });
        }
        if (status === 'approved' || status === 'delivered' || FINAL_ISSUANCE_STATUSES.includes(status)) return { kind: 'status', status, ...(reason ? { reason } : {}) };
      } catch (e) {
        if (signal.aborted) return { kind: 'cancelled' };
        // A dropped long-poll is normal on a store network, and a 503 is a node without its
        // database for a moment; the deadline still bounds the wait.
        if (!transient(e)) return { kind: 'error', error: e };
        failures++;
        await abortableSleep(Math.min(this.opts.retryDelayMs * 2 ** (failures - 1), 5000, Math.max(0, deadline - Date.now())), signal);
      }
    }
  }

  /** Calls the server, retrying network failures and 503s (never other contract errors) with backoff. */
  private async withRetries<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        if (!transient(e) || attempt >= this.opts.serverAttempts) throw e;
        const hinted = e instanceof ContractError && e.retryAfterSeconds !== undefined ? e.retryAfterSeconds * 1000 : 0;
        await abortableSleep(Math.max(hinted, this.opts.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  /** The server's view of an issuance, for when a call was refused with invalid_state. */
  private async currentStatus(issuanceId: string, fallback: KioskOutcomeStatus): Promise<KioskOutcomeStatus> {
    try {
      const { status } = await this.server.issuance(issuanceId, 0);
      return FINAL_ISSUANCE_STATUSES.includes(status) || status === 'outcome_unknown' ? (status as KioskOutcomeStatus) : fallback;
    } catch {
      return fallback;
    }
  }

  /** Reports a failure found before the document was fetched (nothing to journal: nothing can have printed). */
  private async reportFailed(claimed: Claimed, detail: string, condition?: PrinterCondition): Promise<KioskOutcome> {
    this.setPhase('reporting', claimed.receiptNumber, claimed.issuanceId);
    const extra = { error: detail, ...(condition && condition !== 'ready' ? { printer: condition } : {}) };
    try {
      const status = await this.withRetries(() => this.server.result(claimed.issuanceId, 'failed', detail));
      this.emitProgress({ kind: 'issuance-status', issuanceId: claimed.issuanceId, status });
      return { ...claimed, status: status as KioskOutcomeStatus, ...extra };
    } catch (e) {
      if (e instanceof ContractError && e.code === 'invalid_state') return { ...claimed, status: await this.currentStatus(claimed.issuanceId, 'error'), ...extra };
      return { ...claimed, status: e instanceof NetworkError ? 'server_unreachable' : 'error', error: `${detail}; the server was not told: ${(e as Error).message}` };
    }
  }

  /** A paid entry that will not print: the money goes back (refunding phase shown to the resident). */
  private async refundIfPaid(entry: JournalEntry): Promise<JournalEntry> {
    if (!entry.payment || heldYen(entry.payment) === 0) return entry;
    this.setPhase('refunding', entry.receiptNumber, entry.issuanceId);
    this.emitPayment(entry, 'refunding');
    return this.journal.refundHeld(entry);
  }

  /** The server ended the attempt itself before anything printed: pay back and report the money (recorded even on an ended attempt). */
  private async settleUnprinted(entry: JournalEntry, detail: string): Promise<Pick<KioskOutcome, 'payment'>> {
    if (!entry.payment) {
      this.journal.forget(entry.issuanceId);
      return {};
    }
    const refunded = await this.refundIfPaid(entry);
    const reporting = advance(refunded, { phase: 'reporting', outcome: 'failed', detail });
    if (this.journal.record(reporting)) await this.journal.report(reporting, this.opts.serverAttempts);
    return moneyOf(refunded);
  }

  /** Gives the attempt up on the server, with the money of `entry` (all paid back or owed); its journal entry (if any) goes once the server has it ended. */
  private async abandon(claimed: Claimed & { jobId?: number }, why: string, cause?: unknown, entry?: JournalEntry): Promise<KioskOutcome> {
    this.setPhase('abandoning', claimed.receiptNumber, claimed.issuanceId);
    const money = entry ? moneyOf(entry) : {};
    const report = money.payment;
    try {
      const status = await this.withRetries(() => this.server.abandon(claimed.issuanceId, report));
      this.journal.forget(claimed.issuanceId);
      this.emitProgress({ kind: 'issuance-status', issuanceId: claimed.issuanceId, status });
      return { ...claimed, status: status as KioskOutcomeStatus, error: why, ...money };
    } catch (e) {
      // The attempt ended on the server first (declined, expired…): report what it became.
      if (e instanceof ContractError && e.code === 'invalid_state') {
        const status = await this.currentStatus(claimed.issuanceId, 'error');
        // An attempt still open (delivered, outcome_unknown) keeps its entry: the journal reports it.
        if (FINAL_ISSUANCE_STATUSES.includes(status as IssuanceStatus) && !report) this.journal.forget(claimed.issuanceId);
        // Money the server has not recorded stays in the journal, which reports it as a failed attempt.
        else if (entry?.payment) this.journal.wake();
        return { ...claimed, status, error: why, ...money };
      }
      const unreachable = e instanceof NetworkError || cause instanceof NetworkError;
      return { ...claimed, status: unreachable ? 'server_unreachable' : 'error', error: `${why}; abandoning failed: ${(e as Error).message}`, ...money };
    }
  }
}
