/**
 * Waits `ms`, or less when `signal` aborts (resolves either way; callers check the signal).
 * `keepAlive: false`: the wait alone does not keep the process running (a background loop's idle time).
 */
export function abortableSleep(ms: number, signal?: AbortSignal, keepAlive = true): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    if (!keepAlive) t.unref();
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
