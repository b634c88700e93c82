// `npx tsx kiosk-shell/src/host/web-main.ts --server URL --credential-file F --printer URI` runs
// the kiosk in web mode and prints `kiosk UI: <url>`.
//
// Chromium in kiosk mode on top of it is a supported deployment (two systemd units, or one
// launcher script; the URL carries a per-launch token, so hand it over through --url-file):
//
//   npx tsx kiosk-shell/src/host/web-main.ts --server https://issuance.example.lg.jp \
//     --credential-file /etc/kiosk/credential --printer ipp://printer.local:631/ipp/print \
//     --payment cash --cash-serial /dev/ttyUSB0 \
//     --ca /etc/kiosk/ca.pem --store-name 'コンビニ テスト駅前店' --url-file /run/kiosk/url &
//   chromium --kiosk --noerrdialogs --no-first-run --disable-pinch \
//     --overscroll-history-navigation=0 --disable-features=Translate \
//     --user-data-dir=/var/lib/kiosk/chromium "$(cat /run/kiosk/url)"
//
// Chromium's own keyboard shortcuts are not swallowed in this mode (the Electron shell does
// that); lock the keyboard down at the OS level or use the Electron shell where that matters.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KioskConfigError, paymentFromArgs, resolveKioskConfig } from './kiosk-config.ts';
import { startKioskWebHost, type KioskWebHostOptions } from './kiosk-web-host.ts';

/** Usage text of the web-mode host. */
export const WEB_USAGE = `Usage: npx tsx kiosk-shell/src/host/web-main.ts --server URL --credential-file FILE --printer URI --payment cash|free [options]

Runs the kiosk core and serves its touch UI on 127.0.0.1; prints "kiosk UI: <url>" (open it in
Chromium, e.g. chromium --kiosk <url>). Stops on SIGINT/SIGTERM or after an admin exit.

  --server URL                     issuance server base URL (https://… in production); repeat it for
                                   each node of a server run on several (README, "Two or more nodes")
  --credential-file FILE           file holding this kiosk's credential (from the admin CLI)
  --printer URI                    IPP printer, e.g. ipp://printer.local:631/ipp/print
  --ca FILE                        extra CA certificate(s) (PEM) to trust for the server
  --port P                         port on 127.0.0.1 (default: any free port)
  --store-name NAME                the store's name as registered (shown while waiting for approval)
  --location TEXT                  the store's location
  --admin-code-file FILE           file holding the admin code (6-12 digits) that stops the kiosk
  --inactivity-seconds N           back to the start screen after N idle seconds (default 90)
  --decision-timeout-seconds N     wait this long for the applicant's answer (default 150)
  --print-timeout-seconds N        give a print job this long to complete (default 120)
  --payment cash|free              how the fee is taken: cash (the ccTalk cash unit, needs
                                   --cash-serial) or free (a kiosk that prints without payment)
  --cash-serial PATH               the cash unit's serial port, e.g. /dev/ttyUSB0
  --payment-timeout-seconds N      pay everything back after N seconds without money (default 120)
  --state-dir DIR                  the print journal's directory, one kiosk per directory
                                   (default $XDG_STATE_HOME/kiosk-shell or ~/.local/state/kiosk-shell)
  --url-file FILE                  also write the URL to FILE (mode 0600), for a browser launcher
  -h, --help                       show this help
`;

/** A command-line mistake: print the message and the usage, exit 2. */
export class WebUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebUsageError';
  }
}

/** Parsed web-mode options. */
export interface WebMainOptions {
  host: KioskWebHostOptions;
  urlFile: string | null;
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new WebUsageError(`--${name} must be a number of seconds, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** Parses the arguments; throws {@link WebUsageError}, or returns null for --help. */
export function parseWebArgs(args: string[]): WebMainOptions | null {
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
        port: { type: 'string' },
        'store-name': { type: 'string' },
        location: { type: 'string' },
        'admin-code-file': { type: 'string' },
        'inactivity-seconds': { type: 'string' },
        'decision-timeout-seconds': { type: 'string' },
        'print-timeout-seconds': { type: 'string' },
        'state-dir': { type: 'string' },
        payment: { type: 'string' },
        'cash-serial': { type: 'string' },
        'payment-timeout-seconds': { type: 'string' },
        'url-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new WebUsageError((e as Error).message);
  }
  if (values.help) return null;
  const missing = (['server', 'credential-file', 'printer', 'payment'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new WebUsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new WebUsageError(`--port must be a port number (0-65535), not ${JSON.stringify(values.port)}`);
  }
  let adminCode: string | undefined;
  if (values['admin-code-file']) {
    try {
      adminCode = readFileSync(values['admin-code-file'], 'utf8').trim();
    } catch (e) {
      throw new WebUsageError(`cannot read the admin code file ${values['admin-code-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const raw = {
    serverUrl: values.server?.[0],
    fallbackServerUrls: values.server?.slice(1),
    credentialFile: values['credential-file'],
    printerUri: values.printer,
    caFile: values.ca,
    storeName: values['store-name'],
    location: values.location,
    adminCode,
    inactivitySeconds: seconds('inactivity-seconds', values['inactivity-seconds']),
    decisionTimeoutSeconds: seconds('decision-timeout-seconds', values['decision-timeout-seconds']),
    printTimeoutSeconds: seconds('print-timeout-seconds', values['print-timeout-seconds']),
    stateDir: values['state-dir'],
    payment: undefined as unknown,
  };
  let config;
  try {
    raw.payment = paymentFromArgs(values.payment!, values['cash-serial'], seconds('payment-timeout-seconds', values['payment-timeout-seconds']));
    // Options left out stay undefined, so the schema's defaults apply.
    config = resolveKioskConfig(JSON.parse(JSON.stringify(raw)), 'the command line', process.cwd());
  } catch (e) {
    if (e instanceof KioskConfigError) throw new WebUsageError(e.message);
    throw e;
  }
  return { host: { ...config, ...(port !== undefined ? { port } : {}) }, urlFile: values['url-file'] ?? null };
}

/** Runs the web-mode host until a signal or an admin exit; resolves with the exit code. */
export async function webMain(args: string[]): Promise<number> {
  const log = (line: string) => process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
  let options: WebMainOptions | null;
  try {
    options = parseWebArgs(args);
  } catch (e) {
    if (!(e instanceof WebUsageError)) throw e;
    process.stderr.write(`kiosk web mode: ${e.message}\n\n${WEB_USAGE}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(WEB_USAGE);
    return 0;
  }
  let stopped!: (code: number) => void;
  const done = new Promise<number>((r) => (stopped = r));
  let host;
  try {
    host = await startKioskWebHost({ ...options.host, log, onAdminExit: () => stopped(0) });
  } catch (e) {
    process.stderr.write(`kiosk web mode: ${(e as Error).message}\n`);
    return 1;
  }
  if (options.urlFile) writeFileSync(options.urlFile, `${host.url}\n`, { mode: 0o600 });
  process.stdout.write(`kiosk UI: ${host.url}\n`);
  const onSignal = (sig: NodeJS.Signals) => stopped(128 + (sig === 'SIGINT' ? 2 : 15));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  log(code === 0 ? 'admin exit: stopping' : 'signal: abandoning the receipt in progress, then stopping');
  await host.close();
  return code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await webMain(process.argv.slice(2));
}
