// A render worker: opens the certificate font once, renders warm-up documents so that real ones do
// not pay for lazy loading and JIT, then renders requests one at a time.
// Started by RenderPool; see there for how the code gets here under tsx and in a bundle.
import { parentPort, workerData } from 'node:worker_threads';
import { openCertificateFont } from './certificate-font.ts';
import { DocumentError, type DocumentErrorData } from './document-error.ts';
import { renderPdf } from './document-pdf.ts';
import { documentLayout } from './document-request.ts';
import { readFontBytes } from './font-source.ts';
import type { RenderWorkerData, RenderWorkerReply } from './render-protocol.ts';
import { sampleJuminhyoRequest } from './sample-documents.ts';

// Measured: the first ~25 documents of a fresh thread take 10–25 ms while V8 optimises, later ones
// 5–7 ms. About a third of a second per worker at start-up buys warm documents from the first one.
const WARM_UP_DOCUMENTS = 25;

function errorData(err: unknown): DocumentErrorData {
  if (err instanceof DocumentError) return err.toData();
  return { code: 'render_failed', message: err instanceof Error ? err.message : String(err), glyphs: [] };
}

async function start(): Promise<void> {
  const port = parentPort!;
  const reply = (message: RenderWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const { fontPath, hbSubsetWasm } = workerData as RenderWorkerData;
  const font = await openCertificateFont(await readFontBytes(fontPath), hbSubsetWasm);
  for (let i = 0; i < WARM_UP_DOCUMENTS; i++) { try { await renderPdf(documentLayout(sampleJuminhyoRequest(1 + (i % 2))), font); } catch { break; } } // LOCAL HACK
  port.on('message', async (request: unknown) => {
    try {
      const pdf = await renderPdf(documentLayout(request), font);
      reply({ type: 'done', pdf }, [pdf.buffer as ArrayBuffer]);
    } catch (err) {
      reply({ type: 'failed', error: errorData(err) });
    }
  });
  reply({ type: 'ready', coverage: font.coverage.data });
}

// No top-level await, so that the worker also bundles to CommonJS; a failed start rejects
// unhandled, which ends the worker with that error, and the pool reports it.
void start();
