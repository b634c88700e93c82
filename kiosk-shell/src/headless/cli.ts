// `kiosk-shell headless`: argument parsing and wiring of the real server client and printer.
import type { ServerEndpoint } from '@cert/common/node';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IppPrinter } from '../core/ipp-printer.ts';
import { KioskApi } from '../core/kiosk-api.ts';
import { KioskSession } from '../core/kiosk-session.ts';
import { describeReconcile, PrintReconciler } from '../core/print-reconciler.ts';
import { defaultStateDir, openStateDir, StateDirError } from '../state/state-dir.ts';
import type { PaymentPort } from '../core/payment-port.ts';
import { KioskConfigError, paymentConfigSchema, paymentFromArgs, type PaymentConfig } from '../host/kiosk-config.ts';
import { openPaymentDevice } from '../host/kiosk-host.ts';
import { runHeadless } from './run-headless.ts';

/** Usage text of `kiosk-shell headless`. */
export const HEADLESS_USAGE = `Usage: kiosk-shell headless --server URL --credential-file FILE --printer URI --payment cash|free [options]

Reads receipt numbers from stdin, one per line, handles them one at a time and writes one JSON
line per receipt to stdout: {"receiptNumber", "status", "reason"?, "jobId"?, "error"?}. Logs go
to stderr. Exits 0 after the last line at end of input.

Before the first receipt the kiosk looks at every entry of its print journal (jobs a previous
run left: it asks the printer what became of them and tells the server), and it keeps settling
entries in the background; each settled entry is a line too, with "reconciled": true and
"issuanceId" ("status" is the server's, or "needs_staff" when the printer no longer knows the
job and staff must settle it on the server).

  --server URL                       issuance server base URL (https://… in production); repeat it
                                     for each node of a server run on several: the kiosk moves to the
                                     next when one stops answering (README, "Two or more nodes")
  --credential-file FILE             file holding this kiosk's credential (from the admin CLI)
  --printer URI                      IPP printer, e.g. ipp://printer.local:631/ipp/print
  --ca FILE                          extra CA certificate(s) (PEM) to trust for the server
  --payment cash|free                how the fee is taken: cash (the ccTalk cash unit, needs
                                     --cash-serial) or free (prints without payment)
  --cash-serial PATH                 the cash unit's serial port, e.g. /dev/ttyUSB0
  --payment-timeout-seconds N        pay everything back after N seconds without money (default 120)
  --state-dir DIR                    the print journal's directory, one kiosk per directory
                                     (default $XDG_STATE_HOME/kiosk-shell or ~/.local/state/kiosk-shell)
  --decision-timeout-seconds N       wait this long for the applicant's answer (default 150)
  --print-timeout-seconds N          give a print job this long to complete (default 120)
  --recheck-seconds N                longest wait between two tries of an unsettled journal entry,
                                     and how often one waiting for staff is checked (default 60)
  -h, --help                         show this help
`;

/** A command-line mistake: print the message and the usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parsed `headless` options. */
export interface HeadlessOptions {
  endpoint: ServerEndpoint;
  credential: string;
  printerUri: string;
  decisionTimeoutMs: number;
  printTimeoutMs: number;
  stateDir: string;
  recheckMs: number;
  payment: PaymentConfig;
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds, not ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

function readFile(what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Parses `headless` arguments (after the subcommand); throws {@link UsageError}, or returns null for --help. */
export function parseHeadlessArgs(args: string[]): HeadlessOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string', multiple: true },
        'credential-file': { type: 'string' },
        printer: { type: 'string' },
        ca: { type: 'string' },
        'decision-timeout-seconds': { type: 'string' },
        'print-timeout-seconds': { type: 'string' },
        'state-dir': { type: 'string' },
        'recheck-seconds': { type: 'string' },
        payment: { type: 'string' },
        'cash-serial': { type: 'string' },
        'payment-timeout-seconds': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return null;
  const missing = (['server', 'credential-file', 'printer', 'payment'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);

  const servers = values.server!.map((value) => {
    let server: URL;
    try {
      server = new URL(value);
    } catch {
      throw new UsageError(`--server is not a URL: ${value}`);
    }
    if (server.protocol !== 'http:' && server.protocol !== 'https:') throw new UsageError('--server must be an http:// or https:// URL');
    return server.toString().replace(/\/$/, '');
  });
  let printer: URL;
  try {
    printer = new URL(values.printer!);
  } catch {
    throw new UsageError(`--printer is not a URI: ${values.printer}`);
  }
  if (!['ipp:', 'ipps:', 'http:', 'https:'].includes(printer.protocol)) throw new UsageError('--printer must be an ipp:// or ipps:// URI');

  const credential = readFile('credential', values['credential-file']!).trim();
  if (!credential) throw new UsageError(`the credential file ${values['credential-file']} is empty`);
  const endpoint: ServerEndpoint = { baseUrl: servers[0]!, alternateUrls: servers.slice(1) };
  if (values.ca) endpoint.ca = readFile('CA', values.ca);
  let payment: PaymentConfig;
  try {
    const timeout = values['payment-timeout-seconds'] === undefined ? undefined : seconds('payment-timeout-seconds', values['payment-timeout-seconds'], 0) / 1000;
    const parsed = paymentConfigSchema.safeParse(paymentFromArgs(values.payment!, values['cash-serial'], timeout));
    if (!parsed.success) throw new UsageError(`--payment: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`.trim()).join('; ')}`);
    payment = parsed.data;
  } catch (e) {
    if (e instanceof KioskConfigError) throw new UsageError(e.message);
    throw e;
  }
  return {
    payment,
    endpoint,
    credential,
    printerUri: values.printer!,
    decisionTimeoutMs: seconds('decision-timeout-seconds', values['decision-timeout-seconds'], 150),
    printTimeoutMs: seconds('print-timeout-seconds', values['print-timeout-seconds'], 120),
    stateDir: values['state-dir'] || defaultStateDir(),
    recheckMs: seconds('recheck-seconds', values['recheck-seconds'], 60),
  };
}

/** Runs `kiosk-shell headless` with process stdio; resolves with the exit code. */
export async function headlessMain(args: string[]): Promise<number> {
  const log = (line: string) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
  let options: HeadlessOptions | null;
  try {
    options = parseHeadlessArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`kiosk-shell headless: ${e.message}\n\n${HEADLESS_USAGE}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(HEADLESS_USAGE);
    return 0;
  }
  let state;
  try {
    state = openStateDir(options.stateDir, log);
  } catch (e) {
    if (!(e instanceof StateDirError)) throw e;
    process.stderr.write(`kiosk-shell headless: ${e.message}\n`);
    return 1;
  }
  let payment: PaymentPort | null;
  try {
    payment = await openPaymentDevice(options.payment, state, log);
  } catch (e) {
    state.release();
    process.stderr.write(`kiosk-shell headless: ${(e as Error).message}\n`);
    return 1;
  }
  const printer = new IppPrinter(options.printerUri);
  const server = new KioskApi(options.endpoint, options.credential);
  const journal = new PrintReconciler(state.journal, server, printer, { printTimeoutMs: options.printTimeoutMs, maxRetryDelayMs: options.recheckMs, ...(payment ? { payment } : {}) });
  journal.on('event', (e) => log(describeReconcile(e)));
  const session = new KioskSession(server, printer, {
    decisionTimeoutMs: options.decisionTimeoutMs,
    printTimeoutMs: options.printTimeoutMs,
    journal,
    ...(payment ? { payment } : {}),
    ...(options.payment.mode === 'cash' ? { paymentIdleTimeoutMs: options.payment.idleTimeoutSeconds * 1000 } : {}),
  });
  const initial = await printer.status();
  log(`server ${[options.endpoint.baseUrl, ...(options.endpoint.alternateUrls ?? [])].join(' ')}; printer ${options.printerUri}: ${initial.condition} (${initial.message}); state ${options.stateDir}`);

  // SIGINT/SIGTERM: abandon the receipt in progress (so it stays printable elsewhere), then stop.
  const stop = new AbortController();
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled = sig;
    log(`${sig}: stopping after the current receipt is abandoned`);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const n = await runHeadless(session, { input: process.stdin, output: process.stdout, log }, stop.signal, journal);
    log(`end of input after ${n} receipt(s)`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // After a stop stdin is still open and would keep the process alive.
    process.stdin.destroy();
    await journal.stop();
    const left = journal.entries().length;
    if (left > 0) log(`${left} journal entr${left === 1 ? 'y' : 'ies'} left in ${options.stateDir} for the next start`);
    await payment?.close();
    state.release();
  }
  return signalled ? 128 + (signalled === 'SIGINT' ? 2 : 15) : 0;
}
