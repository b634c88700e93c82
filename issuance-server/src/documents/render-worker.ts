// A render worker: opens the certificate font once, renders one warm-up document so that the first
// real one does not pay for parsing, JIT and lazy loading, then renders requests one at a time.
// Started by RenderPool; see there for how the code gets here under tsx and in a bundle.
import { parentPort, workerData } from 'node:worker_threads';
import { openCertificateFont } from './certificate-font.ts';
import { DocumentError, type DocumentErrorData } from './document-error.ts';
import { renderPdf } from './document-pdf.ts';
import { documentLayout } from './document-request.ts';
import { readFontBytes } from './font-source.ts';
import type { RenderWorkerData, RenderWorkerReply } from './render-protocol.ts';
import { sampleJuminhyoRequest } from './sample-documents.ts';

function errorData(err: unknown): DocumentErrorData {
  if (err instanceof DocumentError) return err.toData();
  return { code: 'render_failed', message: err instanceof Error ? err.message : String(err), glyphs: [] };
}

async function start(): Promise<void> {
  const port = parentPort!;
  const reply = (message: RenderWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const { fontPath, hbSubsetWasm } = workerData as RenderWorkerData;
  const font = await openCertificateFont(await readFontBytes(fontPath), hbSubsetWasm);
  await renderPdf(documentLayout(sampleJuminhyoRequest(2)), font);
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
