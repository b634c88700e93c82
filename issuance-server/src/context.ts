import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import { AdminService } from './services/admin-service.ts';
import { ApplicationService } from './services/application-service.ts';
import { AuthService } from './services/auth-service.ts';
import { CatalogService } from './services/catalog.ts';
import { DocumentService, type DocumentRenderer } from './services/document-service.ts';
import { fontCoverage } from './services/printable-text.ts';
import { RecordService } from './services/record-service.ts';
import { SettlementService } from './services/settlement-service.ts';
import { IssuanceService } from './services/issuance-service.ts';
import { LifecycleService } from './services/lifecycle-service.ts';
import { PhoneService } from './services/phone-service.ts';
import { PushService } from './services/push-service.ts';
import { ChangeFeed } from './store/change-feed.ts';
import { PostgresDatabase } from './store/db/postgres-database.ts';
import type { SqlDatabase } from './store/db/sql.ts';
import { SqliteDatabase } from './store/db/sqlite-database.ts';
import { MIGRATIONS } from './store/migrations/index.ts';
import { Store } from './store/store.ts';

/** The store and the services of one server instance, wired once. */
export interface ServerContext {
  store: Store;
  renderer: DocumentRenderer;
  lifecycle: LifecycleService;
  catalog: CatalogService;
  records: RecordService;
  auth: AuthService;
  applications: ApplicationService;
  issuance: IssuanceService;
  phones: PhoneService;
  admin: AdminService;
  /** Settlement reports and refunds owed (the admin CLI's, on the same store). */
  settlement: SettlementService;
  /** Closes the database (the renderer belongs to whoever made it). */
  close(): Promise<void>;
}

/** What the admin CLI needs: the store and the administrative operations. */
export interface AdminContext {
  store: Store;
  admin: AdminService;
  settlement: SettlementService;
  close(): Promise<void>;
}

/** Opens the database (applying migrations): PostgreSQL at `databaseUrl` when given, else SQLite in the data directory. */
export async function openStore(config: Pick<ServerConfig, 'dataDir'> & Partial<Pick<ServerConfig, 'databaseUrl' | 'sqliteNativeBinding' | 'databaseBusyWaitMs'>>): Promise<Store> {
  const busyWait = config.databaseBusyWaitMs !== undefined ? { busyWaitMs: config.databaseBusyWaitMs } : {};
  const db: SqlDatabase = config.databaseUrl
    ? await PostgresDatabase.open(config.databaseUrl, MIGRATIONS, busyWait)
    : new SqliteDatabase(config.dataDir, MIGRATIONS, { ...(config.sqliteNativeBinding ? { nativeBinding: config.sqliteNativeBinding } : {}), ...busyWait });
  return new Store(db, new ChangeFeed());
}

/** The admin CLI's context (no renderer: imports and reports never draw a document). */
export async function createAdminContext(config: ServerConfig, log: Logger): Promise<AdminContext> {
  const store = await openStore(config);
  // Only imports need the font's coverage: read it (half a second for IPAmj) on first use.
  const records = new RecordService(store, config.clock, () => fontCoverage(config.fontPath));
  const admin = new AdminService(store, new LifecycleService(store, config, log), records, config.clock);
  return { store, admin, settlement: new SettlementService(store, config.clock), close: () => store.close() };
}

/** Opens the database and builds the services over it; `renderer` draws the documents (the server's RenderPool). */
export async function createContext(config: ServerConfig, log: Logger, publicUrl: () => string, renderer: DocumentRenderer): Promise<ServerContext> {
  const store = await openStore(config);
  const lifecycle = new LifecycleService(store, config, log);
  const catalog = new CatalogService(store);
  const documents = new DocumentService(renderer, catalog, publicUrl);
  const records = new RecordService(store, config.clock, async () => renderer.coverage);
  // The VAPID `sub`: whom a push service can contact about this sender.
  const pushContact = () => config.pushContact ?? (publicUrl().startsWith('https:') ? new URL(publicUrl()).origin : 'mailto:push-contact@invalid');
  const phones = new PhoneService(store, config, publicUrl, new PushService(store, pushContact, config.clock, log, config.pushCaPath), log);
  return {
    store,
    renderer,
    lifecycle,
    auth: new AuthService(store, config, log),
    catalog,
    records,
    applications: new ApplicationService(store, lifecycle, documents, catalog, config),
    issuance: new IssuanceService(store, lifecycle, documents, config, log, phones),
    phones,
    admin: new AdminService(store, lifecycle, records, config.clock),
    settlement: new SettlementService(store, config.clock),
    close: () => store.close(),
  };
}
