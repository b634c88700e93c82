// The kiosk's printer over IPP (@sealsystems/ipp, the maintained fork of npm `ipp`): printer
// state, Print-Job of the certificate PDF, job polling with its own timeouts, Cancel-Job.
//
// Printers do not always end a job when something goes wrong: ippeveprinter (and many real
// devices) keep a job in `processing` while the paper tray is empty. So the job is watched
// together with the printer's state, and the kiosk gives up on its own clock.
//
// Date-time attributes are never requested: npm `ipp` decodes them a month ahead.
import { abortableSleep } from './abortable-sleep.ts';
import ipp, { type IppRequest, type IppResponse, type Printer } from '@sealsystems/ipp';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';

/** What the kiosk makes of the printer's state; everything but `ready` blocks printing. */
export type PrinterCondition = 'ready' | 'media-empty' | 'media-jam' | 'door-open' | 'toner-empty' | 'stopped' | 'offline';

/** The printer's state, classified, with the raw IPP values it came from. */
export interface PrinterStatus {
  condition: PrinterCondition;
  /** True when a job can be sent now (`condition === 'ready'`). */
  ready: boolean;
  /** A sentence for logs and the clerk (the UI translates `condition`). */
  message: string;
  /** printer-state, or `unknown` when the printer did not answer. */
  state: 'idle' | 'processing' | 'stopped' | 'unknown';
  /** printer-state-reasons as sent (`none` dropped). */
  reasons: string[];
  acceptingJobs: boolean | null;
  /** printer-state-message, when the printer gave one. */
  stateMessage: string | null;
}

/** IPP job-state keywords (RFC 8011 §5.3.7). */
export type JobState = 'pending' | 'pending-held' | 'processing' | 'processing-stopped' | 'canceled' | 'aborted' | 'completed';

/** One observation of a job. */
export interface JobStatus {
  jobId: number;
  state: JobState;
  reasons: string[];
  message: string | null;
  /** job-name as the printer reports it: after a printer restart a job id can name another job. */
  name: string | null;
}

/** Why a printer operation failed. */
export type PrinterErrorCode =
  | 'printer_unreachable' // no IPP answer (connection refused, timeout, not IPP)
  | 'ipp_error' // the printer answered with an IPP error status
  | 'printer_not_ready' // refused to send a job: the printer reports a blocking condition
  | 'job_failed' // the job was aborted or canceled by the printer, or the printer stalled on a fault
  | 'job_timeout' // the job did not complete within the kiosk's timeout (it was canceled)
  | 'job_cancelled' // the kiosk cancelled the job (the resident walked away)
  | 'watch_stopped'; // the kiosk stopped watching (shutting down); the job was left alone

/** A failed printer operation; `jobId` is set once a job exists. */
export class PrinterError extends Error {
  constructor(
    readonly code: PrinterErrorCode,
    message: string,
    /** `notSent`: the printer refused the connection, so the request never reached it. */
    readonly details: { jobId?: number; jobState?: JobState; condition?: PrinterCondition; ippStatus?: string; notSent?: boolean } = {},
  ) {
    super(message);
    this.name = 'PrinterError';
  }

  /** The job this error is about, if one was created. */
  get jobId(): number | undefined {
    return this.details.jobId;
  }
}

/** The printer as the kiosk session uses it (an interface so the session can be driven without IPP). */
export interface KioskPrinter {
  /** The printer's state; never throws (an unreachable printer is `offline`). */
  status(): Promise<PrinterStatus>;
  /** Sends the PDF and waits for the job to complete; throws {@link PrinterError} otherwise. */
  print(pdf: Buffer, options: PrintOptions): Promise<PrintResult>;
}

/**
 * What the print journal asks the printer after the fact (IppPrinter implements it): a job by
 * id or by job-name, and the watch of a job that is still running.
 */
export interface PrintJobLookup {
  /** Get-Job-Attributes; a job the printer does not know throws `ipp_error` with `client-error-not-found`. */
  job(jobId: number): Promise<JobStatus>;
  /** The printer's jobs (finished ones included) with this job-name, oldest first. */
  jobsNamed(jobName: string): Promise<JobStatus[]>;
  /** Polls a job with the printer's state until it completes; see {@link PrintOptions} for the limits. */
  waitForJob(jobId: number, options: Omit<PrintOptions, 'jobName'>): Promise<JobStatus>;
}

/** Options of {@link IppPrinter}. */
export interface IppPrinterOptions {
  /** Per IPP request (default 10 s). */
  requestTimeoutMs?: number;
  /** requesting-user-name (default `kiosk`). */
  userName?: string;
}

/** How to run one print job. */
export interface PrintOptions {
  /** job-name; keep personal data out of it, the printer shows and logs it. */
  jobName: string;
  /** From submission to completion; on expiry the job is canceled (default 120 s). */
  timeoutMs?: number;
  /** How often the job and the printer are polled (default 250 ms). */
  pollIntervalMs?: number;
  /** How long the printer may report a blocking condition while the job is unfinished (default 10 s). */
  faultToleranceMs?: number;
  /** Aborting cancels the job and throws `job_cancelled`. */
  signal?: AbortSignal;
  /** Aborting stops the watch without touching the job (throws `watch_stopped`): the journal still has it. */
  detach?: AbortSignal;
  /** Called whenever the job's state or the printer's condition changes. */
  onProgress?: (job: JobStatus, printer: PrinterStatus) => void;
  /** Called once the printer has accepted the job and named its id, before it is watched. */
  onJob?: (jobId: number) => void;
}

/** A completed job. */
export interface PrintResult {
  jobId: number;
  state: 'completed';
  /** From Print-Job to seeing `completed`. */
  elapsedMs: number;
}

const JOB_STATES: Record<number, JobState> = {
  3: 'pending',
  4: 'pending-held',
  5: 'processing',
  6: 'processing-stopped',
  7: 'canceled',
  8: 'aborted',
  9: 'completed',
};
const PRINTER_STATES: Record<number, PrinterStatus['state']> = { 3: 'idle', 4: 'processing', 5: 'stopped' };

/** Job states after which a job never changes again. */
export const TERMINAL_JOB_STATES: readonly JobState[] = ['completed', 'aborted', 'canceled'];

const CONDITION_MESSAGES: Record<PrinterCondition, string> = {
  ready: 'The printer is ready.',
  'media-empty': 'The printer is out of paper.',
  'media-jam': 'Paper is jammed in the printer.',
  'door-open': 'A cover or door of the printer is open.',
  'toner-empty': 'The printer is out of toner.',
  stopped: 'The printer has stopped.',
  offline: 'The printer cannot be reached.',
};

// printer-state-reasons keywords (suffix stripped) that stop a print, mapped to a condition.
// The severity suffix is ignored on purpose: ippeveprinter reports an empty tray as
// `media-empty-report` while idle, yet every job then hangs until paper is loaded.
const BLOCKING_REASONS: Record<string, Exclude<PrinterCondition, 'ready'>> = {
  'media-jam': 'media-jam',
  'cover-open': 'door-open',
  'door-open': 'door-open',
  'interlock-open': 'door-open',
  'media-empty': 'media-empty',
  'media-needed': 'media-empty',
  'toner-empty': 'toner-empty',
  'marker-supply-empty': 'toner-empty',
  'input-tray-missing': 'stopped',
  'output-area-full': 'stopped',
  'marker-waste-full': 'stopped',
  'spool-area-full': 'stopped',
  paused: 'stopped',
  'moving-to-paused': 'stopped',
  shutdown: 'stopped',
  offline: 'offline',
};
// Most actionable first: a jam explains an empty tray report, not the other way round.
const CONDITION_PRIORITY: readonly PrinterCondition[] = ['media-jam', 'door-open', 'media-empty', 'toner-empty', 'stopped', 'offline'];

function asStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function firstString(v: unknown): string | null {
  const s = asStrings(v)[0];
  return s === undefined ? null : s;
}

/** Strips the RFC 8011 severity suffix from a printer-state-reasons keyword. */
export function reasonKeyword(reason: string): string {
  return reason.replace(/-(error|warning|report)$/, '');
}

/** Classifies printer-state, printer-state-reasons and printer-is-accepting-jobs (a pure function). */
export function classifyPrinter(attrs: { state: PrinterStatus['state']; reasons: string[]; acceptingJobs: boolean | null; stateMessage?: string | null }): PrinterStatus {
  const reasons = attrs.reasons.filter((r) => r !== 'none');
  const found = new Set<PrinterCondition>();
  for (const r of reasons) {
    const mapped = BLOCKING_REASONS[reasonKeyword(r)];
    if (mapped) found.add(mapped);
    // An unknown reason at error severity stops the printer by definition (RFC 8011 §5.4.12).
    else if (r.endsWith('-error')) found.add('stopped');
  }
  if (attrs.state === 'stopped') found.add('stopped');
  if (attrs.acceptingJobs === false) found.add('stopped');
  const condition = CONDITION_PRIORITY.find((c) => found.has(c)) ?? 'ready';
  let message = CONDITION_MESSAGES[condition];
  if (condition === 'stopped') {
    const why = [...reasons, ...(attrs.acceptingJobs === false ? ['not accepting jobs'] : [])];
    if (why.length > 0) message = `${message.slice(0, -1)} (${why.join(', ')}).`;
  }
  return { condition, ready: condition === 'ready', message, state: attrs.state, reasons, acceptingJobs: attrs.acceptingJobs, stateMessage: attrs.stateMessage ?? null };
}

/** The status of a printer that did not answer. */
export function offlineStatus(why: string): PrinterStatus {
  return { condition: 'offline', ready: false, message: `${CONDITION_MESSAGES.offline.slice(0, -1)}: ${why}`, state: 'unknown', reasons: [], acceptingJobs: null, stateMessage: null };
}

function parseJobState(v: unknown): JobState | null {
  if (typeof v === 'number') return JOB_STATES[v] ?? null;
  const s = firstString(v);
  return s !== null && Object.values(JOB_STATES).includes(s as JobState) ? (s as JobState) : null;
}

function jobGroups(res: IppResponse): Record<string, unknown>[] {
  const g = res['job-attributes-tag'];
  return g === undefined ? [] : Array.isArray(g) ? g : [g];
}

function jobGroup(res: IppResponse): Record<string, unknown> {
  return jobGroups(res)[0] ?? {};
}

const JOB_ATTRIBUTES = ['job-id', 'job-state', 'job-state-reasons', 'job-state-message', 'job-name'];

/** A job's attribute group as a {@link JobStatus}; null when the group is not a job we can read. */
function parseJob(a: Record<string, unknown>, jobId: number): JobStatus | null {
  const state = parseJobState(a['job-state']);
  if (!state) return null;
  const message = firstString(a['job-state-message'])?.trim() || null;
  return { jobId, state, reasons: asStrings(a['job-state-reasons']).filter((r) => r !== 'none'), message, name: firstString(a['job-name']) };
}

/** An IPP printer (`ipp://host:port/path` or `ipps://…`). */
export class IppPrinter implements KioskPrinter, PrintJobLookup {
  private readonly client: Printer;
  private readonly requestTimeoutMs: number;
  private readonly userName: string;

  constructor(
    readonly uri: string,
    options: IppPrinterOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.userName = options.userName ?? 'kiosk';
    // No keep-alive: a printer that closes an idle connection must not turn the next poll into ECONNRESET.
    this.client = new ipp.Printer(uri, { timeout: this.requestTimeoutMs, agent: new Agent({ keepAlive: false }) });
  }

  private execute(operation: string, message: IppRequest): Promise<IppResponse> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: PrinterError | null, res?: IppResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res!);
      };
      // The library's timeout is per socket inactivity; this bounds the whole exchange.
      const timer = setTimeout(() => finish(new PrinterError('printer_unreachable', `${operation}: no answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs + 1000);
      try {
        this.client.execute(operation, message, (error, res) => {
          const refused = (error as NodeJS.ErrnoException | null)?.code === 'ECONNREFUSED';
          if (error || !res) return finish(new PrinterError('printer_unreachable', `${operation}: ${error?.message ?? 'no response'}`, refused ? { notSent: true } : {}));
          if (!String(res.statusCode).startsWith('successful')) {
            const said = firstString(res['operation-attributes-tag']?.['status-message']);
            return finish(new PrinterError('ipp_error', `${operation} failed: ${res.statusCode}${said ? ` (${said})` : ''}`, { ippStatus: String(res.statusCode) }));
          }
          finish(null, res);
        });
      } catch (e) {
        finish(new PrinterError('printer_unreachable', `${operation}: ${(e as Error).message}`));
      }
    });
  }

  /** Get-Printer-Attributes, classified; an unreachable printer or an IPP error reads as `offline`. */
  async status(): Promise<PrinterStatus> {
    let res: IppResponse;
    try {
      res = await this.execute('Get-Printer-Attributes', {
        'operation-attributes-tag': {
          'requesting-user-name': this.userName,
          'requested-attributes': ['printer-state', 'printer-state-reasons', 'printer-is-accepting-jobs', 'printer-state-message'],
        },
      });
    } catch (e) {
      return offlineStatus((e as Error).message);
    }
    const a = res['printer-attributes-tag'] ?? {};
    const rawState = a['printer-state'];
    const state = typeof rawState === 'number' ? (PRINTER_STATES[rawState] ?? 'unknown') : ((firstString(rawState) as PrinterStatus['state'] | null) ?? 'unknown');
    const accepting = a['printer-is-accepting-jobs'];
    return classifyPrinter({
      state: ['idle', 'processing', 'stopped'].includes(state) ? state : 'unknown',
      reasons: asStrings(a['printer-state-reasons']),
      acceptingJobs: typeof accepting === 'boolean' ? accepting : null,
      stateMessage: firstString(a['printer-state-message']),
    });
  }

  /** Print-Job of a PDF; resolves with the job id once the printer has accepted the document. */
  async submit(pdf: Buffer, jobName: string): Promise<number> {
    // Streaming the caller's buffer (instead of handing the library a Buffer, which it copies
    // into a request buffer of its own) leaves exactly one copy of the document to zero.
    const body = new Readable({
      read() {
        this.push(pdf);
        this.push(null);
      },
    });
    const res = await this.execute('Print-Job', {
      'operation-attributes-tag': {
        'requesting-user-name': this.userName,
        'job-name': jobName,
        'document-format': 'application/pdf',
      },
      // No `copies`: the PDF already has one page per copy.
      data: body,
    });
    const id = jobGroup(res)['job-id'];
    if (typeof id !== 'number') throw new PrinterError('ipp_error', 'Print-Job answered without a job-id');
    return id;
  }

  /** Get-Job-Attributes (state, reasons, message, name). */
  async job(jobId: number): Promise<JobStatus> {
    const res = await this.execute('Get-Job-Attributes', {
      'operation-attributes-tag': { 'job-id': jobId, 'requesting-user-name': this.userName, 'requested-attributes': JOB_ATTRIBUTES },
    });
    const a = jobGroup(res);
    const job = parseJob(a, jobId);
    if (!job) throw new PrinterError('ipp_error', `job ${jobId}: unknown job-state ${JSON.stringify(a['job-state'])}`, { jobId });
    return job;
  }

  /** Get-Jobs (which-jobs=all), filtered by job-name, oldest first. */
  async jobsNamed(jobName: string): Promise<JobStatus[]> {
    const res = await this.execute('Get-Jobs', {
      'operation-attributes-tag': { 'requesting-user-name': this.userName, 'which-jobs': 'all', 'requested-attributes': JOB_ATTRIBUTES },
    });
    return jobGroups(res)
      .filter((a) => firstString(a['job-name']) === jobName && typeof a['job-id'] === 'number')
      .map((a) => parseJob(a, a['job-id'] as number))
      .filter((j): j is JobStatus => j !== null)
      .sort((x, y) => x.jobId - y.jobId);
  }

  /** Cancel-Job; a job that already ended is fine. */
  async cancel(jobId: number): Promise<void> {
    try {
      await this.execute('Cancel-Job', { 'operation-attributes-tag': { 'job-id': jobId, 'requesting-user-name': this.userName } });
    } catch (e) {
      // client-error-not-possible: the job already finished; nothing left to cancel.
      if (!(e instanceof PrinterError && e.details.ippStatus === 'client-error-not-possible')) throw e;
    }
  }

  /** Cancel-Job, best effort (the error being reported matters more); says how it went, for that error's text. */
  private async cancelQuietly(jobId: number): Promise<string> {
    try {
      await this.cancel(jobId);
      return 'canceled';
    } catch {
      return 'could not cancel it';
    }
  }

  /** Sends the PDF and waits for `completed`; any other ending throws {@link PrinterError} (with the job canceled where needed). */
  async print(pdf: Buffer, options: PrintOptions): Promise<PrintResult> {
    if (options.signal?.aborted) throw new PrinterError('job_cancelled', 'the print was cancelled before it started');
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? 120_000;
    let jobId: number;
    for (;;) {
      try {
        jobId = await this.submit(pdf, options.jobName);
        break;
      } catch (e) {
        // Single-job printers (ippeveprinter among them) refuse a job while one is still
        // finishing instead of queueing it; wait for it, within the same print timeout.
        const busy = e instanceof PrinterError && e.details.ippStatus === 'server-error-busy';
        if (!busy || performance.now() - started >= timeoutMs) throw e;
        await abortableSleep(Math.max(options.pollIntervalMs ?? 250, 500), options.signal);
        if (options.signal?.aborted) throw new PrinterError('job_cancelled', 'the print was cancelled while the printer was busy');
      }
    }
    options.onJob?.(jobId);
    await this.waitForJob(jobId, { ...options, timeoutMs: Math.max(1, timeoutMs - (performance.now() - started)) });
    return { jobId, state: 'completed', elapsedMs: Math.round(performance.now() - started) };
  }

  /** Polls the job and the printer until the job completes; see {@link PrintOptions} for the limits. */
  async waitForJob(jobId: number, options: Omit<PrintOptions, 'jobName'>): Promise<JobStatus> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const pollMs = options.pollIntervalMs ?? 250;
    const toleranceMs = options.faultToleranceMs ?? 10_000;
    const started = Date.now();
    let faultSince: number | null = null;
    let lastKey = '';
    let lastJob: JobStatus = { jobId, state: 'pending', reasons: [], message: null, name: null };
    const wake = options.detach && options.signal ? AbortSignal.any([options.signal, options.detach]) : (options.detach ?? options.signal);
    for (;;) {
      if (options.signal?.aborted) {
        await this.cancelQuietly(jobId);
        throw new PrinterError('job_cancelled', `job ${jobId} was cancelled at the kiosk`, { jobId, jobState: lastJob.state });
      }
      if (options.detach?.aborted) throw new PrinterError('watch_stopped', `stopped watching job ${jobId} (${lastJob.state})`, { jobId, jobState: lastJob.state });
      let job: JobStatus | null = null;
      try {
        job = await this.job(jobId);
        lastJob = job;
      } catch (e) {
        // A printer that stops answering mid-job counts as a fault below, not as an instant failure.
        if (!(e instanceof PrinterError && e.code === 'printer_unreachable')) throw e;
      }
      const printer = await this.status();
      const key = `${job?.state}|${job?.reasons.join(',')}|${printer.condition}|${printer.state}`;
      if (key !== lastKey) {
        lastKey = key;
        options.onProgress?.(lastJob, printer);
      }
      if (job?.state === 'completed') return job;
      if (job && (job.state === 'aborted' || job.state === 'canceled')) {
        const jobWhy = `job ${jobId} ${job.state}${job.message ? `: ${job.message}` : ''}`;
        const text = printer.ready ? jobWhy : `${printer.message} (${jobWhy})`;
        throw new PrinterError('job_failed', text, { jobId, jobState: job.state, condition: printer.condition });
      }
      const now = Date.now();
      if (!job || !printer.ready) {
        faultSince ??= now;
        if (now - faultSince >= toleranceMs) {
          const cancelled = await this.cancelQuietly(jobId);
          const cond = job ? printer : offlineStatus('no answer to Get-Job-Attributes');
          throw new PrinterError('job_failed', `${cond.message} (job ${jobId} stalled in ${lastJob.state}; ${cancelled})`, { jobId, jobState: lastJob.state, condition: cond.condition });
        }
      } else {
        faultSince = null;
      }
      if (now - started >= timeoutMs) {
        const cancelled = await this.cancelQuietly(jobId);
        throw new PrinterError('job_timeout', `job ${jobId} did not complete within ${Math.round(timeoutMs / 1000)} s (last state ${lastJob.state}; ${cancelled})`, {
          jobId,
          jobState: lastJob.state,
          condition: printer.condition,
        });
      }
      await abortableSleep(pollMs, wake);
    }
  }
}
