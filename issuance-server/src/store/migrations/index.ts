import type { Database } from 'better-sqlite3';
import { migration0001InitialSchema } from './0001-initial-schema.ts';

/** Schema migrations in order; migration N brings `PRAGMA user_version` from N-1 to N. */
export const MIGRATIONS: readonly ((db: Database) => void)[] = [migration0001InitialSchema];

/** Applies the migrations the database has not seen yet, each in its own transaction. */
export function migrate(db: Database): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const current = version();
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this server (${MIGRATIONS.length}); upgrade the server`);
  }
  for (let next = current; next < MIGRATIONS.length; next++) {
    // IMMEDIATE takes the write lock before reading the version again, so that two processes
    // opening a fresh data directory at once (server and admin CLI) do not both migrate.
    db.transaction(() => {
      if (version() !== next) return;
      MIGRATIONS[next]!(db);
      db.pragma(`user_version = ${next + 1}`);
    }).immediate();
  }
}
