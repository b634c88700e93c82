// Runs the `virtual-mynumber-card` CLI as a separate process (what the demo and end-to-end tests use).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestPkiManifest } from '../pki/test-pki.ts';

/** The CLI as `npx virtual-mynumber-card` runs it. */
export const CARD_BIN = join(dirname(fileURLToPath(import.meta.url)), '../../../node_modules/.bin/virtual-mynumber-card');

export interface CardProcess {
  child: ChildProcess;
  /** stderr so far (diagnostics; APDUs with `--log-apdus`). */
  stderr(): string;
  /** How often the card reported `inserted` (more than once after vpcd dropped it and it reconnected). */
  insertedCount(): number;
  /** Removes the card (SIGTERM) and waits for the process to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** CLI arguments for a resident's card from the test PKI (auth + sign). */
export function cardArgsFromPki(manifest: TestPkiManifest, residentId: string): string[] {
  const r = manifest.residents[residentId];
  if (!r) throw new Error(`no resident ${residentId} in the test PKI`);
  return [
    '--auth-cert', r.auth.certPath, '--auth-key', r.auth.keyPath, '--auth-ca', manifest.authRoot.certPath,
    '--sign-cert', r.sign.certPath, '--sign-key', r.sign.keyPath, '--sign-ca', manifest.signRoot.certPath,
  ];
}

/** Starts the CLI for vpcd port `port` and resolves once it printed `inserted`. */
export function startCardProcess(port: number, args: string[], timeoutMs = 15_000): Promise<CardProcess> {
  const child = spawn(CARD_BIN, ['--vpcd-port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-200_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  let inserted = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`virtual card did not report "inserted" within ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`virtual card exited with ${code} before inserting:\n${err}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.trim() === 'inserted') {
        inserted++;
        clearTimeout(timer);
        resolve({ child, stderr: () => err, insertedCount: () => inserted, stop });
      }
    });
  });
}
