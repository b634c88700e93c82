import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 nobody listens on right now (whoever binds it next may still lose a race for it, and retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
