// Online backup and restore of the embedded database. The backup uses SQLite's backup API
// through its own connection, so it is consistent while the server keeps serving; a restore
// holds the data directory's lock, so no server can start on a half-copied file.
import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lockDataDir } from './data-dir-lock.ts';
import { DATABASE_FILE } from './sqlite-database.ts';

/** Writes a consistent copy of the data directory's database to `target`. */
export async function backupSqlite(dataDir: string, target: string, nativeBinding?: string): Promise<{ pages: number }> {
  const source = join(dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new Error(`no database in ${dataDir}`);
  if (existsSync(target)) throw new Error(`${target} exists; choose a new file name`);
  const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    db.pragma('busy_timeout = 5000');
    const progress = await db.backup(target);
    return { pages: progress.totalPages };
  } finally {
    db.close();
  }
}

/** Checks a backup file: intact, and written by this server's schema or an older one. */
export function checkBackup(file: string, schemaVersion: number, nativeBinding?: string): void {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    const ok = db.pragma('integrity_check', { simple: true });
    if (ok !== 'ok') throw new Error(`${file} is damaged: ${String(ok)}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 1) throw new Error(`${file} is not an issuance server database`);
    if (version > schemaVersion) throw new Error(`${file} has schema version ${version}, newer than this server (${schemaVersion})`);
    db.prepare('SELECT 1 FROM audit_log LIMIT 1').get();
  } finally {
    db.close();
  }
}

/** Replaces the data directory's database by a checked backup, under the directory's lock. */
export function restoreSqlite(dataDir: string, backup: string, schemaVersion: number, nativeBinding?: string): void {
  checkBackup(backup, schemaVersion, nativeBinding);
  const lock = lockDataDir(dataDir, nativeBinding);
  try {
    const target = join(dataDir, DATABASE_FILE);
    const staging = `${target}.restoring`;
    copyFileSync(backup, staging);
    // The old write-ahead log belongs to the old file; replaying it onto the restored one would corrupt it.
    for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
    renameSync(staging, target);
  } finally {
    lock.release();
  }
}
