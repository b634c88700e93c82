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
import { DOCUMENT_KINDS, sampleDocument } from './sample-documents.ts';

// Measured with IPAmj: the first document of a fresh thread takes ~400 ms, the next few dozen 10–50 ms
// while V8 optimises, later ones 6–15 ms. Two rounds through every kind (~0.6 s per worker at
// start-up) load every layout's code and take the worst of it; more would slow every start,
// a crashed worker's replacement included, for a few milliseconds on the first real documents.
const WARM_UP_DOCUMENTS = 2 * DOCUMENT_KINDS.length;

function errorData(err: unknown): DocumentErrorData {
  if (err instanceof DocumentError) return err.toData();
  return { code: 'render_failed', message: err instanceof Error ? err.message : String(err), glyphs: [] };
}

async function start(): Promise<void> {
  const port = parentPort!;
  const reply = (message: RenderWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const { fontPath, hbSubsetWasm } = workerData as RenderWorkerData;
  const font = await openCertificateFont(await readFontBytes(fontPath), hbSubsetWasm);
  for (let i = 0; i < WARM_UP_DOCUMENTS; i++) await renderPdf(documentLayout(sampleDocument(DOCUMENT_KINDS[i % DOCUMENT_KINDS.length]!, 1 + (i % 2))), font);
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
