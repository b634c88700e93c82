// A Schedule for tests: nothing fires until the test moves time forward, so "after the grace
// period" or "no reconnect was ever scheduled" are checked without waiting.
import type { Schedule } from '../../../src/core/schedule.ts';

interface Due {
  at: number;
  fn: () => void;
}

/** A clock that starts at 0 and moves only when told to. */
export class ManualClock {
  private now = 0;
  private readonly due = new Set<Due>();

  /** Pass this where the code under test takes a Schedule. */
  readonly schedule: Schedule = (fn, ms) => {
    const d = { at: this.now + ms, fn };
    this.due.add(d);
    return () => this.due.delete(d);
  };

  /** The delays of the callbacks still waiting, from now, soonest first. */
  get pending(): number[] {
    return [...this.due].map((d) => d.at - this.now).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running what falls due in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = [...this.due].filter((d) => d.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.due.delete(next);
      this.now = next.at;
      next.fn();
    }
    this.now = until;
  }
}
