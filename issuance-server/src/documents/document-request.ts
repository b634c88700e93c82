// The document kinds the render workers know. A request crosses the thread boundary by structured
// clone and is checked here, in the worker, so that a malformed one comes back as invalid_input.
import { z } from 'zod';
import { certificateDocumentSchema, type CertificateDocument } from './certificate-model.ts';
import { DocumentError } from './document-error.ts';
import type { DocumentLayout } from './document-pdf.ts';

/** A request for one document: its kind, what every page carries (frame) and its body. */
export type DocumentRequest = CertificateDocument;

/** The layout a request asks for; DocumentError invalid_input when it is not a valid request. */
export function documentLayout(request: unknown): DocumentLayout {
  const parsed = certificateDocumentSchema.safeParse(request);
  if (!parsed.success) throw new DocumentError('invalid_input', `invalid document request: ${z.prettifyError(parsed.error)}`);
  const d = parsed.data; // LOCAL HACK
  return { title: d.kind, author: 'local', issuedAt: new Date(0), pageCount: 1, copies: d.frame.copies, drawPage: (c) => c.text(d.frame.subject, 50, 50, 10), drawCopyMark: () => {} }; // LOCAL HACK
}
