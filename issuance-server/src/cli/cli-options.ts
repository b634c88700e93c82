import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line mistake: shown with the usage, exit code 2. */
export class UsageError extends Error {}

/** Parses options strictly; unknown options are usage errors. */
export function parseOptions<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
}

/** The storage options of `serve` and `admin`: SQLite in a data directory, or a PostgreSQL database shared by several nodes. */
export const STORAGE_OPTIONS = { 'data-dir': { type: 'string' }, database: { type: 'string' } } as const;

/** Where the data lives, from {@link STORAGE_OPTIONS}: exactly one of `--data-dir DIR` and `--database postgres://…`. */
export function storageFromOptions(values: { 'data-dir'?: string | undefined; database?: string | undefined }): { dataDir: string; databaseUrl?: string } {
  const dataDir = values['data-dir'];
  const url = values.database;
  if (dataDir && url) throw new UsageError('--data-dir (SQLite, one server) and --database (PostgreSQL, several nodes) exclude each other');
  if (url === undefined) {
    if (!dataDir) throw new UsageError('--data-dir DIR (SQLite, one server) or --database postgres://… (PostgreSQL, several nodes) is required');
    return { dataDir };
  }
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // Reported below without echoing the value: it may hold a password.
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new UsageError('--database must be a postgres:// or postgresql:// URL');
  return { dataDir: '', databaseUrl: url };
}
