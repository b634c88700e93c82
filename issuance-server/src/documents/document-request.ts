// The document kinds the render workers know. A request crosses the thread boundary by structured
// clone and is checked here, in the worker, so that a malformed one comes back as invalid_input.
import { z } from 'zod';
import { DocumentError } from './document-error.ts';
import type { DocumentLayout } from './document-pdf.ts';
import { juminhyoDocumentInputSchema, juminhyoLayout } from './juminhyo-document.ts';

const documentRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('juminhyo'), input: juminhyoDocumentInputSchema }),
]);
/** A request for one document: its kind and that kind's input. */
export type DocumentRequest = z.infer<typeof documentRequestSchema>;

/** The layout a request asks for; DocumentError invalid_input when it is not a valid request. */
export function documentLayout(request: unknown): DocumentLayout {
  const parsed = documentRequestSchema.safeParse(request);
  if (!parsed.success) throw new DocumentError('invalid_input', `invalid document request: ${z.prettifyError(parsed.error)}`);
  switch (parsed.data.kind) {
    case 'juminhyo':
      return juminhyoLayout(parsed.data.input);
  }
}
