// Spawns the issuance-server bin exactly as an operator does (`npx issuance-server ...`), or
// another launcher of the same CLI (the single executable).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'node_modules/.bin/issuance-server');
export const DEMO_RESIDENTS = join(REPO_ROOT, 'scripts/demo/residents.csv');

/** How the CLI is started: a program, arguments before the CLI's own, the folder and environment. */
export interface CliLauncher {
  command: string;
  prefix: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** The bin of the checkout, from the repository root. */
export const BIN_LAUNCHER: CliLauncher = { command: BIN, prefix: [], cwd: REPO_ROOT };

function spawnCli(launcher: CliLauncher, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(launcher.command, [...launcher.prefix, ...args], { cwd: launcher.cwd, env: launcher.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion. */
export function runCli(args: string[], timeoutMs = 20_000, launcher = BIN_LAUNCHER): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(launcher, args);
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`issuance-server ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `admin --data-dir DIR ...` */
export function admin(dataDir: string, ...args: string[]): Promise<CliResult> {
  return runCli(['admin', '--data-dir', dataDir, ...args]);
}

/** A temp directory removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `issuance-cli-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A `serve` process that has printed its URL. */
export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code/signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has ended. */
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `serve` and waits for `listening on <url>`; rejects with the output if it exits first. */
export function startServe(args: string[], timeoutMs = 20_000, launcher = BIN_LAUNCHER): Promise<ServeProcess> {
  const child = spawnCli(launcher, ['serve', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const r = await exited;
      clearTimeout(grace);
      return r;
    }
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`serve did not print its URL within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    const onData = () => {
      const m = /^listening on (\S+)$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ child, url: m[1]!, stdout: () => stdout, stderr: () => stderr, exited, stop });
    };
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}
