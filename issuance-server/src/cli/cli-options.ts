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
