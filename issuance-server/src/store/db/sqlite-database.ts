// The embedded engine: one better-sqlite3 connection in WAL mode. better-sqlite3 is synchronous,
// so transactions from concurrent requests are queued (an async mutex) instead of interleaving
// on the one connection; the write lock of the file is taken up front (BEGIN IMMEDIATE) and,
// when another process (the admin CLI) holds it, waited for without blocking the event loop.
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialQueue } from './serial-queue.ts';
import { StoreUnavailableError, type Migration, type SqlDatabase, type SqlExecutor } from './sql.ts';

/** File name of the database inside the data directory. */
export const DATABASE_FILE = 'issuance.sqlite3';

/** How to open the SQLite database. */
export interface SqliteOptions {
  /** How long a write waits for another process's write lock before the request gets 503 (default 5 s). */
  busyWaitMs?: number;
  /** The better-sqlite3 addon to load (the single executable unpacks its own copy). */
  nativeBinding?: string;
}

// Errors that mean "the file cannot serve now", never "your request is wrong": locked by
// another process, disk full or failing, the file made read-only under us.
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/;

/** Turns an engine error into {@link StoreUnavailableError} when it is about availability. */
function classify(e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) return new StoreUnavailableError(`database unavailable (${code})`, 1, { cause: e });
  return e;
}

function bindable(params: readonly unknown[]): unknown[] {
  // better-sqlite3 refuses booleans and undefined; the schema stores flags as 0/1.
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/** At most this many write transactions share one commit (bounds the time the first waits for it). */
const MAX_GROUP = 64;

/** The SQLite engine over a data directory (or `:memory:`). */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database;
  private readonly queue = new SerialQueue();
  private readonly pendingWrites: { fn: (sql: SqlExecutor) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private readonly statements = new Map<string, Statement>();
  private readonly executor: SqlExecutor;
  private readonly busyWaitMs: number;
  private closed = false;

  /** Opens (creating if needed) the database and applies pending migrations. */
  constructor(
    dataDir: string,
    migrations: readonly Migration[],
    options: SqliteOptions = {},
  ) {
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      file = join(dataDir, DATABASE_FILE);
    }
    this.busyWaitMs = options.busyWaitMs ?? 5000;
    try {
      this.db = new BetterSqlite3(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
      // While opening, waiting synchronously is fine (nothing is served yet), and two processes
      // opening a fresh directory at once must not both migrate.
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      migrateSqlite(this.db, migrations);
      this.db.pragma('foreign_keys = ON');
      // From now on a lock held elsewhere is waited for asynchronously (see begin()).
      this.db.pragma('busy_timeout = 0');
    } catch (e) {
      throw classify(e);
    }
    const run = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        throw classify(e);
      }
    };
    this.executor = {
      dialect: 'sqlite',
      forUpdate: '',
      forUpdateSkipLocked: '',
      all: async <R>(sql: string, params: readonly unknown[] = []) => run(() => this.statement(sql).all(...bindable(params)) as R[]),
      get: async <R>(sql: string, params: readonly unknown[] = []) => run(() => this.statement(sql).get(...bindable(params)) as R | undefined),
      run: async (sql: string, params: readonly unknown[] = []) => run(() => ({ changes: this.statement(sql).run(...bindable(params)).changes })),
      lockExclusive: async () => undefined,
      lockShared: async () => undefined,
    };
  }

  /** Prepared once per SQL text: re-preparing on every call was a measurable share of each request. */
  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private async begin(): Promise<void> {
    const deadline = Date.now() + this.busyWaitMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      try {
        this.statement('BEGIN IMMEDIATE').run();
        return;
      } catch (e) {
        const err = classify(e);
        const busy = err instanceof StoreUnavailableError && /SQLITE_BUSY/.test(String((e as { code?: string }).code));
        if (!busy || Date.now() + wait > deadline) throw err;
        await sleep(wait);
      }
    }
  }

  /**
   * Write transactions are committed in groups: the ones waiting when a group starts run one
   * after another inside one BEGIN IMMEDIATE … COMMIT, each within its own savepoint, so that one
   * that fails is rolled back alone while the others share a single commit (its write to the
   * log is most of a small transaction's cost). Each caller is answered only after that commit.
   */
  write<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.pendingWrites.length === 1) this.scheduleGroup();
    });
  }

  /**
   * The group starts after the requests already received have had their turn (setImmediate runs
   * after the event loop's I/O callbacks), so that their writes join it instead of each paying
   * for a commit of its own.
   */
  private scheduleGroup(): void {
    setImmediate(() => void this.queue.run(() => this.commitGroup()));
  }

  private async commitGroup(): Promise<void> {
    const group = this.pendingWrites.splice(0, MAX_GROUP);
    // Writes queued while this group runs (or beyond its size) form the next one.
    if (this.pendingWrites.length > 0) this.scheduleGroup();
    const results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.assertOpen();
      await this.begin();
      for (const job of group) {
        this.statement('SAVEPOINT write_job').run();
        try {
          const value = await job.fn(this.executor);
          this.statement('RELEASE write_job').run();
          results.push({ ok: true, value });
        } catch (e) {
          // SQLite undoes some failures by itself; only a transaction still open has a savepoint to go back to.
          if (this.db.inTransaction) {
            this.statement('ROLLBACK TO write_job').run();
            this.statement('RELEASE write_job').run();
          }
          results.push({ ok: false, error: classify(e) });
        }
      }
      if (!this.db.inTransaction) throw new StoreUnavailableError('the database ended the transaction by itself');
      this.statement('COMMIT').run();
    } catch (e) {
      if (this.db.inTransaction) this.statement('ROLLBACK').run();
      const error = classify(e);
      for (const job of group) job.reject(error);
      return;
    }
    group.forEach((job, i) => {
      const r = results[i]!;
      if (r.ok) job.resolve(r.value);
      else job.reject(r.error);
    });
  }

  read<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.assertOpen();
      return fn(this.executor);
    });
  }

  /** Runs a synchronous job with the raw connection (backups, integrity checks), queued like a read. */
  withConnection<T>(fn: (db: Database) => T | Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.assertOpen();
      return fn(this.db);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the database is closed (the server is stopping)');
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      this.db.close();
    });
  }
}

/**
 * Applies the migrations the file has not seen, each in its own IMMEDIATE transaction, recorded
 * in `PRAGMA user_version`; refuses a file written by a newer server. Foreign keys are off while
 * migrating (SQLite's documented way to rebuild a table) and checked before each commit.
 */
function migrateSqlite(db: Database, migrations: readonly Migration[]): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const current = version();
  if (current > migrations.length) {
    throw new Error(`database schema version ${current} is newer than this server (${migrations.length}); upgrade the server`);
  }
  db.pragma('foreign_keys = OFF');
  for (let next = current; next < migrations.length; next++) {
    db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      if (version() !== next) return;
      db.exec(migrations[next]!.sqlite);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length) throw new Error(`migration ${migrations[next]!.name} leaves ${broken.length} broken foreign key(s)`);
      db.pragma(`user_version = ${next + 1}`);
    }).immediate();
  }
}
