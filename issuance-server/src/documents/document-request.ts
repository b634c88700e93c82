// The document kinds the render workers know. A request crosses the thread boundary by structured
// clone and is checked here, in the worker, so that a malformed one comes back as invalid_input.
import { z } from 'zod';
import { certificateDocumentSchema, type CertificateDocument } from './certificate-model.ts';
import { certificateLayout, type CertificateBody } from './certificate-page.ts';
import { DocumentError } from './document-error.ts';
import type { DocumentLayout } from './document-pdf.ts';
import { fuhyoBody } from './fuhyo-layout.ts';
import { inkanBody } from './inkan-layout.ts';
import { juminhyoBody } from './juminhyo-layout.ts';
import { kazeiBody } from './kazei-layout.ts';
import { kosekiBody } from './koseki-layout.ts';

/** A request for one document: its kind, what every page carries (frame) and its body. */
export type DocumentRequest = CertificateDocument;

function bodyOf(request: CertificateDocument): CertificateBody {
  const { eras } = request.frame;
  switch (request.kind) {
    case 'juminhyo':
      return juminhyoBody(request.body, eras, true);
    case 'juminhyo_kisai':
      return juminhyoBody(request.body, eras, false);
    case 'inkan':
      return inkanBody(request.body, eras);
    case 'kazei':
      return kazeiBody(request.body, eras);
    case 'koseki_zenbu':
    case 'koseki_kojin':
      return kosekiBody(request.body, eras);
    case 'koseki_fuhyo':
      return fuhyoBody(request.body, eras);
  }
}

/** The layout a request asks for; DocumentError invalid_input when it is not a valid request or holds a date the era table cannot name. */
export function documentLayout(request: unknown): DocumentLayout {
  const parsed = certificateDocumentSchema.safeParse(request);
  if (!parsed.success) throw new DocumentError('invalid_input', `invalid document request: ${z.prettifyError(parsed.error)}`);
  try {
    return certificateLayout(parsed.data.frame, bodyOf(parsed.data));
  } catch (err) {
    // Every date is converted here, before rendering: one before the first era (or no such day) is the request's fault.
    if (err instanceof RangeError) throw new DocumentError('invalid_input', err.message);
    throw err;
  }
}
