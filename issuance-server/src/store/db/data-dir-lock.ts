// One server per data directory: a second `serve` on the same folder would run its own sweeps
// and in-memory waits over the same file. The lock is an exclusive SQLite transaction on a
// lock file, so the operating system drops it when the process dies, even by SIGKILL.
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** File name of the lock inside the data directory. */
export const DATA_DIR_LOCK_FILE = 'serve.lock';

/** A held data-directory lock. */
export interface DataDirLock {
  release(): void;
}

/** Takes the data directory's exclusive lock or throws a message saying who holds it. */
export function lockDataDir(dataDir: string, nativeBinding?: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  const db: Database = new BetterSqlite3(path, nativeBinding ? { nativeBinding } : {});
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if (/SQLITE_BUSY/.test(String((e as { code?: unknown }).code))) {
      throw new Error(`another issuance server is already serving the data directory ${dataDir} (it holds ${path}); stop it first, or give this one its own --data-dir`, { cause: e });
    }
    throw e;
  }
  return {
    release: () => {
      if (db.open) db.close();
    },
  };
}
