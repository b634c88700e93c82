/** What untilEvent needs of an emitter (Node's EventEmitter, typed or not). */
export interface Subscribable {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/**
 * Resolves once `holds()` is true, checked at once and after every `event` of `emitter`: a wait
 * for the state an event brings, without polling or sleeping. Rejects after `timeoutMs`, naming `what`.
 */
export function untilEvent(emitter: Subscribable, event: string, holds: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!holds()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    emitter.on(event, check);
    check();
  });
}
