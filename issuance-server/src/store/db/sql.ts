// The storage engines behind one interface: the stores write their SQL once, with `?`
// placeholders and the portable subset both engines accept (ON CONFLICT upserts, partial
// indexes, LIMIT); what differs (row locks, placeholders, schema versions) lives in the engine.
import type { ChangeRef, LifecycleChange } from '../change-feed.ts';

/** Which engine runs the SQL. */
export type Dialect = 'sqlite' | 'postgres';

/** Runs statements inside one transaction (or one read). Parameters bind to `?` in order. */
export interface SqlExecutor {
  readonly dialect: Dialect;
  /** `FOR UPDATE` where the engine has row locks; empty on SQLite, whose write transaction already excludes every other writer. */
  readonly forUpdate: string;
  /**
   * `FOR UPDATE SKIP LOCKED` where the engine has row locks: a sweep that several nodes run at
   * once passes over a record another node (or request) is moving instead of waiting for it.
   */
  readonly forUpdateSkipLocked: string;
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  get<R>(sql: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** Runs a statement that returns no rows; `changes` is the number of rows it touched. */
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /**
   * Serialises a section across every process and node until the transaction ends (PostgreSQL
   * advisory lock; nothing to do on SQLite, whose write transaction is already exclusive).
   */
  lockExclusive(name: string): Promise<void>;
  /**
   * Takes the named lock shared with other holders of its shared mode until the transaction ends,
   * waiting for a holder of {@link lockExclusive}: statements after it see what that one
   * committed. Nothing outside a write transaction (reads promise no order), nor on SQLite.
   */
  lockShared(name: string): Promise<void>;
}

/** A database of one of the engines. */
export interface SqlDatabase {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one write transaction that holds the engine's write lock from its first
   * statement (SQLite `BEGIN IMMEDIATE`), commits when it resolves and rolls back when it
   * throws. `fn` may run more than once when the engine asks for a retry (a deadlock), so it
   * must have no effect outside the database.
   */
  write<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Called at the end of every write transaction with the lifecycle and phone changes it made, so
   * that an engine shared by several nodes can tell the others (delivered on commit, ids only).
   */
  announceInTransaction?(sql: SqlExecutor, changes: readonly LifecycleChange[]): Promise<void>;
  /**
   * Hands the listener what other nodes announced (ids only; the state is read back from the
   * database), and calls `resync` after a gap in which announcements may have been missed.
   */
  listen?(listener: RemoteChangeListener): void;
  /** Runs `fn` against committed data, without a write lock. */
  read<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Receives the lifecycle and phone changes other nodes committed. */
export interface RemoteChangeListener {
  changed(refs: readonly ChangeRef[]): void;
  resync(): void;
}

/**
 * The database cannot serve right now (locked by another process for too long, its server
 * unreachable). Routes answer 503 `service_unavailable` with Retry-After; nothing is lost.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A request's text the database cannot hold (PostgreSQL text has no NUL character): the request
 * is malformed, 400 `invalid_request`, never a 5xx.
 */
export class UnstorableValueError extends Error {
  constructor(message = 'a text value contains a NUL character, which the database cannot store') {
    super(message);
    this.name = 'UnstorableValueError';
  }
}

/** A numbered schema change, written for both engines and applied the same way. */
export interface Migration {
  name: string;
  sqlite: string;
  postgres: string;
}
