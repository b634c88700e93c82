// Certificate rendering figures: through the render pool for each font, and hb-subset against
// pdf-lib's own subsetting (the pre-pool path) on one thread. Short by default (BENCH_RENDERS).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { PDFDocument } from '@cantoo/pdf-lib';
import { openCertificateFont, type CertificateFont, renderPdf, documentLayout, type DocumentRequest, DEFAULT_FONT_PATH, IPAMJ_FONT_PATH, loadFontBytes, compileHbSubset, pdfFontkit, RenderPool, sampleJuminhyoRequest } from 'issuance-server/documents';
import { quantile } from './bench-stats.ts';

const FONTS = [
  ['IPAex Mincho', DEFAULT_FONT_PATH],
  ['IPAmj Mincho', IPAMJ_FONT_PATH],
] as const;

type Render = (request: DocumentRequest) => Promise<Uint8Array>;

/** A way of rendering, and how long opening its font took. */
interface Contender {
  label: string;
  render: Render;
  opening: number;
}

let serial = 0;
/** The sample household with a fresh verification code, so that no two documents are alike. */
function freshRequest(copies: number): DocumentRequest {
  return sampleJuminhyoRequest(copies, `BNCH-${String(++serial).padStart(4, '0')}-0000-0000`);
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await run();
  return [result, performance.now() - start];
}

/** Prints warm p50/p90 and bytes per page of `renders` documents each, one at a time, the contenders taking turns so that they share whatever else the machine is doing. */
async function printWarm(contenders: Contender[], copies: number, renders: number): Promise<void> {
  const ms = contenders.map((): number[] => []);
  const bytes = contenders.map(() => 0);
  for (let i = 0; i < renders; i++) {
    for (const [c, { render }] of contenders.entries()) {
      const [pdf, t] = await timed(() => render(freshRequest(copies)));
      ms[c]!.push(t);
      bytes[c] = pdf.byteLength;
    }
  }
  for (const [c, { label }] of contenders.entries()) {
    const figures = `warm p50 ${quantile(ms[c]!, 0.5).toFixed(1)} ms, p90 ${quantile(ms[c]!, 0.9).toFixed(1)} ms, ${(bytes[c]! / copies / 1000).toFixed(1)} kB/page`;
    console.log(`  ${label.padEnd(10)}${copies} cop${copies === 1 ? 'y ' : 'ies'}: ${figures}`);
  }
}

// The pre-pool path, for comparison: pdf-lib subsets the whole font through fontkit, the font parsed
// once as DocumentService's renders shared it. Same layout and same glyph check as the pool's.
function pdfLibSubsetting(fontBytes: Uint8Array, coverage: CertificateFont['coverage']): CertificateFont {
  const parsed = pdfFontkit.create(fontBytes);
  const fontkitOnce = { create: () => parsed };
  return {
    coverage,
    embed: (doc: PDFDocument) => {
      doc.registerFontkit(fontkitOnce);
      return doc.embedFont(fontBytes, { subset: true });
    },
  };
}

async function benchPool(name: string, fontPath: string, renders: number): Promise<void> {
  const [pool, start] = await timed(async () => {
    const started = new RenderPool({ fontPath });
    await started.ready();
    return started;
  });
  try {
    const render: Render = (request) => pool.render(request);
    const [, first] = await timed(() => render(freshRequest(1)));
    console.log(`pool, ${name}, ${pool.size} workers: ready after ${start.toFixed(0)} ms (font, hb preprocess, warm-up); first document ${first.toFixed(1)} ms`);
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    for (const copies of [1, 5]) await printWarm([{ label: 'pool', render, opening: start }], copies, renders);
    lag.disable();
    console.log(`  main-thread event-loop delay meanwhile: p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`);
    const burst = pool.size * renders;
    const [, all] = await timed(() => Promise.all(Array.from({ length: burst }, () => render(freshRequest(1)))));
    console.log(`  ${burst} one-page documents at once: ${all.toFixed(0)} ms, ${((burst / all) * 1000).toFixed(0)} documents/s`);
  } finally {
    await pool.close();
  }
}

async function benchSubsetters(name: string, fontPath: string, renders: number): Promise<void> {
  const fontBytes = await loadFontBytes(fontPath);
  const [hb, hbOpening] = await timed(async () => openCertificateFont(fontBytes, await compileHbSubset()));
  const [pdfLib, pdfLibOpening] = await timed(async () => pdfLibSubsetting(fontBytes, hb.coverage));
  const contenders: Contender[] = [
    { label: 'hb-subset', render: (request) => renderPdf(documentLayout(request), hb), opening: hbOpening },
    { label: 'pdf-lib', render: (request) => renderPdf(documentLayout(request), pdfLib), opening: pdfLibOpening },
  ];
  const cold: string[] = [];
  for (const { label, render, opening } of contenders) {
    const [, first] = await timed(() => render(freshRequest(1)));
    cold.push(`${label} ${(opening + first).toFixed(0)} ms (${opening.toFixed(0)} opening the font)`);
  }
  console.log(`one thread, ${name}: cold first document ${cold.join(', ')}`);
  // As the pool's workers do at start: V8 needs a couple of dozen documents to settle.
  for (let i = 0; i < 25; i++) for (const { render } of contenders) await render(freshRequest(1));
  for (const copies of [1, 5]) await printWarm(contenders, copies, renders);
}

/** Prints the document figures for both fonts: pool start, first and warm documents, bytes per page, 1 and 5 copies, and hb-subset against pdf-lib's subsetting. */
export async function benchDocuments(renders = Number(process.env['BENCH_RENDERS'] ?? 30)): Promise<void> {
  for (const [name, path] of FONTS) await benchPool(name, path, renders);
  for (const [name, path] of FONTS) await benchSubsetters(name, path, renders);
}
