import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import { AdminService } from './services/admin-service.ts';
import { ApplicationService } from './services/application-service.ts';
import { AuthService } from './services/auth-service.ts';
import { DocumentService } from './services/document-service.ts';
import { IssuanceService } from './services/issuance-service.ts';
import { LifecycleEvents } from './services/lifecycle-events.ts';
import { LifecycleService } from './services/lifecycle-service.ts';
import { ApplicationStore } from './store/application-store.ts';
import { AuditLog } from './store/audit-log.ts';
import { openDatabase } from './store/database.ts';
import { KioskStore } from './store/kiosk-store.ts';
import { ResidentStore } from './store/resident-store.ts';
import { SessionStore } from './store/session-store.ts';
import { TrustStore } from './store/trust-store.ts';

/** The stores and services of one server instance, wired once. */
export interface ServerContext {
  db: Database;
  stores: { applications: ApplicationStore; residents: ResidentStore; trust: TrustStore; sessions: SessionStore; kiosks: KioskStore };
  audit: AuditLog;
  events: LifecycleEvents;
  lifecycle: LifecycleService;
  auth: AuthService;
  applications: ApplicationService;
  issuance: IssuanceService;
  admin: AdminService;
}

/** Opens the database in the data directory and builds the services over it. */
export function createContext(config: ServerConfig, log: Logger, publicUrl: () => string): ServerContext {
  const db = openDatabase(config.dataDir);
  const stores = {
    applications: new ApplicationStore(db),
    residents: new ResidentStore(db),
    trust: new TrustStore(db),
    sessions: new SessionStore(db),
    kiosks: new KioskStore(db),
  };
  const audit = new AuditLog(db);
  const events = new LifecycleEvents();
  const lifecycle = new LifecycleService(db, stores.applications, audit, events, config, log);
  const documents = new DocumentService(stores.residents, config.fontPath, publicUrl);
  return {
    db,
    stores,
    audit,
    events,
    lifecycle,
    auth: new AuthService(db, stores.sessions, stores.trust, stores.residents, audit, config, log),
    applications: new ApplicationService(stores.applications, stores.residents, audit, lifecycle, config),
    issuance: new IssuanceService(stores.applications, stores.kiosks, audit, lifecycle, documents, config, log),
    admin: new AdminService(db, stores.residents, stores.trust, stores.kiosks, audit),
  };
}
