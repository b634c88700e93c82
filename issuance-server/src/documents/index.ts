/** The certificate documents: the render pool, requests and errors, fonts, and the pieces the document benchmark measures. */
export * from './certificate-font.ts';
export * from './document-error.ts';
export * from './document-pdf.ts';
export * from './document-request.ts';
export * from './font-source.ts';
export * from './glyph-coverage.ts';
export * from './hb-subset.ts';
export * from './pdf-fontkit.ts';
export * from './render-pool.ts';
export * from './sample-documents.ts';
