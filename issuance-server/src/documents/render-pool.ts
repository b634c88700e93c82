// Certificate rendering off the event loop: a fixed set of worker threads, each holding the font
// (parsed, preprocessed for hb-subset and warmed up by one render), fed from a bounded queue.
//
// Where the worker's code comes from (WorkerEntry):
// - Development runs TypeScript through tsx, which a worker thread does not inherit on Node 20, so a
//   `.ts` entry is started through tsx-worker-bootstrap.mjs, which registers tsx inside the worker
//   as bin/issuance-server.js does on the main thread, then imports the entry.
// - A single-executable application has no .ts files, and in its esbuild CommonJS bundle
//   import.meta.url is empty, so the defaults below are computed only when nothing is injected. The
//   bundler builds render-worker.ts as a second self-contained entry (bundle: true, format: 'cjs',
//   platform: 'node'), ships it and harfbuzzjs's dist/harfbuzz-subset.wasm as SEA assets, and the
//   server passes `worker: { source: sea.getAsset('render-worker.cjs', 'utf8') }` and
//   `hbSubsetWasm: new Uint8Array(sea.getAsset('harfbuzz-subset.wasm'))`.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DocumentError } from './document-error.ts';
import type { DocumentRequest } from './document-request.ts';
import { DEFAULT_FONT_PATH } from './font-source.ts';
import { GlyphCoverage } from './glyph-coverage.ts';
import { compileHbSubset } from './hb-subset.ts';
import type { RenderWorkerData, RenderWorkerReply } from './render-protocol.ts';

/** Where a render worker's code comes from. */
export type WorkerEntry =
  /** A module file: render-worker.ts (started through tsx) or a built .js/.mjs/.cjs file. */
  | { url: URL }
  /** The worker's whole code as CommonJS source, run with `eval: true`; how a bundle supplies it. */
  | { source: string };

/** How to build a RenderPool; every field has a default. */
export interface RenderPoolOptions {
  /** TrueType font of every document; Debian's IPAmj Mincho by default. */
  fontPath?: string;
  /** Worker threads; os.availableParallelism() by default. */
  size?: number;
  /** Requests that may wait for a free worker before render() refuses with queue_full; 64 by default. */
  maxQueue?: number;
  /** The worker's code; render-worker.ts next to this file by default. */
  worker?: WorkerEntry;
  /** hb-subset's wasm bytes; harfbuzzjs's file by default. */
  hbSubsetWasm?: Uint8Array;
  /** Let the process exit while the workers run (a pool shared by the tests of one process). */
  unref?: boolean;
}

interface Job {
  request: DocumentRequest;
  resolve(pdf: Uint8Array): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
}

function startWorker(entry: WorkerEntry, workerData: RenderWorkerData): Worker {
  if ('source' in entry) return new Worker(entry.source, { eval: true, workerData });
  if (!entry.url.pathname.endsWith('.ts')) return new Worker(entry.url, { workerData });
  return new Worker(new URL('./tsx-worker-bootstrap.mjs', import.meta.url), { argv: [entry.url.href], workerData });
}

/** Renders certificate documents on worker threads; create once at server start, await ready(), close() at shutdown. */
export class RenderPool {
  /** Number of workers the pool keeps running. */
  readonly size: number;
  readonly #options: RenderPoolOptions;
  readonly #maxQueue: number;
  readonly #entry: WorkerEntry;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #ready: Promise<void>;
  #workerData: RenderWorkerData | null = null;
  #coverage: GlyphCoverage | null = null;
  /** Why no worker is left, once that has happened. */
  #failure: Error | null = null;
  #closed = false;

  constructor(options: RenderPoolOptions = {}) {
    this.#options = options;
    this.size = options.size ?? availableParallelism();
    this.#maxQueue = options.maxQueue ?? 64;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`RenderPool: size must be a positive integer, got ${this.size}`);
    if (!Number.isInteger(this.#maxQueue) || this.#maxQueue < 0) throw new RangeError(`RenderPool: maxQueue must be an integer ≥ 0, got ${this.#maxQueue}`);
    this.#entry = options.worker ?? { url: new URL('./render-worker.ts', import.meta.url) };
    this.#ready = this.#start();
    // Reported through ready() and render(); not an unhandled rejection when nobody awaits ready().
    this.#ready.catch(() => {});
  }

  /** Resolves once every worker has loaded the font and rendered its warm-up document; rejects if one cannot start. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** What the font can draw, for checks on the main thread (e.g. at claim time); available once ready() has resolved. */
  get coverage(): GlyphCoverage {
    if (!this.#coverage) throw new Error('RenderPool.coverage: not available before ready() has resolved');
    return this.#coverage;
  }

  /** Thread ids of the running workers; they change when a crashed worker is replaced. */
  get threadIds(): number[] {
    return this.#slots.map((slot) => slot.worker.threadId);
  }

  /** The document's PDF bytes (transferred from the worker, not copied); rejects with a DocumentError. */
  render(request: DocumentRequest): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new DocumentError('pool_closed', 'the render pool is closed'));
    if (this.#failure) return Promise.reject(new DocumentError('pool_closed', `no render worker is running: ${this.#failure.message}`));
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(new DocumentError('queue_full', `${this.#queue.length} documents are already waiting for a render worker`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#dispatch();
    });
  }

  /** Rejects waiting and running requests with pool_closed and terminates every worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new DocumentError('pool_closed', 'the render pool was closed');
    for (const job of this.#queue.splice(0)) job.reject(closed);
    for (const slot of this.#slots) slot.job?.reject(closed);
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  async #start(): Promise<void> {
    const hbSubsetWasm = await compileHbSubset(this.#options.hbSubsetWasm);
    if (this.#closed) throw new DocumentError('pool_closed', 'the render pool was closed while starting');
    this.#workerData = { fontPath: this.#options.fontPath ?? DEFAULT_FONT_PATH, hbSubsetWasm };
    await Promise.all(Array.from({ length: this.size }, () => this.#spawn()));
  }

  /** Starts a worker; resolves when it is ready, rejects if it ends before. */
  #spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const slot: Slot = { worker: startWorker(this.#entry, this.#workerData!), ready: false, job: null };
      this.#slots.push(slot);
      let error: Error | null = null;
      slot.worker.on('error', (err) => (error = err));
      slot.worker.on('message', (reply: RenderWorkerReply) => {
        if (reply.type === 'ready') {
          slot.ready = true;
          this.#coverage ??= new GlyphCoverage(reply.coverage);
          resolve();
        } else {
          const job = slot.job!;
          slot.job = null;
          if (reply.type === 'done') job.resolve(reply.pdf);
          else job.reject(DocumentError.fromData(reply.error));
        }
        this.#dispatch();
      });
      // After the listeners: adding a 'message' listener refs the worker's port again.
      if (this.#options.unref) slot.worker.unref();
      slot.worker.on('exit', (code) => {
        this.#slots.splice(this.#slots.indexOf(slot), 1);
        const why = error ?? new Error(`render worker exited with code ${code}`);
        if (this.#closed) return reject(new DocumentError('pool_closed', 'the render pool was closed'));
        if (!slot.ready) {
          reject(why);
        } else {
          slot.job?.reject(new DocumentError('worker_crashed', `the render worker died: ${why.message}`));
          // A replacement that cannot start leaves the pool smaller; with none left, #failure says why.
          this.#spawn().catch(() => {});
        }
        if (this.#slots.length === 0) {
          this.#failure = why;
          const failed = new DocumentError('pool_closed', `no render worker is running: ${why.message}`);
          for (const job of this.#queue.splice(0)) job.reject(failed);
        }
      });
    });
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      while (slot.ready && !slot.job && this.#queue.length > 0) {
        const job = this.#queue.shift()!;
        try {
          slot.worker.postMessage(job.request);
          slot.job = job;
        } catch (err) {
          // Only a request that structured clone refuses (one holding a function or a symbol) lands here.
          job.reject(new DocumentError('invalid_input', `the request cannot be sent to a render worker: ${(err as Error).message}`));
        }
      }
    }
  }
}
