// The virtual printer of the test rig (DESIGN.md, "Real devices and the test rig"): Debian's
// `ippeveprinter` (cups-ipp-utils) on localhost, with its own D-Bus session bus, a spool
// directory that keeps every received document, and a `-c` print command that completes jobs
// at once or injects faults read from a control file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.ts';

/**
 * What the print command does with the next jobs: `ok` completes them; a fault keyword makes
 * the job abort and sets the matching printer-state-reasons; `fail` aborts without a reason;
 * `delay:<seconds>` completes after a pause (to see `processing`, or to trip a print timeout).
 */
export type VirtualPrinterMode = 'ok' | 'media-empty' | 'media-jam' | 'cover-open' | 'toner-empty' | 'fail' | `delay:${number}`;

/** One document the printer received and kept (`-k`). */
export interface ReceivedDocument {
  jobId: number;
  /** The job name as ippeveprinter put it into the file name (lowercased, sanitised). */
  name: string;
  path: string;
  bytes: number;
}

/** Options of {@link startVirtualPrinter}. */
export interface VirtualPrinterOptions {
  /** printer-name (also the DNS-SD name, unused with `-r off`). */
  name?: string;
  /** How long to wait for the printer to answer IPP. */
  startTimeoutMs?: number;
}

/** A running virtual printer. */
export interface VirtualPrinter {
  /** `ipp://localhost:PORT/ipp/print`. */
  readonly uri: string;
  readonly port: number;
  /** The printer's web interface (media and supplies forms). */
  readonly webUrl: string;
  readonly spoolDir: string;
  /** Decides the fate of the next jobs until changed (persists; see {@link VirtualPrinterMode}). */
  setMode(mode: VirtualPrinterMode): void;
  /** The mode the print command currently reads. */
  mode(): VirtualPrinterMode;
  /** Loads paper in every tray (clears media-empty/-needed/-low); a `media-empty` mode goes back to `ok`. */
  clearMedia(): Promise<void>;
  /** Takes all paper out: the printer reports media-empty, and jobs hang in `processing` until {@link clearMedia}. */
  emptyMedia(): Promise<void>;
  /** Clears every fault (media, jam, cover, toner) and sets the mode back to `ok`. */
  clearFaults(): Promise<void>;
  /** The documents received so far, oldest first (the rig's own housekeeping jobs excluded). */
  documents(): ReceivedDocument[];
  /** The printer's log (stderr), for failure messages. */
  log(): string;
  /** Stops ippeveprinter and its D-Bus daemon and removes the temporary directory. */
  stop(): Promise<void>;
}

const CLEAR_JOB_NAME = 'rig-clear-faults';
// ippeveprinter's media form: tray 1 is "main", tray 3 "by-pass-tray" ("auto" and "manual" are skipped).
// Every tray left out of the query is set to 0 sheets, which sets media-empty again, so fill both.
const MEDIA_LOADED = 'size1=iso_a4_210x297mm&type1=stationery&level1=250&size3=iso_a4_210x297mm&type3=stationery&level3=25';
const MEDIA_REMOVED = 'size1=iso_a4_210x297mm&type1=stationery&level1=0&size3=iso_a4_210x297mm&type3=stationery&level3=0';

/** The `-c` print command: reads the control file for each job. */
function printCommand(controlFile: string): string {
  return `#!/bin/sh
# Print command of the virtual printer (scripts/src/rig/virtual-printer.ts).
# ippeveprinter runs it once per job with the spooled document as $1 and reads
# STATE:/ERROR: lines from its stderr; a non-zero exit aborts the job.
if [ "$IPP_JOB_NAME" = "${CLEAR_JOB_NAME}" ]; then
  echo "STATE: none" >&2
  exit 0
fi
mode=$(cat "${controlFile}" 2>/dev/null || echo ok)
case "$mode" in
  ok) exit 0 ;;
  delay:*) sleep "\${mode#delay:}"; exit 0 ;;
  media-empty) echo "STATE: +media-empty-error" >&2; echo "ERROR: Out of paper" >&2; exit 1 ;;
  media-jam) echo "STATE: +media-jam-error" >&2; echo "ERROR: Paper jam" >&2; exit 1 ;;
  cover-open) echo "STATE: +cover-open-error" >&2; echo "ERROR: Cover open" >&2; exit 1 ;;
  toner-empty) echo "STATE: +toner-empty-error" >&2; echo "ERROR: Out of toner" >&2; exit 1 ;;
  *) echo "ERROR: Printer engine failure" >&2; exit 1 ;;
esac
`;
}


/** Runs ipptool with a test file; true when every test passed. */
function ipptool(uri: string, testFile: string, vars: Record<string, string> = {}, file?: string): { ok: boolean; out: string } {
  const args = ['-T', '5', '-t'];
  for (const [k, v] of Object.entries(vars)) args.push('-d', `${k}=${v}`);
  if (file) args.push('-f', file);
  args.push(uri, testFile);
  const r = spawnSync('ipptool', args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: 5000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Signals a child and, when it leads a process group of its own (ippeveprinter), the whole
 * group: the print command of a job still running (a `delay:` sleep) would outlive the printer.
 */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined && child.spawnargs[0] === 'ippeveprinter') {
      process.kill(-child.pid, sig);
      return;
    }
  } catch {
    // The group is gone already; the child itself is signalled below.
  }
  child.kill(sig);
}

function stopChild(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => signal(child, 'SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    signal(child, 'SIGTERM');
  });
}

/** Starts a D-Bus session daemon on `DIR/bus` and resolves once it accepts connections. */
async function startDbus(dir: string): Promise<{ child: ChildProcess; address: string }> {
  const path = join(dir, 'bus');
  const address = `unix:path=${path}`;
  const child = spawn('dbus-daemon', ['--session', '--nofork', `--address=${address}`, '--print-address'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dbus-daemon did not start: ${err}`)), 5000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited with ${code}: ${err}`));
    });
    // --print-address writes the address once the socket is listening.
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve();
    });
  });
  child.stdout!.resume();
  return { child, address };
}

/** Starts ippeveprinter (with its own D-Bus daemon) and resolves once it answers Get-Printer-Attributes. */
export async function startVirtualPrinter(options: VirtualPrinterOptions = {}): Promise<VirtualPrinter> {
  const name = options.name ?? 'Kiosk Virtual Printer';
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const dir = mkdtempSync(join(tmpdir(), 'virtual-printer-'));
  const spoolDir = join(dir, 'spool');
  const controlFile = join(dir, 'control');
  const commandFile = join(dir, 'print-command.sh');
  const gpaTest = join(dir, 'get-printer-attributes.test');
  const printTest = join(dir, 'print-job.test');
  mkdirSync(spoolDir);
  writeFileSync(controlFile, 'ok');
  writeFileSync(commandFile, printCommand(controlFile));
  chmodSync(commandFile, 0o755);
  writeFileSync(
    gpaTest,
    `{ OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR keyword requested-attributes printer-state,printer-state-reasons
  STATUS successful-ok
  DISPLAY printer-state
  DISPLAY printer-state-reasons }
`,
  );
  writeFileSync(
    printTest,
    `{ OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name rig
  ATTR name job-name ${CLEAR_JOB_NAME}
  ATTR mimeMediaType document-format application/pdf
  FILE $filename
  STATUS successful-ok }
`,
  );
  // The housekeeping job needs a document; a minimal PDF will do (the print command never reads it).
  const blankPdf = join(dir, 'blank.pdf');
  writeFileSync(blankPdf, '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

  const children: ChildProcess[] = [];
  // A test runner that dies must not leave daemons behind.
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) signal(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  let printerLog = '';
  let printer: ChildProcess | null = null;
  let port = 0;
  try {
    const dbus = await startDbus(dir);
    children.push(dbus.child);
    const env = {
      ...process.env,
      DBUS_SYSTEM_BUS_ADDRESS: dbus.address,
      DBUS_SESSION_BUS_ADDRESS: dbus.address,
      // ippeveprinter may create TLS credentials under $HOME; keep them in the temp dir.
      HOME: dir,
    };
    for (let attempt = 0; attempt < 3 && !printer; attempt++) {
      port = await freePort();
      const child = spawn(
        'ippeveprinter',
        ['-r', 'off', '-n', 'localhost', '-p', String(port), '-f', 'application/pdf', '-k', '-d', spoolDir, '-c', commandFile, name],
        // A process group of its own, so that stopping it also stops the print command of a running job.
        { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      children.push(child);
      const append = (d: Buffer) => {
        printerLog = (printerLog + d.toString()).slice(-50_000);
      };
      child.stdout!.on('data', append);
      child.stderr!.on('data', append);
      const deadline = Date.now() + startTimeoutMs;
      while (Date.now() < deadline && child.exitCode === null) {
        if (ipptool(`ipp://localhost:${port}/ipp/print`, gpaTest).ok) {
          printer = child;
          break;
        }
        await sleep(100);
      }
      if (!printer) await stopChild(child);
    }
    if (!printer) throw new Error(`ippeveprinter did not answer IPP:\n${printerLog.slice(-4000)}`);
  } catch (e) {
    killAll();
    process.removeListener('exit', killAll);
    throw e;
  }

  const uri = `ipp://localhost:${port}/ipp/print`;
  const webUrl = `http://localhost:${port}`;
  const readMode = (): VirtualPrinterMode => {
    try {
      return (readFileSync(controlFile, 'utf8').trim() || 'ok') as VirtualPrinterMode;
    } catch {
      return 'ok';
    }
  };
  const setMode = (mode: VirtualPrinterMode) => writeFileSync(controlFile, mode);
  const printerState = () => {
    const out = ipptool(uri, gpaTest).out;
    return {
      state: /printer-state \([^)]*\) = (\S+)/.exec(out)?.[1] ?? '',
      reasons: /printer-state-reasons \([^)]*\) = (\S+)/.exec(out)?.[1] ?? '',
    };
  };
  const waitFor = async (what: string, ok: (s: ReturnType<typeof printerState>) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (let s = printerState(); !ok(s); s = printerState()) {
      if (Date.now() > deadline) throw new Error(`virtual printer: ${what} (still ${JSON.stringify(s)})`);
      await sleep(50);
    }
  };

  const clearMedia = async () => {
    if (readMode() === 'media-empty') setMode('ok');
    const status = await httpGet(`${webUrl}/media?${MEDIA_LOADED}`);
    if (status !== 200) throw new Error(`the media form answered HTTP ${status}`);
  };

  let stopped = false;
  return {
    uri,
    port,
    webUrl,
    spoolDir,
    setMode,
    mode: readMode,
    clearMedia,
    async emptyMedia() {
      const status = await httpGet(`${webUrl}/media?${MEDIA_REMOVED}`);
      if (status !== 200) throw new Error(`the media form answered HTTP ${status}`);
    },
    async clearFaults() {
      setMode('ok');
      await clearMedia();
      // A job that waited for paper runs now; ippeveprinter runs one job at a time and answers
      // Print-Job with server-error-busy meanwhile, so let it finish first.
      await waitFor('a job is still processing', (s) => s.state === 'idle');
      if (printerState().reasons === 'none') return;
      // Jam, cover and toner reasons have no web form: a housekeeping job whose print command
      // says "STATE: none" resets them.
      const r = ipptool(uri, printTest, {}, blankPdf);
      if (!r.ok) throw new Error(`clearing faults failed:\n${r.out}`);
      await waitFor('faults did not clear', (s) => s.reasons === 'none' && s.state === 'idle');
      for (const f of existsSync(spoolDir) ? readdirSync(spoolDir) : []) {
        if (f.includes(CLEAR_JOB_NAME)) rmSync(join(spoolDir, f), { force: true });
      }
    },
    documents() {
      if (!existsSync(spoolDir)) return [];
      return readdirSync(spoolDir)
        .map((f) => /^(\d+)-(.*)\.pdf$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null && !m[2]!.includes(CLEAR_JOB_NAME))
        .map((m) => {
          const path = join(spoolDir, m[0]);
          return { jobId: Number(m[1]), name: m[2]!, path, bytes: statSync(path).size };
        })
        .sort((a, b) => a.jobId - b.jobId);
    },
    log: () => printerLog,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Printer first: it is the D-Bus client.
      for (const c of [...children].reverse()) await stopChild(c);
      process.removeListener('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
