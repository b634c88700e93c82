import { pino, type Logger } from 'pino';

/** JSON logs to stderr (stdout is kept for the CLI's own output). Ids only, never personal data. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'issuance-server' } }, pino.destination({ fd: 2, sync: false }));
}
