// The server under load: a seeded temp data directory (or one node on a PostgreSQL database) and
// `issuance-server serve` run through its CLI, restartable on the same data. Clients share one
// mutable endpoint, so a restart on a new port reaches every client (the real clients read
// `baseUrl` on every request and reconnect); a node given a fixed port keeps its address.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerEndpoint } from '@cert/common/node';
import { seedDemo, type SeededDemo } from '../demo/seed-demo.ts';
import type { TestPkiManifest } from '../pki/test-pki.ts';
import { startServerProcess, type ServerProcess } from '../rig/server-process.ts';
import type { LoadRegister } from './synthetic-register.ts';

/** Lookups and logins are rate-limited per kiosk, per address and globally; load tests need that out of the way. */
export const UNLIMITED_RATE_LIMITS = [
  '--kiosk-lookup-limit',
  '1000000/1000000',
  '--lookup-limit',
  '1000000/100000000',
  '--auth-address-limit',
  '1000000/100000000',
  '--auth-limit',
  '1000000/100000000',
];

/** Seeds a data directory (or a PostgreSQL database) with the demo municipality, the load register and `kiosks` kiosks. */
export function seedLoadDataDir(where: Parameters<typeof seedDemo>[0], pki: TestPkiManifest, register: LoadRegister, kiosks: number): Promise<SeededDemo> {
  return seedDemo(where, pki, { kiosks, extraResidents: register.extra });
}

/** A node of a server run on several: the PostgreSQL database they share, and a fixed port (same URL after a restart). */
export interface LoadNodeOptions {
  databaseUrl?: string;
  port?: number;
}

/** CPU seconds (user + system) process `pid` has used so far (Linux /proc). */
export function processCpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them, in USER_HZ (100 on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A server process on a data directory, which can be killed and started again. */
export class LoadServer {
  /** Shared by every client of this server; `baseUrl` follows restarts. */
  readonly endpoint: ServerEndpoint;
  private current: ServerProcess | null = null;
  /** How many times the process was started. */
  starts = 0;

  /** `requestTimeoutMs` bounds each client request (a shared 2-core machine can be slow); `dataDir` is unused with `node.databaseUrl`. */
  constructor(
    readonly dataDir: string,
    private readonly args: string[],
    requestTimeoutMs = 60_000,
    private readonly node: LoadNodeOptions = {},
  ) {
    this.endpoint = { baseUrl: '', timeoutMs: requestTimeoutMs };
  }

  /** The running process (throws when none). */
  get process(): ServerProcess {
    if (!this.current) throw new Error('the server is not running');
    return this.current;
  }

  /** Path of the server's SQLite database (read it read-only). */
  get databasePath(): string {
    return join(this.dataDir, 'issuance.sqlite3');
  }

  /** Starts `serve` on the data directory and waits for `listening on`. */
  async start(): Promise<void> {
    const storage = this.node.databaseUrl ? ['--database', this.node.databaseUrl] : ['--data-dir', this.dataDir];
    const port = this.node.port === undefined ? [] : ['--port', String(this.node.port)];
    this.current = await startServerProcess([...storage, ...port, ...this.args]);
    this.starts++;
    this.endpoint.baseUrl = this.current.url;
  }

  /** Kills the process with SIGKILL (no graceful shutdown) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.process.child;
    this.current = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  }

  /** Stops the process gracefully (SIGTERM, SIGKILL after 5 s) if it runs. */
  async stop(): Promise<void> {
    const p = this.current;
    this.current = null;
    await p?.stop();
  }

  /** Resident set size of the server process in bytes (Linux /proc). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.process.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
  }

  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number {
    return processCpuSeconds(this.process.child.pid!);
  }

  /** Stops the process and removes the data directory (a shared database is its owner's to drop). */
  async dispose(): Promise<void> {
    await this.stop();
    if (!this.node.databaseUrl) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
