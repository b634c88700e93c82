// The PostgreSQL engine, for any number of server nodes on one database (node-postgres `pg`; why
// that library: README, "Two or more nodes"). Each node keeps a pool of connections; a write
// transaction runs on one of them in READ COMMITTED, where the stores' row locks (`FOR UPDATE`,
// taken on the application before the attempt) and guarded updates (`WHERE status = ?`) hold
// across nodes. The audit log's appends are serialised by a transaction-scoped advisory lock.
// Lifecycle and paired-phone changes reach the other nodes by NOTIFY at commit, carrying ids
// only, heard on one dedicated LISTEN connection per node. A lost database makes every call fail with
// StoreUnavailableError (503 + Retry-After); the pool and the listener reconnect by themselves.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { changeRef, type LifecycleChange } from '../change-feed.ts';
import { StoreUnavailableError, UnstorableValueError, type Migration, type RemoteChangeListener, type SqlDatabase, type SqlExecutor } from './sql.ts';

/** How to reach the database. */
export interface PostgresOptions {
  /** How long a write waits for a connection or a row lock before the request gets 503 (default 5 s), as SQLite's busy wait. */
  busyWaitMs?: number;
}

/** The NOTIFY channel of lifecycle and phone changes (one database per municipality, so one channel is enough). */
const CHANNEL = 'issuance_changes';
/** Connections per node: a write holds one for its few milliseconds; long-polls and sockets hold none. */
const POOL_SIZE = 10;
/** Changes per NOTIFY: a payload must stay under PostgreSQL's 8000 bytes. */
const NOTICE_BATCH = 50;
/** A transaction that lost a race is run again at most this often. */
const MAX_ATTEMPTS = 5;

// SQLSTATEs that mean "this database cannot serve now", never "the request is wrong": connection
// exceptions (08), insufficient resources (53: too many connections, disk full), operator
// intervention (57: shutdown, a statement cancelled by its timeout), system errors (58),
// lock_not_available (55P03: a row lock held elsewhere longer than the busy wait) and a read-only
// transaction (25006: the address now leads to a standby).
const UNAVAILABLE_STATES = /^(08|53|57|58)|^55P03$|^25006$/;
// Another transaction won a race (a deadlock, or a unique key both inserted): running the whole
// transaction again sees the winner's row, exactly as SQLite's one-writer-at-a-time would have.
const RETRY_STATES = new Set(['40001', '40P01', '23505']);
// node-postgres reports a lost connection without a SQLSTATE.
const CONNECTION_LOST = /connection terminated|not queryable|timeout exceeded when trying to connect|connection ended|closed the connection/i;

/** What one node tells the others through NOTIFY: who it is (to skip its own) and which records changed. */
const changeNoticeSchema = z.strictObject({
  node: z.uuid(),
  changes: z
    .array(z.strictObject({ kind: z.enum(['application', 'attempt', 'phone']), id: z.string().min(1).max(100) }))
    .min(1)
    .max(NOTICE_BATCH),
});

/** Turns a database or network error into {@link StoreUnavailableError} when it is about availability. */
function classify(e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  const lost =
    e instanceof pg.DatabaseError
      ? UNAVAILABLE_STATES.test(e.code ?? '')
      : /^E[A-Z]+$/.test(String((e as NodeJS.ErrnoException | null)?.code)) || CONNECTION_LOST.test(String((e as Error | null)?.message));
  if (!lost) return e;
  const code = (e as { code?: unknown }).code;
  return new StoreUnavailableError(`database unavailable (${typeof code === 'string' ? code : (e as Error).message})`, 1, { cause: e });
}

function retryable(e: unknown): boolean {
  return e instanceof pg.DatabaseError && RETRY_STATES.has(e.code ?? '');
}

/** Rewrites the stores' `?` placeholders as `$1 … $n`, leaving quoted text and comments alone. */
export function numberedPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // A doubled quote inside a literal simply ends one literal and starts the next.
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else {
      out += c === '?' ? `$${++n}` : c;
    }
  }
  return out;
}

function bindable(params: readonly unknown[]): unknown[] {
  // The schema stores flags as 0/1 (the same SQL runs on SQLite, which has no boolean type).
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/** The key of a named advisory lock: 64 bits of a hash of its name. */
function advisoryKey(name: string): string {
  return createHash('sha256').update(`jp-cert-issuance/${name}`).digest().readBigInt64BE(0).toString();
}

// Epoch milliseconds, counts and sequence numbers are BIGINT columns, which node-postgres returns
// as strings by default; every one of them stays far below 2^53, so they are numbers here as on SQLite.
const INT8 = 20;
const NUMERIC = 1700;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => (oid === INT8 || oid === NUMERIC ? Number : pg.types.getTypeParser(oid, format as 'text'))) as pg.CustomTypesConfig['getTypeParser'],
};

/** The PostgreSQL engine (see the top of this file). */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  /** This node's id in its notifications, so that it does not hear its own changes twice. */
  private readonly nodeId = randomUUID();
  private readonly pool: pg.Pool;
  private readonly statementNames = new Map<string, string>();
  private listener: RemoteChangeListener | null = null;
  private listenClient: pg.Client | null = null;
  private relistenTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(private readonly clientConfig: pg.ClientConfig) {
    this.pool = new pg.Pool({ ...clientConfig, max: POOL_SIZE });
    // An idle connection the server closed (a restart) is dropped by the pool; the next call opens a new one.
    this.pool.on('error', () => undefined);
  }

  /**
   * Connects, applies pending migrations and starts listening for other nodes' changes; fails
   * when the database cannot be reached (a supervisor restarts the node) or is newer than this server.
   */
  static async open(url: string, migrations: readonly Migration[], options: PostgresOptions = {}): Promise<PostgresDatabase> {
    const waitMs = options.busyWaitMs ?? 5000;
    const db = new PostgresDatabase({
      connectionString: url,
      application_name: 'issuance-server',
      types,
      connectionTimeoutMillis: waitMs,
      lock_timeout: waitMs,
      // A node that stops (frozen, cut off) inside a transaction must not hold its row locks for long.
      idle_in_transaction_session_timeout: 30_000,
      statement_timeout: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    try {
      await db.migrate(migrations);
      await db.connectListener();
    } catch (e) {
      await db.close();
      throw classify(e);
    }
    return db;
  }

  /** The prepared-statement name of a SQL text: the server parses and plans each statement once per connection. */
  private query(sql: string, params: readonly unknown[]): pg.QueryConfig {
    let name = this.statementNames.get(sql);
    if (!name) {
      name = `s${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      this.statementNames.set(sql, name);
    }
    return { name, text: numberedPlaceholders(sql), values: bindable(params) };
  }

  private executor(client: pg.Pool | pg.PoolClient, inTransaction: boolean): SqlExecutor {
    const run = async <R extends pg.QueryResultRow>(sql: string, params: readonly unknown[]): Promise<pg.QueryResult<R>> => {
      // PostgreSQL text cannot hold NUL (SQLite's can): no stored row equals such a value, so a
      // lookup finds nothing, as on SQLite; a write of one is the request's fault.
      if (params.some((p) => typeof p === 'string' && p.includes('\0'))) {
        if (/^\s*SELECT\b/i.test(sql)) return { rows: [], rowCount: 0, command: 'SELECT', oid: 0, fields: [] };
        throw new UnstorableValueError();
      }
      try {
        return await client.query<R>(this.query(sql, params));
      } catch (e) {
        throw classify(e);
      }
    };
    return {
      dialect: 'postgres',
      // Outside a transaction a row lock would end with its statement: reads take none.
      forUpdate: inTransaction ? ' FOR UPDATE' : '',
      forUpdateSkipLocked: inTransaction ? ' FOR UPDATE SKIP LOCKED' : '',
      all: async <R>(sql: string, params: readonly unknown[] = []) => (await run(sql, params)).rows as R[],
      get: async <R>(sql: string, params: readonly unknown[] = []) => (await run(sql, params)).rows[0] as R | undefined,
      run: async (sql: string, params: readonly unknown[] = []) => ({ changes: (await run(sql, params)).rowCount ?? 0 }),
      lockExclusive: async (name: string) => {
        if (!inTransaction) throw new Error('lockExclusive needs a write transaction');
        await run('SELECT pg_advisory_xact_lock(?)', [advisoryKey(name)]);
      },
      lockShared: async (name: string) => {
        if (inTransaction) await run('SELECT pg_advisory_xact_lock_shared(?)', [advisoryKey(name)]);
      },
    };
  }

  private async connect(): Promise<pg.PoolClient> {
    if (this.closed) throw new StoreUnavailableError('the database is closed (the server is stopping)');
    try {
      return await this.pool.connect();
    } catch (e) {
      throw classify(e);
    }
  }

  /**
   * One READ COMMITTED transaction on one connection, run again from the start when it lost a
   * race (deadlock, unique key) or its connection was found dead before it began. A connection
   * lost during COMMIT leaves the outcome unknown: that is a 503, and the retry reads the truth.
   */
  async write<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      let began = false;
      let healthy = true;
      try {
        await client.query('BEGIN');
        began = true;
        const result = await fn(this.executor(client, true));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        healthy = await client.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        const err = classify(e);
        if (attempt < MAX_ATTEMPTS && (retryable(e) || (!began && err instanceof StoreUnavailableError))) continue;
        throw err;
      } finally {
        client.release(!healthy);
      }
    }
  }

  /** Notifies the other nodes of this transaction's lifecycle and phone changes; PostgreSQL delivers them at commit, in commit order. */
  async announceInTransaction(sql: SqlExecutor, changes: readonly LifecycleChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i += NOTICE_BATCH) {
      const notice: z.infer<typeof changeNoticeSchema> = { node: this.nodeId, changes: changes.slice(i, i + NOTICE_BATCH).map(changeRef) };
      await sql.run('SELECT pg_notify(?, ?)', [CHANNEL, JSON.stringify(notice)]);
    }
  }

  listen(listener: RemoteChangeListener): void {
    this.listener = listener;
  }

  /** Reads run statement by statement on any pooled connection, against committed data. */
  async read<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the database is closed (the server is stopping)');
    return fn(this.executor(this.pool, false));
  }

  private heard(payload: string | undefined): void {
    let notice: z.infer<typeof changeNoticeSchema>;
    try {
      notice = changeNoticeSchema.parse(JSON.parse(payload ?? ''));
    } catch {
      // Not one of ours (someone else's NOTIFY on the channel): nothing to do.
      return;
    }
    if (notice.node !== this.nodeId) this.listener?.changed(notice.changes);
  }

  /** Opens the LISTEN connection; when it is lost, opens it again (with back-off) and asks for a resync. */
  private async connectListener(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.listenClient === client) this.listenClient = null;
      void client.end().catch(() => undefined);
      if (!this.closed) this.relisten(100);
    };
    client.on('notification', (m) => this.heard(m.payload));
    client.on('error', onLost);
    client.on('end', onLost);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      lost = true;
      await client.end().catch(() => undefined);
      throw e;
    }
    this.listenClient = client;
  }

  private relisten(waitMs: number): void {
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = null;
      if (this.closed) return;
      this.connectListener().then(
        // Whatever was announced while nobody listened is read from the database again.
        () => this.listener?.resync(),
        () => this.relisten(Math.min(waitMs * 2, 2000)),
      );
    }, waitMs);
    this.relistenTimer.unref();
  }

  /**
   * Applies the migrations the database has not seen, each in its own transaction, recorded in
   * `schema_migrations`; refuses a database written by a newer server. A session advisory lock
   * makes nodes that start together on a fresh database migrate one after another.
   */
  private async migrate(migrations: readonly Migration[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SET statement_timeout = 0');
      await client.query('SELECT pg_advisory_lock($1)', [advisoryKey('migrations')]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const current = Number((await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0]!.v);
      if (current > migrations.length) {
        throw new Error(`database schema version ${current} is newer than this server (${migrations.length}); upgrade the server`);
      }
      for (let next = current; next < migrations.length; next++) {
        const m = migrations[next]!;
        await client.query('BEGIN');
        try {
          await client.query(m.postgres);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [next + 1, m.name, Date.now()]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
        }
      }
    } finally {
      // Ending the session would release the lock too; unlocking keeps the connection reusable.
      await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    const listening = this.listenClient;
    this.listenClient = null;
    await listening?.end().catch(() => undefined);
    await this.pool.end();
  }
}
