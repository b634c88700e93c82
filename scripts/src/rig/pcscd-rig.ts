// PC/SC test rig: one pcscd (the real middleware) with vsmartcard vpcd reader slots for virtual cards.
//
// What we learned about pcscd 1.9.9 + vsmartcard-vpcd 3.3 (Debian 12), which shapes this file:
// - Only one pcscd per machine: its socket `/run/pcscd/pcscd.comm` and pid file `/run/pcscd/pcscd.pid` are fixed
//   (clients such as libpcsclite / npm pcsclite connect to that socket). pcscd refuses to start while the pid in its
//   pid file is alive, and removes a stale pid file and socket itself.
// - `pcscd -f` stays in the foreground and logs to stdout; `-a` adds every APDU to the log; `-c DIR` replaces
//   /etc/reader.conf.d, so the rig declares its own vpcd readers and ports without touching the system config.
// - A reader.conf entry for vpcd is `DEVICENAME /dev/null:PORT`, `LIBPATH .../libifdvpcd.so`, `CHANNELID PORT`.
//   The driver always creates 2 slots per entry (build-time vpcdslots=2), on PORT and PORT+1, named
//   "<FRIENDLYNAME> 00 00" and "<FRIENDLYNAME> 00 01". pcscd numbers readers per driver file, so two entries
//   with different driver files but the same FRIENDLYNAME get the *same* reader names: names must differ.
// - "/dev/null" as host means *server mode*: vpcd binds INADDR_ANY (all interfaces; there is no way to ask it for
//   127.0.0.1 — any other host switches it to *reversed mode*, where vpcd connects out to a card that listens).
//   So while the rig runs, its vpcd ports are reachable from the network. Use it on test machines only.
// - The driver keeps its slot contexts in globals indexed by slot number, so two entries with the same LIBPATH
//   would share (and clobber) slot 0/1; pcscd also de-duplicates drivers by path ("Reusing already loaded driver").
//   For more than 2 slots the rig therefore gives each entry its own copy of the .so (dlopen of a distinct file
//   gets distinct globals).
// - Timing, measured on the 2-core test VM (scripts/test/rig/virtual-card prints the figures):
//   * pcscd: exec → pid file, client socket, vpcd listeners and all readers listed by pcsc_scan: ~50–60 ms.
//     SIGTERM → exit: ~5 ms. A restart on the same ports: the card process is back in its slot ~0.4 s later.
//   * Insertion: the TCP connect completes at once (kernel backlog), but vpcd only accept()s at pcscd's next
//     presence poll (every ~400–450 ms), so "accepted" comes 0–450 ms after connect (typically ~360 ms) and PC/SC
//     clients see SCARD_STATE_PRESENT ~450 ms after connect. Sequence from vpcd: 04 (presence), 04, 01 (power up), 04.
//   * Removal (card closes the socket) is seen by PC/SC clients within ~50–450 ms (next poll).
//   * Every APDU costs ~44 ms (median; p95 ~88 ms when it queues behind a presence poll): this vpcd build sends
//     the 2-byte length and the APDU in two send() calls on a Nagle socket, so the APDU waits for the card's
//     delayed ACK (~40 ms; confirmed with strace). Node cannot set TCP_QUICKACK, so the card cannot avoid it.
//     The card itself needs < 1 ms per APDU (RSA-2048 signature ~1 ms). Count APDUs: a minimal auth login
//     (SELECT AP, SELECT 0018, retry query, VERIFY, SELECT 000A, 7-byte header + 5 × 256-byte READs of an
//     1113-byte certificate, SELECT 0017, SIGN) is 13 APDUs ≈ 0.6–1.3 s; one extended-Le READ of the whole
//     certificate works through pcsc-lite + vpcd and saves 5 APDUs.
//   * pcscd powers a card down (vpcd 00) ~0.5–1 s after the last client disconnects (also right after
//     insertion when nobody connects) and powers it up (01) on the next SCardConnect: for the card that is a
//     cold reset, so a verified PIN does not outlive the PC/SC connection for long. Within that grace period
//     SCARD_LEAVE_CARD keeps the security status and SCARD_RESET_CARD sends vpcd 02 (warm reset).
//     npm pcsclite's disconnect() defaults to SCARD_UNPOWER_CARD (vpcd 00 at once).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
export const PCSCD_PID_FILE = '/run/pcscd/pcscd.pid';
export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const FRIENDLY_NAME = 'Virtual PCD';

/** A vpcd reader slot: PC/SC applications see `readerName`; a virtual card connects to 127.0.0.1:`vpcdPort`. */
export interface ReaderSlot {
  index: number;
  readerName: string;
  vpcdPort: number;
  vpcdHost: string;
}

export interface PcscdRigOptions {
  /** Number of reader slots to declare (rounded up to even; default 4). */
  slots?: number;
  /** Log APDUs in the pcscd log (`-a`; default true). */
  apduLog?: boolean;
  /** pcscd debug level logging (`-d`; default false: very chatty). */
  debug?: boolean;
  /** Directory for the rig's config, driver copies and log (default `$TMPDIR/cert-rig-pcscd`). */
  dir?: string;
  startTimeoutMs?: number;
}

/** A running pcscd started by this rig. */
export interface RunningPcscd {
  pid: number;
  slots: readonly ReaderSlot[];
  dir: string;
  /** Milliseconds from spawn to "readers listed by a PC/SC client". */
  startupMs: number;
  /** Tail of pcscd's output (APDU log with `apduLog`). */
  log(): string;
}

interface Instance extends RunningPcscd {
  child: ChildProcess;
  exited: Promise<void>;
  leased: Set<number>;
  spec: LaunchSpec;
}

let current: Instance | undefined;
let starting: Promise<Instance> | undefined;
let leases = 0;

// ---------------------------------------------------------------------------------------------
// Public API

export interface ReaderSlotLease {
  slots: ReaderSlot[];
  pcscd: RunningPcscd;
  /** Returns the slots; stops pcscd when no lease is left. Idempotent. */
  release(): Promise<void>;
}

/**
 * Gives the caller `count` free reader slots of the rig's pcscd, starting pcscd if needed (ref-counted: pcscd stops
 * when the last lease is released). Call `release()` in an `after` hook.
 */
export async function leaseReaderSlots(count = 1, opts: PcscdRigOptions = {}): Promise<ReaderSlotLease> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError('count is a positive integer');
  leases++;
  let inst: Instance;
  try {
    inst = await ensureInstance(count, opts);
  } catch (err) {
    leases--;
    throw err;
  }
  const free = inst.slots.filter((s) => !inst.leased.has(s.index)).slice(0, count);
  if (free.length < count) {
    leases--;
    if (leases === 0) await stopPcscd();
    throw new Error(`only ${free.length} of ${inst.slots.length} reader slots are free, ${count} requested`);
  }
  for (const s of free) inst.leased.add(s.index);
  let released = false;
  return {
    slots: free.map((s) => ({ ...s })),
    get pcscd(): RunningPcscd {
      return current && current.spec === inst.spec ? current : inst; // current pid after a restart
    },
    release: async () => {
      if (released) return;
      released = true;
      if (!current || current.spec !== inst.spec) return; // pcscd was stopped meanwhile (a restart keeps the spec)
      for (const s of free) current.leased.delete(s.index);
      leases--;
      if (leases === 0) await stopPcscd();
    },
  };
}

/** Starts the rig's pcscd if it is not running (no lease; pair with stopPcscd()). */
export async function ensurePcscd(opts: PcscdRigOptions = {}): Promise<RunningPcscd> {
  return ensureInstance(opts.slots ?? 4, opts);
}

/**
 * Restarts the rig's pcscd with the same readers and ports; leases stay valid. Virtual cards that reconnect
 * (the default) come back by themselves. PC/SC clients see every reader fail (SCARD_E_NO_SERVICE / reader
 * errors) and must re-establish their context — this is how to test that path.
 */
export async function restartPcscd(): Promise<RunningPcscd> {
  if (starting) await starting.catch(() => undefined);
  const inst = current;
  if (!inst) throw new Error('the rig has no running pcscd');
  await terminate(inst.child, inst.exited);
  starting = launch(inst.spec, inst.leased);
  try {
    current = await starting;
    return current;
  } catch (err) {
    current = undefined;
    leases = 0;
    throw err;
  } finally {
    starting = undefined;
  }
}

/** The running rig pcscd, if any. */
export function runningPcscd(): RunningPcscd | undefined {
  return current;
}

/** Stops the rig's pcscd (SIGTERM, wait, SIGKILL). Outstanding leases become invalid. */
export async function stopPcscd(): Promise<void> {
  if (starting) await starting.catch(() => undefined);
  const inst = current;
  current = undefined;
  leases = 0;
  if (inst) await terminate(inst.child, inst.exited);
  removeExitHooks();
}

// ---------------------------------------------------------------------------------------------
// Start and stop

async function ensureInstance(minSlots: number, opts: PcscdRigOptions): Promise<Instance> {
  if (starting) await starting.catch(() => undefined);
  if (current && current.child.exitCode === null && current.child.signalCode === null) {
    if (current.slots.length - current.leased.size >= minSlots) return current;
    if (current.leased.size > 0) throw new Error(`the rig's pcscd has ${current.slots.length} slots, ${current.leased.size} leased; cannot add ${minSlots} more while in use`);
    await stopPcscd();
  } else if (current) {
    current = undefined; // died
  }
  const wanted = Math.max(minSlots, opts.slots ?? 4);
  starting = start(wanted, opts);
  try {
    current = await starting;
    return current;
  } finally {
    starting = undefined;
  }
}

async function start(slotCount: number, opts: PcscdRigOptions): Promise<Instance> {
  const dir = opts.dir ?? join(tmpdir(), 'cert-rig-pcscd');
  const confDir = join(dir, 'reader.conf.d');
  const libDir = join(dir, 'lib');
  const ownerFile = join(dir, 'owner.json');
  if (!existsSync(VPCD_DRIVER)) throw new Error(`${VPCD_DRIVER} missing: install the vsmartcard-vpcd package`);
  mkdirSync(dir, { recursive: true });
  await clearStalePcscd(confDir, ownerFile);

  rmSync(confDir, { recursive: true, force: true });
  rmSync(libDir, { recursive: true, force: true });
  mkdirSync(confDir, { recursive: true });
  mkdirSync(libDir, { recursive: true });

  const entries = Math.ceil(slotCount / 2);
  const bases = await pickPortPairs(entries);
  const slots: ReaderSlot[] = [];
  let conf = '# Written by scripts/src/rig/pcscd-rig.ts: vpcd reader slots for virtual cards.\n';
  bases.forEach((base, e) => {
    // Entry 0 uses the installed driver; further entries need their own copy (see the note at the top).
    const lib = e === 0 ? VPCD_DRIVER : join(libDir, `libifdvpcd-${e}.so`);
    if (e > 0) copyFileSync(VPCD_DRIVER, lib);
    // pcscd numbers readers per driver, so entries need distinct friendly names: "Virtual PCD", "Virtual PCD B", …
    const name = e === 0 ? FRIENDLY_NAME : `${FRIENDLY_NAME} ${String.fromCharCode(0x41 + e)}`;
    conf += `\nFRIENDLYNAME "${name}"\nDEVICENAME   /dev/null:${base}\nLIBPATH      ${lib}\nCHANNELID    ${base}\n`;
    for (let s = 0; s < 2; s++) {
      slots.push({ index: slots.length, readerName: `${name} 00 ${hex2(s)}`, vpcdPort: base + s, vpcdHost: '127.0.0.1' });
    }
  });
  writeFileSync(join(confDir, 'vpcd'), conf);

  const args = ['-f', ...(opts.apduLog ?? true ? ['-a'] : []), ...(opts.debug ? ['-d'] : []), '-c', confDir];
  return launch({ slots, dir, confDir, ownerFile, args, startTimeoutMs: opts.startTimeoutMs ?? 10_000 }, new Set());
}

interface LaunchSpec {
  slots: ReaderSlot[];
  dir: string;
  confDir: string;
  ownerFile: string;
  args: string[];
  startTimeoutMs: number;
}

async function launch(spec: LaunchSpec, leased: Set<number>): Promise<Instance> {
  const t0 = performance.now();
  const child = spawn('pcscd', spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (d: Buffer) => {
    output = (output + d.toString()).slice(-500_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  installExitHooks(child);
  writeFileSync(spec.ownerFile, JSON.stringify({ nodePid: process.pid, pcscdPid: child.pid, confDir: spec.confDir, startedAt: new Date().toISOString() }) + '\n');

  const inst: Instance = {
    pid: child.pid ?? -1, slots: spec.slots, dir: spec.dir, startupMs: 0, child, exited, leased, spec,
    log: () => output,
  };
  try {
    await waitReady(inst, () => spawnError, spec.startTimeoutMs);
  } catch (err) {
    await terminate(child, exited);
    throw new Error(`${(err as Error).message}\n--- pcscd output ---\n${output.slice(-4000)}`, { cause: err });
  }
  inst.startupMs = performance.now() - t0;
  return inst;
}

async function waitReady(inst: Instance, spawnError: () => Error | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = () => inst.child.exitCode === null && inst.child.signalCode === null;
  const check = (what: string) => {
    const err = spawnError();
    if (err) throw new Error(`could not run pcscd: ${err.message}`);
    if (!alive()) throw new Error(`pcscd exited (${inst.child.exitCode ?? inst.child.signalCode}) while ${what}`);
    if (Date.now() > deadline) throw new Error(`pcscd not ready within ${timeoutMs} ms (${what})`);
  };
  // 1. pcscd wrote its pid file and listens on its client socket.
  for (;;) {
    check('waiting for its socket');
    if (readPidFile() === inst.pid && (await socketAnswers(PCSCD_SOCKET))) break;
    await sleep(20);
  }
  // 2. vpcd listens on every slot port (read from /proc so that we do not connect = insert a card).
  for (;;) {
    check('waiting for the vpcd ports');
    const listening = listeningTcpPorts();
    if (inst.slots.every((s) => listening.has(s.vpcdPort))) break;
    await sleep(20);
  }
  // 3. A PC/SC client lists every reader.
  for (;;) {
    check('waiting for the readers');
    const r = spawnSync('pcsc_scan', ['-r'], { encoding: 'utf8', timeout: 5000 });
    if (r.error) throw new Error(`pcsc_scan (pcsc-tools) is needed to check the readers: ${r.error.message}`);
    const names = new Set((r.stdout ?? '').split('\n').map((l) => l.replace(/^\d+:\s*/, '').trim()));
    if (inst.slots.every((s) => names.has(s.readerName))) return;
    await sleep(50);
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
  // A SIGKILLed pcscd leaves its pid file and socket; pcscd would clean them on the next start, but be tidy.
  if (readPidFile() === child.pid) {
    for (const f of [PCSCD_PID_FILE, PCSCD_SOCKET]) {
      try {
        unlinkSync(f);
      } catch {
        /* already gone */
      }
    }
  }
}

/** Kills a pcscd left behind by an earlier (crashed) run of this rig; refuses to touch anyone else's pcscd. */
async function clearStalePcscd(confDir: string, ownerFile: string): Promise<void> {
  let owner: { nodePid?: number; pcscdPid?: number } = {};
  try {
    owner = JSON.parse(readFileSync(ownerFile, 'utf8')) as typeof owner;
  } catch {
    /* none */
  }
  const candidates = new Set<number>();
  const fromPidFile = readPidFile();
  if (fromPidFile !== undefined) candidates.add(fromPidFile);
  if (owner.pcscdPid) candidates.add(owner.pcscdPid);
  for (const pid of candidates) {
    if (!processAlive(pid)) continue;
    const cmdline = readCmdline(pid);
    if (!/(^|\/)pcscd$/.test(cmdline[0] ?? '')) continue; // pid reused by something else
    const ours = cmdline.includes(confDir);
    if (!ours) {
      throw new Error(
        `a pcscd not started by this rig is running (pid ${pid}: ${cmdline.join(' ')}); only one pcscd can run per machine — stop it first`,
      );
    }
    if (owner.nodePid && owner.nodePid !== process.pid && processAlive(owner.nodePid)) {
      throw new Error(`the rig's pcscd (pid ${pid}) is in use by process ${owner.nodePid}; run PC/SC tests one process at a time`);
    }
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (processAlive(pid) && Date.now() < deadline) await sleep(20);
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    while (processAlive(pid)) await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// Process-exit safety net: never leave our pcscd behind, even when a test run dies.

let exitHooks: { onExit: () => void; onSignal: (sig: NodeJS.Signals) => void } | undefined;

function installExitHooks(child: ChildProcess): void {
  removeExitHooks();
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onSignal = (sig: NodeJS.Signals) => {
    onExit();
    removeExitHooks();
    process.kill(process.pid, sig); // default action now that our listener is gone
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  exitHooks = { onExit, onSignal };
}

function removeExitHooks(): void {
  if (!exitHooks) return;
  process.off('exit', exitHooks.onExit);
  process.off('SIGINT', exitHooks.onSignal);
  process.off('SIGTERM', exitHooks.onSignal);
  exitHooks = undefined;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function readPidFile(): number | undefined {
  try {
    const pid = parseInt(readFileSync(PCSCD_PID_FILE, 'utf8'), 10); // pcscd writes "PID\n\0"
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True while `pid` runs (a zombie, exited but not yet reaped, counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers kill(0).
  try {
    return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function readCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** TCP ports in LISTEN state (IPv4 and IPv6), from /proc/net/tcp{,6}. */
function listeningTcpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Picks `count` pairs of consecutive TCP ports that are free on all interfaces. */
async function pickPortPairs(count: number): Promise<number[]> {
  const picked: number[] = [];
  const taken = listeningTcpPorts();
  for (let tries = 0; picked.length < count && tries < 200; tries++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 15000);
    if (picked.some((p) => Math.abs(p - base) < 2) || taken.has(base) || taken.has(base + 1)) continue;
    if ((await portFree(base)) && (await portFree(base + 1))) picked.push(base);
  }
  if (picked.length < count) throw new Error('could not find free TCP ports for the vpcd slots');
  return picked;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
