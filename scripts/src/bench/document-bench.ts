// Certificate rendering figures with the default certificate font (IPAmj Mincho): each kind of
// document on one thread (first and warm times, bytes per document and per page), then the render
// pool (start-up, a burst of every kind at once, the main thread's event-loop delay meanwhile).
// BENCH_RENDERS warm renders per kind (30 by default), 5 with BENCH_QUICK=1.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DOCUMENT_KINDS, RenderPool, certificateFontFor, documentLayout, loadFontBytes, renderPdf, sampleDocument, type DocumentRequest } from 'issuance-server/documents';
import { quantile } from './bench-stats.ts';

type Kind = DocumentRequest['kind'];

let serial = 0;
/** A sample document of `kind` with a fresh verification code, so that no two documents are alike. */
function freshRequest(kind: Kind, copies = 1): DocumentRequest {
  return sampleDocument(kind, copies, `BNCH-${String(++serial).padStart(4, '0')}-0000-0000`);
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await run();
  return [result, performance.now() - start];
}

/** Prints, per kind, the first and warm render times and the size of a one-copy document, rendered one at a time on this thread. */
async function benchKinds(renders: number): Promise<void> {
  const [font, opening] = await timed(async () => certificateFontFor(await loadFontBytes()));
  const render = (request: DocumentRequest) => renderPdf(documentLayout(request), font);
  console.log(`documents on one thread, IPAmj Mincho (opened in ${opening.toFixed(0)} ms), ${renders} warm renders per kind:`);
  console.log(`  ${'kind'.padEnd(15)}${'pages'.padStart(6)}${'first ms'.padStart(10)}${'warm p50'.padStart(10)}${'warm p95'.padStart(10)}${'bytes/doc'.padStart(11)}${'bytes/page'.padStart(12)}`);
  for (const kind of DOCUMENT_KINDS) {
    const [pdf, first] = await timed(() => render(freshRequest(kind)));
    const ms: number[] = [];
    for (let i = 0; i < renders; i++) ms.push((await timed(() => render(freshRequest(kind))))[1]);
    const pages = documentLayout(freshRequest(kind)).pageCount;
    const row = [String(pages).padStart(6), first.toFixed(1).padStart(10), quantile(ms, 0.5).toFixed(1).padStart(10), quantile(ms, 0.95).toFixed(1).padStart(10)];
    console.log(`  ${kind.padEnd(15)}${row.join('')}${String(pdf.byteLength).padStart(11)}${String(Math.round(pdf.byteLength / pages)).padStart(12)}`);
  }
}

/** Prints the pool's start-up, its first document, and a burst of every kind at once with the main thread's event-loop delay. */
async function benchPool(renders: number): Promise<void> {
  const [pool, start] = await timed(async () => {
    const started = new RenderPool();
    await started.ready();
    return started;
  });
  try {
    const [, first] = await timed(() => pool.render(freshRequest('juminhyo')));
    console.log(`pool, IPAmj Mincho, ${pool.size} workers: ready after ${start.toFixed(0)} ms (font, hb preprocess, warm-up); first document ${first.toFixed(1)} ms`);
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const burst = Array.from({ length: pool.size * renders }, (_, i) => freshRequest(DOCUMENT_KINDS[i % DOCUMENT_KINDS.length]!));
    const [, all] = await timed(() => Promise.all(burst.map((request) => pool.render(request))));
    lag.disable();
    console.log(`  ${burst.length} documents of every kind at once: ${all.toFixed(0)} ms, ${((burst.length / all) * 1000).toFixed(0)} documents/s`);
    console.log(`  main-thread event-loop delay meanwhile: p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`);
  } finally {
    await pool.close();
  }
}

/** Prints the document figures: per kind on one thread, then through the render pool. */
export async function benchDocuments(renders = process.env['BENCH_QUICK'] === '1' ? 5 : Number(process.env['BENCH_RENDERS'] ?? 30)): Promise<void> {
  await benchKinds(renders);
  await benchPool(renders);
}
