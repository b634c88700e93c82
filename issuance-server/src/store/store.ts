// One entry to the database for the services: every state change runs in `write`, which takes
// the write lock up front, appends the audit events the change recorded at its end (so the
// append lock is held only for the last statements), and announces the lifecycle changes only
// after the commit.
import { ApplicationStore } from './application-store.ts';
import { AuditLog, type AuditEvent, type PendingAuditEvent } from './audit-log.ts';
import { changeRef, type ChangeFeed, type ChangeRef, type LifecycleChange } from './change-feed.ts';
import type { SqlDatabase, SqlExecutor } from './db/sql.ts';
import { SerialQueue } from './db/serial-queue.ts';
import { KioskStore } from './kiosk-store.ts';
import { PaymentStore } from './payment-store.ts';
import { PhoneStore } from './phone-store.ts';
import { RateLimitStore } from './rate-limit-store.ts';
import { RecordStore } from './record-store.ts';
import { ApiClientStore } from './api-client-store.ts';
import { SettingsStore } from './settings-store.ts';
import { ResidentStore } from './resident-store.ts';
import { ServerKeyStore } from './server-key-store.ts';
import { SessionStore } from './session-store.ts';
import { TrustStore } from './trust-store.ts';

/** At most this many of other nodes' changes are read back in one query. */
const REMOTE_BATCH = 100;

/** Other nodes' changes as the records are now, in the order they were announced. */
async function remoteChanges(tx: Tx, refs: readonly ChangeRef[]): Promise<LifecycleChange[]> {
  const key = (r: ChangeRef) => `${r.kind} ${r.id}`;
  const found = [
    ...(await tx.applications.lifecycleChanges(refs.filter((r) => r.kind !== 'phone'))),
    ...(await tx.phones.phoneChanges(refs.filter((r) => r.kind === 'phone').map((r) => r.id))),
  ];
  const byRef = new Map(found.map((c) => [key(changeRef(c)), c]));
  return refs.flatMap((r) => byRef.get(key(r)) ?? []);
}

/** The stores of one transaction. */
export class Tx {
  readonly applications: ApplicationStore;
  readonly residents: ResidentStore;
  readonly trust: TrustStore;
  readonly sessions: SessionStore;
  readonly kiosks: KioskStore;
  readonly payments: PaymentStore;
  readonly limits: RateLimitStore;
  readonly keys: ServerKeyStore;
  readonly records: RecordStore;
  readonly apiClients: ApiClientStore;
  readonly settings: SettingsStore;
  readonly phones: PhoneStore;
  readonly auditLog: AuditLog;
  /** Audit events to append when the transaction ends. */
  readonly pendingAudit: PendingAuditEvent[] = [];
  /** Lifecycle and phone changes to announce after the commit. */
  readonly pendingChanges: LifecycleChange[] = [];

  constructor(
    readonly sql: SqlExecutor,
    private readonly writable: boolean,
  ) {
    this.applications = new ApplicationStore(sql);
    this.residents = new ResidentStore(sql);
    this.trust = new TrustStore(sql);
    this.sessions = new SessionStore(sql);
    this.kiosks = new KioskStore(sql);
    this.payments = new PaymentStore(sql);
    this.limits = new RateLimitStore(sql);
    this.keys = new ServerKeyStore(sql);
    this.records = new RecordStore(sql);
    this.apiClients = new ApiClientStore(sql);
    this.settings = new SettingsStore(sql);
    this.phones = new PhoneStore(sql);
    this.auditLog = new AuditLog(sql);
  }

  /** Records an audit event of this transaction's change (appended in order at commit). */
  audit(event: AuditEvent, at: number = Date.now()): void {
    this.assertWritable();
    this.pendingAudit.push({ ...event, at });
  }

  /** Announces a lifecycle or phone change once this transaction has committed (to this node's listeners and, by id, to the other nodes). */
  announce(change: LifecycleChange): void {
    this.assertWritable();
    this.pendingChanges.push(change);
  }

  private assertWritable(): void {
    if (!this.writable) throw new Error('a read transaction cannot record changes');
  }
}

/** The services' access to the database. */
export class Store {
  /** Other nodes' changes are published one batch after another, in the order they committed. */
  private readonly remote = new SerialQueue();
  /** Changes heard while the previous batch was being read: the next batch reads them at once. */
  private readonly heard: ChangeRef[] = [];
  /** Whether a batch is queued that has not taken its changes yet. */
  private batchQueued = false;

  constructor(
    readonly db: SqlDatabase,
    readonly changes: ChangeFeed,
  ) {
    db.listen?.({
      changed: (refs) => {
        this.heard.push(...refs);
        this.queueBatch();
      },
      resync: () => this.changes.resync(),
    });
  }

  /**
   * Publishes the changes other nodes made with the records' state read back from the database,
   * in one read for every notice heard meanwhile (a record changed twice is read once: its latest
   * state is what listeners act on).
   */
  private queueBatch(): void {
    if (this.batchQueued) return;
    this.batchQueued = true;
    void this.remote.run(() => this.publishRemote());
  }

  private async publishRemote(): Promise<void> {
    this.batchQueued = false;
    // Bounded: the read names every record, and each distinct statement is prepared per connection.
    const batch = this.heard.splice(0, REMOTE_BATCH);
    if (this.heard.length > 0) this.queueBatch();
    const seen = new Set<string>();
    const refs = batch.filter((r) => {
      const key = `${r.kind} ${r.id}`;
      return !seen.has(key) && !!seen.add(key);
    });
    try {
      this.changes.publish(await this.read((tx) => remoteChanges(tx, refs)));
    } catch (err) {
      // The database went away between the notice and the read: whoever waits reads again.
      this.changes.failed(err);
      this.changes.resync();
    }
  }

  /** Runs `fn` as one write transaction (see {@link SqlDatabase.write}); `fn` may be re-run on an engine retry. */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const { result, changes } = await this.db.write(async (sql) => {
      const tx = new Tx(sql, true);
      const result = await fn(tx);
      await tx.auditLog.append(tx.pendingAudit);
      await this.db.announceInTransaction?.(sql, tx.pendingChanges);
      return { result, changes: tx.pendingChanges };
    });
    this.changes.publish(changes);
    return result;
  }

  /** Runs `fn` against committed data. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.read((sql) => fn(new Tx(sql, false)));
  }

  /** Closes the database. */
  close(): Promise<void> {
    return this.db.close();
  }
}
