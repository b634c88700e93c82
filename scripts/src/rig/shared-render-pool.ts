// Starting a render pool takes seconds (fonts, warm-up renders), so the in-process servers of one
// test process share a single one-worker pool. Its worker does not keep the process alive.
import { createRenderPool, defaultServerConfig } from 'issuance-server';
import type { RenderPool } from 'issuance-server/documents';

let shared: Promise<RenderPool> | null = null;

/** The render pool the in-process test servers share, started on first use. */
export function sharedRenderPool(): Promise<RenderPool> {
  shared ??= (async () => {
    const pool = createRenderPool({ fontPath: defaultServerConfig('').fontPath, renderWorkers: 1 }, true);
    await pool.ready();
    return pool;
  })();
  return shared;
}
