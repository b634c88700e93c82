// The installed `kiosk-shell headless` as a real process a test can feed, watch and kill: its
// JSON lines and log are collected as they come, and every wait is for an event, with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@cert/scripts/rig';
import type { HeadlessResult } from '../../../src/headless/run-headless.ts';

const BIN = join(REPO_ROOT, 'node_modules/.bin/kiosk-shell');

/** A running headless kiosk. */
export interface HeadlessKiosk {
  child: ChildProcess;
  /** The JSON lines written so far. */
  lines: HeadlessResult[];
  stderr(): string;
  /** Types a receipt number (stdin stays open). */
  send(line: string): void;
  /** Resolves with the first line (already written or to come) that `match` accepts. */
  line(match: (l: HeadlessResult) => boolean, what: string, timeoutMs?: number): Promise<HeadlessResult>;
  /** Resolves once the log (stderr) matches. */
  log(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts `kiosk-shell headless` with `args`; stdin stays open until the test ends it. */
export function startHeadlessKiosk(args: string[]): HeadlessKiosk {
  const child = spawn(BIN, ['headless', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: HeadlessResult[] = [];
  let err = '';
  let partial = '';
  const changed = new Set<() => void>();
  const notify = () => changed.forEach((f) => f());
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const complete = partial.split('\n');
    partial = complete.pop()!;
    for (const l of complete) if (l.trim()) lines.push(JSON.parse(l) as HeadlessResult);
    notify();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    notify();
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  void exited.then(notify);
  /** Waits until `ready()` returns a value, the process exits, or the deadline passes. */
  const until = <T>(ready: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = ready();
        if (v !== undefined) finish(() => resolve(v));
        else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`the kiosk exited before ${what}\n${err}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nlines: ${JSON.stringify(lines)}\n${err}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        changed.delete(check);
        settle();
      };
      changed.add(check);
      check();
    });
  return {
    child,
    lines,
    stderr: () => err,
    send: (line) => child.stdin!.write(`${line}\n`),
    line: (match, what, timeoutMs = 30_000) => until(() => lines.find(match), what, timeoutMs),
    log: (pattern, timeoutMs = 30_000) => until(() => (pattern.test(err) ? true : undefined), `a log line matching ${pattern}`, timeoutMs).then(() => undefined),
    exited,
  };
}
