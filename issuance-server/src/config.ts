/** Default path of the Japanese font embedded in certificates (Debian fonts-ipaexfont). */
export const DEFAULT_FONT_PATH = '/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf';

/** A token bucket: `burst` requests at once, refilled at `perMinute`. */
export interface RateLimit {
  burst: number;
  perMinute: number;
}

/** Everything the server can be configured with. Durations in milliseconds. */
export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  tls?: { certPath: string; keyPath: string };
  /** Base URL printed in verification QR codes; defaults to the listening URL. */
  publicUrl?: string;
  fontPath: string;
  receiptValidityMs: number;
  confirmationTimeoutMs: number;
  printTimeoutMs: number;
  sessionTtlMs: number;
  challengeTtlMs: number;
  heartbeatMs: number;
  socketAuthTimeoutMs: number;
  sweepIntervalMs: number;
  kioskRateLimit: RateLimit;
  globalRateLimit: RateLimit;
  logLevel: string;
}

/** The documented defaults (README, "Server options"). */
export function defaultServerConfig(dataDir: string): ServerConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: 8443,
    fontPath: DEFAULT_FONT_PATH,
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
    logLevel: 'info',
  };
}

/** Version reported by /api/v1/health. */
export const SERVER_VERSION = '0.1.0';
