import BetterSqlite3, { type Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from './migrations/index.ts';

/** File name of the database inside the data directory. */
export const DATABASE_FILE = 'issuance.sqlite3';

/** Opens (creating if needed) the server database in `dataDir`, or in memory for `':memory:'`. */
export function openDatabase(dataDir: string): Database {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    file = join(dataDir, DATABASE_FILE);
  }
  const db = new BetterSqlite3(file);
  // First, so that the pragmas and migrations below wait for a concurrent opener instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}
