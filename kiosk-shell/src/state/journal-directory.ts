// The print journal on disk: one JSON file per issuance in `<state dir>/journal/`, each replaced
// atomically (write to a temporary file, fsync, rename, fsync the directory), so that a kiosk
// that dies at any instant leaves either the previous entry or the new one, never half of one.
// Kept out of src/core on purpose: no core module touches the disk (the certificate lives only
// in memory), and this one only ever receives schema-checked journal entries.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { journalEntrySchema, type JournalEntry, type JournalStore } from '../core/print-journal.ts';

const SUFFIX = '.json';
const TEMP_SUFFIX = '.json.tmp';

/** Flushes a directory's entries (a rename or unlink is durable only then). */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` with `text` atomically and durably (temporary file, fsync, rename, fsync of the directory). */
export function writeFileDurably(file: string, text: string): void {
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  fsyncDir(dirname(file));
}

/** The journal directory of a kiosk state directory. */
export class JournalDirectory implements JournalStore {
  readonly dir: string;

  /** Creates `<stateDir>/journal` (mode 0700) and drops temporary files a crash left mid-write (their entry's previous version stands). */
  constructor(
    stateDir: string,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.dir = join(stateDir, 'journal');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.dir)) if (f.endsWith(TEMP_SUFFIX)) rmSync(join(this.dir, f), { force: true });
  }

  private path(issuanceId: string): string {
    // The schema allows only plain ids; this is the second lock on the door.
    if (!/^[A-Za-z0-9_-]+$/.test(issuanceId)) throw new Error(`not a plain issuance id: ${JSON.stringify(issuanceId)}`);
    return join(this.dir, `${issuanceId}${SUFFIX}`);
  }

  /** Every readable entry, oldest first; an unreadable file is logged and left in place for staff (it is never deleted). */
  list(): JournalEntry[] {
    const entries: JournalEntry[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith(SUFFIX)) continue;
      const file = join(this.dir, f);
      try {
        entries.push(journalEntrySchema.parse(JSON.parse(readFileSync(file, 'utf8'))));
      } catch (e) {
        this.log(`journal: ${file} is not a journal entry (${(e as Error).message.split('\n')[0]}); left for staff`);
      }
    }
    return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  write(entry: JournalEntry): void {
    const valid = journalEntrySchema.parse(entry);
    writeFileDurably(this.path(valid.issuanceId), `${JSON.stringify(valid)}\n`);
  }

  remove(issuanceId: string): void {
    rmSync(this.path(issuanceId), { force: true });
    fsyncDir(this.dir);
  }
}
