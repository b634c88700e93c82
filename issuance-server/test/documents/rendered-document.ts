// Certificate documents rendered on the test's thread with the default font (opened once per
// process), written to a directory and read back with pdftotext, and checks on that text.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateDocument } from '../../src/documents/certificate-model.ts';
import { certificateFontFor } from '../../src/documents/certificate-font.ts';
import { renderPdf } from '../../src/documents/document-pdf.ts';
import { documentLayout } from '../../src/documents/document-request.ts';
import { loadFontBytes } from '../../src/documents/font-source.ts';
import { pdfText } from './pdf-tools.ts';

/** A rendered document: its file, bytes, and text as a whole and per page. */
export interface RenderedDocument {
  path: string;
  bytes: Uint8Array;
  text: string;
  pages: string[];
}

/** The PDF of `request`, rendered as a worker would (schema check, layout, the default font). */
export async function renderRequest(request: unknown): Promise<Uint8Array> {
  return renderPdf(documentLayout(request), await certificateFontFor(await loadFontBytes()));
}

/** Renders `request` to `dir/name.pdf` and extracts its text. */
export async function renderDocument(dir: string, name: string, request: CertificateDocument): Promise<RenderedDocument> {
  const bytes = await renderRequest(request);
  const path = join(dir, `${name}.pdf`);
  writeFileSync(path, bytes);
  const text = await pdfText(path);
  // pdftotext ends every page with a form feed.
  return { path, bytes, text, pages: text.split('\f').slice(0, -1) };
}

/** Runs of white space (ideographic spaces and table gaps included) as one space. */
export function squeezed(text: string): string {
  return text.replace(/[\s\u3000]+/g, ' ');
}

/** Whether `text` holds `s`, white space aside. */
export function holds(text: string, s: string): boolean {
  return squeezed(text).includes(squeezed(s));
}

/** Asserts that `strings` appear in `text` in this order (white space aside). */
export function assertInOrder(text: string, strings: readonly string[]): void {
  const haystack = squeezed(text);
  let from = 0;
  for (const s of strings) {
    const at = haystack.indexOf(squeezed(s), from);
    assert.ok(at >= 0, `${JSON.stringify(s)} missing after position ${from} of:\n${text}`);
    from = at + squeezed(s).length;
  }
}

/** How often `s` occurs in `text` (white space aside). */
export function occurrences(text: string, s: string): number {
  return squeezed(text).split(squeezed(s)).length - 1;
}
