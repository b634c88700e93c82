import { defaultServerConfig, type RateLimit } from '../config.ts';
import { createLogger } from '../logger.ts';
import { startServer } from '../server.ts';
import { parseOptions, storageFromOptions, STORAGE_OPTIONS, UsageError } from './cli-options.ts';

/** Parses a rate limit written `BURST/PER_MINUTE` (e.g. `10/10`). */
export function parseRateLimit(name: string, value: string): RateLimit {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(value.trim());
  const burst = Number(m?.[1]);
  const perMinute = Number(m?.[2]);
  if (!m || burst < 1 || perMinute <= 0) throw new UsageError(`--${name} must be BURST/PER_MINUTE with positive numbers (e.g. 10/10), got "${value}"`);
  return { burst, perMinute };
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/** `serve`: runs the server until SIGINT/SIGTERM; prints `listening on <url>` once ready. */
export async function runServe(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    ...STORAGE_OPTIONS,
    host: { type: 'string' },
    port: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'public-url': { type: 'string' },
    font: { type: 'string' },
    'receipt-validity-hours': { type: 'string' },
    'confirmation-timeout-seconds': { type: 'string' },
    'print-timeout-seconds': { type: 'string' },
    'log-level': { type: 'string' },
    'kiosk-lookup-limit': { type: 'string' },
    'lookup-limit': { type: 'string' },
    'auth-address-limit': { type: 'string' },
    'auth-limit': { type: 'string' },
    'audit-checkpoint-file': { type: 'string' },
    'audit-checkpoint-minutes': { type: 'string' },
    'render-workers': { type: 'string' },
    'phone-validity-days': { type: 'string' },
    'pairing-limit': { type: 'string' },
    'phone-registration-limit': { type: 'string' },
    'push-contact': { type: 'string' },
    'push-ca': { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const storage = storageFromOptions(values);
  if (!!values['tls-cert'] !== !!values['tls-key']) throw new UsageError('--tls-cert and --tls-key go together');
  const config = { ...defaultServerConfig(storage.dataDir), ...storage };
  if (values.host) config.host = values.host;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${values.port}"`);
    config.port = port;
  }
  if (values['tls-cert'] && values['tls-key']) config.tls = { certPath: values['tls-cert'], keyPath: values['tls-key'] };
  if (values['public-url']) config.publicUrl = values['public-url'];
  if (values.font) config.fontPath = values.font;
  if (values['log-level']) config.logLevel = values['log-level'];
  const hours = positiveNumber('receipt-validity-hours', values['receipt-validity-hours']);
  if (hours) config.receiptValidityMs = hours * 3600_000;
  const confirm = positiveNumber('confirmation-timeout-seconds', values['confirmation-timeout-seconds']);
  if (confirm) config.confirmationTimeoutMs = confirm * 1000;
  const print = positiveNumber('print-timeout-seconds', values['print-timeout-seconds']);
  if (print) config.printTimeoutMs = print * 1000;

  if (values['kiosk-lookup-limit']) config.kioskRateLimit = parseRateLimit('kiosk-lookup-limit', values['kiosk-lookup-limit']);
  if (values['lookup-limit']) config.globalRateLimit = parseRateLimit('lookup-limit', values['lookup-limit']);
  if (values['auth-address-limit']) config.authAddressRateLimit = parseRateLimit('auth-address-limit', values['auth-address-limit']);
  if (values['auth-limit']) config.authGlobalRateLimit = parseRateLimit('auth-limit', values['auth-limit']);
  if (values['audit-checkpoint-file']) config.auditCheckpointFile = values['audit-checkpoint-file'];
  const workers = positiveNumber('render-workers', values['render-workers']);
  if (workers) config.renderWorkers = Math.round(workers);
  const phoneDays = positiveNumber('phone-validity-days', values['phone-validity-days']);
  if (phoneDays) config.phoneValidityMs = phoneDays * 24 * 3600_000;
  if (values['pairing-limit']) config.pairingRateLimit = parseRateLimit('pairing-limit', values['pairing-limit']);
  if (values['phone-registration-limit']) config.phoneRegistrationRateLimit = parseRateLimit('phone-registration-limit', values['phone-registration-limit']);
  if (values['push-contact']) config.pushContact = values['push-contact'];
  if (values['push-ca']) config.pushCaPath = values['push-ca'];
  const checkpointMinutes = positiveNumber('audit-checkpoint-minutes', values['audit-checkpoint-minutes']);
  if (checkpointMinutes) config.auditCheckpointIntervalMs = checkpointMinutes * 60_000;

  const log = createLogger(config.logLevel);
  // One bad moment must not stop a server that residents and kiosks are waiting on: these are
  // bugs to fix, logged loudly, while every request keeps its own transaction and answer.
  process.on('unhandledRejection', (err) => log.error({ err }, 'BUG: unhandled promise rejection'));
  process.on('uncaughtException', (err) => log.fatal({ err }, 'BUG: uncaught exception'));
  // Listen for the stop signals before announcing the URL: a supervisor may send SIGTERM the
  // moment it reads `listening on`, and that must still be a graceful stop with exit code 0.
  const stopRequested = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const server = await startServer(config, log);
  if (!(await server.context.store.read((tx) => tx.residents.municipality()))) {
    log.warn('the database is not initialised; run `issuance-server admin --data-dir DIR init ...` (or `--database URL`)');
  }
  console.log(`listening on ${server.url}`);
  await stopRequested;
  await server.close();
  log.flush();
  return 0;
}
