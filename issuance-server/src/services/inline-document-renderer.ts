// Renders on the calling thread. Stand-in until the worker pool of documents/ takes over.
import { loadFontBytes } from '../documents/font-source.ts';
import { pdfFontkit } from '../documents/pdf-fontkit.ts';
import type { DocumentRenderer, DocumentRequest } from './document-service.ts';

/** A renderer on the main thread over one font file. */
export class InlineDocumentRenderer implements DocumentRenderer {
  private charset: Set<number> | null = null;
  private fontBytes: Uint8Array | null = null;

  constructor(private readonly fontPath: string) {}

  async ready(): Promise<void> {
    this.fontBytes = await loadFontBytes(this.fontPath);
    const font = pdfFontkit.create(this.fontBytes) as unknown as { characterSet: number[] };
    this.charset = new Set(font.characterSet);
    // One throwaway render loads pdf-lib and parses the font, so the first resident does not wait for it.
    await this.render({
      kind: 'juminhyo',
      input: {
        municipality: { code: '000000', name: '試験' },
        address: '試験',
        householdHeadName: '試験',
        entries: [{ name: '試験', nameKana: 'シケン', birthDate: '2000-01-01', sex: '9', relationshipToHead: '本人' }],
        options: { scope: 'self', includeDomicile: false, includeRelationship: true },
        copies: 1,
        issuedAt: new Date(0),
        verificationCode: 'TEST',
        verificationUrl: 'http://localhost/verify/TEST',
      },
    });
  }

  async render(request: DocumentRequest): Promise<Uint8Array> {
    const { renderJuminhyo } = await import('../documents/juminhyo-document.ts');
    return renderJuminhyo(request.input, this.fontBytes ?? (await loadFontBytes(this.fontPath)));
  }

  missingGlyphs(texts: readonly string[]): { char: string; codePoint: string }[] {
    if (!this.charset) throw new Error('the renderer is not ready');
    const missing = new Map<string, string>();
    for (const t of texts) {
      for (const ch of t) {
        const cp = ch.codePointAt(0)!;
        if (!this.charset.has(cp)) missing.set(ch, `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`);
      }
    }
    return [...missing].map(([char, codePoint]) => ({ char, codePoint }));
  }

  async close(): Promise<void> {}
}
