// The kiosk's state directory: where its print journal lives. One kiosk per directory: a second
// one would take the first one's in-flight job for a crashed one and report it as failed while it
// prints. The lock is a file naming the holder's process; a holder that died (even by SIGKILL)
// leaves it behind, and the next kiosk takes it over once that process is gone.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CashCounterFile } from './cash-counters.ts';
import { JournalDirectory } from './journal-directory.ts';

const LOCK_FILE = 'kiosk.lock';

/** The state directory cannot be used; the message says why and what to do. */
export class StateDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateDirError';
  }
}

/** `$XDG_STATE_HOME/kiosk-shell`, else `~/.local/state/kiosk-shell` (systemd user units and the appliance user alike). */
export function defaultStateDir(env: Record<string, string | undefined> = process.env): string {
  return join(env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'kiosk-shell');
}

function holderOf(lock: string): number | null {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An opened state directory: its journal, held by this process until {@link release}. */
export interface KioskState {
  dir: string;
  journal: JournalDirectory;
  /** The cash unit's event counters. */
  cashCounters: CashCounterFile;
  release(): void;
}

/** Creates (mode 0700), locks and opens a state directory; throws {@link StateDirError} when another kiosk holds it or it cannot be written. */
export function openStateDir(dir: string, log?: (line: string) => void): KioskState {
  const lock = join(dir, LOCK_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateDirError(`cannot create the state directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Twice: the second try follows the removal of a lock whose holder is gone.
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StateDirError(`cannot write in the state directory ${dir}: ${code ?? (e as Error).message}`);
      const holder = holderOf(lock);
      if (holder !== null && isAlive(holder)) {
        throw new StateDirError(`another kiosk (process ${holder}) is using the state directory ${dir}; stop it first, or give this one its own state directory`);
      }
      rmSync(lock, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      return {
        dir,
        journal: new JournalDirectory(dir, log),
        cashCounters: new CashCounterFile(dir),
        release: () => {
          if (holderOf(lock) === process.pid) rmSync(lock, { force: true });
        },
      };
    } catch (e) {
      rmSync(lock, { force: true });
      throw new StateDirError(`cannot use the journal in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  throw new StateDirError(`cannot lock the state directory ${dir}: another kiosk keeps taking it`);
}
