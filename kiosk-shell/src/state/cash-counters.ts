// The cash unit's event counters on disk (`<state dir>/cash-counters.json`): the last event
// number of each acceptor whose credits are journaled, so that a restarted kiosk neither counts
// an event again nor misses one the device took while the kiosk was down.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CashCounters, CounterStore } from '../core/cash-unit.ts';
import { writeFileDurably } from './journal-directory.ts';

const countersSchema = z.strictObject({ coin: z.number().int().min(0).max(255).nullable(), bill: z.number().int().min(0).max(255).nullable() });

/** The counters file of a state directory. */
export class CashCounterFile implements CounterStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'cash-counters.json');
  }

  /** The saved counters; none (first start, or an unreadable file) means "take the device's as they are". */
  load(): CashCounters {
    try {
      return countersSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      return { coin: null, bill: null };
    }
  }

  save(counters: CashCounters): void {
    writeFileDurably(this.file, `${JSON.stringify(countersSchema.parse(counters))}\n`);
  }
}
