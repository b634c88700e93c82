/** Runs async jobs one at a time, in the order they were queued (an async mutex). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `job`; resolves or rejects with it once every job queued before has settled. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    // The chain must survive a failed job, or every later job would be skipped.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
