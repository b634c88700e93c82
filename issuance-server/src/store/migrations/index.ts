import type { Database } from 'better-sqlite3';
import { migration0001InitialSchema } from './0001-initial-schema.ts';

/** Schema migrations in order; migration N brings `PRAGMA user_version` from N-1 to N. */
export const MIGRATIONS: readonly ((db: Database) => void)[] = [migration0001InitialSchema];

/** Applies the migrations the database has not seen yet, each in its own transaction. */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this server (${MIGRATIONS.length}); upgrade the server`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      MIGRATIONS[version]!(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
