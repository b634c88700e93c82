import { DEFAULT_FONT_PATH } from './documents/font-source.ts';
import { embeddedAssetFile, SERVER_ASSETS } from './runtime/single-executable.ts';

/** A token bucket: `burst` requests at once, refilled at `perMinute`. */
export interface RateLimit {
  burst: number;
  perMinute: number;
}

/** The server's notion of now, in epoch milliseconds (tests inject their own). */
export type Clock = () => number;

/** Everything the server can be configured with. Durations in milliseconds. */
export interface ServerConfig {
  /** The SQLite data directory (one node); unused with `databaseUrl`. */
  dataDir: string;
  /** A PostgreSQL connection URL (`postgres://…`): any number of nodes share that database instead of a data directory. */
  databaseUrl?: string;
  host: string;
  port: number;
  tls?: { certPath: string; keyPath: string };
  /** Base URL printed in verification QR codes; defaults to the listening URL. */
  publicUrl?: string;
  fontPath: string;
  /** Render worker threads (default: one per core). */
  renderWorkers?: number;
  /** How long a write waits for another process's lock on the database (or, on PostgreSQL, for a connection or a row lock) before answering 503. */
  databaseBusyWaitMs: number;
  /** The better-sqlite3 addon to load instead of the installed one (the single executable unpacks its own). */
  sqliteNativeBinding?: string;
  receiptValidityMs: number;
  confirmationTimeoutMs: number;
  printTimeoutMs: number;
  sessionTtlMs: number;
  challengeTtlMs: number;
  heartbeatMs: number;
  socketAuthTimeoutMs: number;
  sweepIntervalMs: number;
  /** Receipt lookups per kiosk. */
  kioskRateLimit: RateLimit;
  /** Receipt lookups of all kiosks together. */
  globalRateLimit: RateLimit;
  /** Login challenges and logins per client address. */
  authAddressRateLimit: RateLimit;
  /** Login challenges and logins of all clients together. */
  authGlobalRateLimit: RateLimit;
  /** How long a phone pairing secret is valid (PC QR code → phone registration → confirmation on the PC). */
  pairingTtlMs: number;
  /** How long a paired phone stays trusted after its pairing is confirmed. */
  phoneValidityMs: number;
  /** Pairings a resident may start. */
  pairingRateLimit: RateLimit;
  /** Phone registration calls per client address. */
  phoneRegistrationRateLimit: RateLimit;
  /** `sub` of the VAPID JWT (mailto: or https: URL); defaults to the public URL when it is https. */
  pushContact?: string;
  /** A PEM file of extra trust anchors for push services (a private relay, or a test push service); the system's roots are always trusted. */
  pushCaPath?: string;
  /** How often the audit log's head is signed and exported. */
  auditCheckpointIntervalMs: number;
  /** A file (kept away from the data directory) that every signed checkpoint is appended to. */
  auditCheckpointFile?: string;
  logLevel: string;
  /** Time for deadlines, expiries and records; `Date.now` unless a test injects a clock. */
  clock: Clock;
}

/**
 * The documented defaults (README, "Server options"). Inside the single executable the SQLite
 * addon and the font are its embedded ones, unpacked into its private cache on first use.
 */
export function defaultServerConfig(dataDir: string): ServerConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: 8443,
    fontPath: embeddedAssetFile(SERVER_ASSETS.defaultFont) ?? DEFAULT_FONT_PATH,
    databaseBusyWaitMs: 5000,
    sqliteNativeBinding: embeddedAssetFile(SERVER_ASSETS.sqliteAddon),
    receiptValidityMs: 72 * 3600_000,
    confirmationTimeoutMs: 120_000,
    printTimeoutMs: 600_000,
    sessionTtlMs: 30 * 60_000,
    challengeTtlMs: 120_000,
    heartbeatMs: 30_000,
    socketAuthTimeoutMs: 15_000,
    sweepIntervalMs: 1000,
    kioskRateLimit: { burst: 10, perMinute: 10 },
    globalRateLimit: { burst: 1000, perMinute: 6000 },
    authAddressRateLimit: { burst: 30, perMinute: 60 },
    authGlobalRateLimit: { burst: 3000, perMinute: 30_000 },
    pairingTtlMs: 5 * 60_000,
    phoneValidityMs: 365 * 24 * 3600_000,
    pairingRateLimit: { burst: 5, perMinute: 2 },
    phoneRegistrationRateLimit: { burst: 10, perMinute: 10 },
    auditCheckpointIntervalMs: 5 * 60_000,
    logLevel: 'info',
    clock: Date.now,
  };
}

/** Version reported by /api/v1/health. */
export const SERVER_VERSION = '0.2.0';
