// Non-volatile card state: retry counters and changed PINs. Lives as long as the card object (so it survives
// insert/remove within a process) and optionally in a JSON state file (so a blocked card stays blocked).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { JpkiPinKind } from '@cert/common';

export interface PinCounter {
  /** Tries left; 0 = blocked. */
  remaining: number;
  max: number;
}

export interface CardNvState {
  auth: PinCounter;
  sign: PinCounter;
  /** PINs changed with CHANGE REFERENCE DATA (absent = as issued). */
  changedPins: Partial<Record<JpkiPinKind, string>>;
}

export interface StateFileContent {
  version: 1;
  /** SHA-256 of the auth certificate: a state file belongs to one card. */
  card: string;
  updatedAt: string;
  counters: { auth: PinCounter; sign: PinCounter };
  changedPins?: Partial<Record<JpkiPinKind, string>>;
}

/** Reads a state file; `undefined` if it does not exist. Throws if it belongs to another card or is malformed. */
export function readStateFile(path: string, cardFingerprint: string): CardNvState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as StateFileContent;
  if (parsed.version !== 1 || !parsed.counters?.auth || !parsed.counters?.sign) throw new Error(`${path}: not a virtual card state file`);
  if (parsed.card !== cardFingerprint) throw new Error(`${path} belongs to another card (auth certificate differs)`);
  for (const c of [parsed.counters.auth, parsed.counters.sign]) {
    if (!Number.isInteger(c.remaining) || !Number.isInteger(c.max) || c.remaining < 0 || c.remaining > c.max || c.max > 15) {
      throw new Error(`${path}: bad counter ${JSON.stringify(c)}`);
    }
  }
  return { auth: { ...parsed.counters.auth }, sign: { ...parsed.counters.sign }, changedPins: { ...(parsed.changedPins ?? {}) } };
}

/** Writes the state file atomically: temp file in the same directory, fsync, rename. */
export function writeStateFile(path: string, cardFingerprint: string, state: CardNvState): void {
  const content: StateFileContent = {
    version: 1,
    card: cardFingerprint,
    updatedAt: new Date().toISOString(),
    counters: { auth: { ...state.auth }, sign: { ...state.sign } },
    ...(Object.keys(state.changedPins).length ? { changedPins: { ...state.changedPins } } : {}),
  };
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(content, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
