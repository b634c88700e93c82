// The messages between RenderPool and its workers, declared once for both sides. The main thread
// sends a DocumentRequest per job and never more than one at a time to a worker.
import type { DocumentErrorData } from './document-error.ts';
import type { CoverageData } from './glyph-coverage.ts';

/** What a render worker starts with (its `workerData`). */
export interface RenderWorkerData {
  fontPath: string;
  /** Compiled once by the pool; a WebAssembly.Module is shared with workers, not copied. */
  hbSubsetWasm: WebAssembly.Module;
}

/** A message from a render worker: warmed up (with the font's coverage), or the outcome of its job. */
export type RenderWorkerReply =
  | { type: 'ready'; coverage: CoverageData }
  | { type: 'done'; pdf: Uint8Array }
  | { type: 'failed'; error: DocumentErrorData };
