// Why a document could not be rendered, in a form that survives the trip from a render worker:
// structured clone keeps an Error's message but drops its own fields, so the code and the
// offending characters travel as plain data and become a DocumentError again on the main thread.
import type { MissingGlyph } from './glyph-coverage.ts';

/** Stable reasons for a failed render; callers branch on these, never on messages. */
export type DocumentErrorCode =
  /** The font cannot draw a character (or variation sequence) of the document; see `glyphs`. */
  | 'glyph_missing'
  /** The request does not describe a printable document (schema, copies, dates …). */
  | 'invalid_input'
  /** Anything else that went wrong inside the renderer: a bug, not the caller's fault. */
  | 'render_failed'
  /** The worker rendering this request died; the pool has started a replacement. */
  | 'worker_crashed'
  /** Too many requests are already waiting for a worker. */
  | 'queue_full'
  /** The pool was closed, or never came up, before the request could be rendered. */
  | 'pool_closed';

/** A render failure as plain data, the form in which it crosses the thread boundary. */
export interface DocumentErrorData {
  code: DocumentErrorCode;
  message: string;
  glyphs: MissingGlyph[];
}

/** A document that could not be rendered, with a stable code and, for glyph_missing, the characters. */
export class DocumentError extends Error {
  constructor(
    readonly code: DocumentErrorCode,
    message: string,
    readonly glyphs: MissingGlyph[] = [],
  ) {
    super(message);
    this.name = 'DocumentError';
  }

  /** The error as plain data for postMessage. */
  toData(): DocumentErrorData {
    return { code: this.code, message: this.message, glyphs: this.glyphs };
  }

  /** The error again, from the data a worker sent. */
  static fromData(data: DocumentErrorData): DocumentError {
    return new DocumentError(data.code, data.message, data.glyphs);
  }
}
