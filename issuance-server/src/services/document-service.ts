import type { RefusalCode } from '@cert/common';
import { randomBytes } from 'node:crypto';
import { DocumentError } from '../documents/document-error.ts';
import type { MissingGlyph } from '../documents/glyph-coverage.ts';
import type { JuminhyoDocumentInput } from '../documents/juminhyo-document.ts';
import type { ApplicationRecord, StoredDocument } from '../store/application-store.ts';
import type { Tx } from '../store/store.ts';
import { sha256Hex } from './certificate-verifier.ts';

// Crockford-style alphabet without 0/O, 1/I/L, U: unambiguous when typed from paper.
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A fresh verification code like `K7QM-2XWD-9HFA-3TRC` (~78 bits). */
export function newVerificationCode(): string {
  const out: string[] = [];
  while (out.length < 16) {
    for (const b of randomBytes(32)) {
      if (b < 240 && out.length < 16) out.push(CODE_ALPHABET[b % 30]!);
    }
  }
  return out.join('').replace(/(.{4})(?=.)/g, '$1-');
}

/** What a document shows, decided from the register (everything but the issue moment and code). */
export type DocumentContent = { kind: 'juminhyo'; input: Omit<JuminhyoDocumentInput, 'issuedAt' | 'verificationCode' | 'verificationUrl'> };

/** A document to render. */
export type DocumentRequest = { kind: 'juminhyo'; input: JuminhyoDocumentInput };

/** Renders documents off the request path (the RenderPool) and knows which characters its font can draw. */
export interface DocumentRenderer {
  /** Resolves once the renderer can render at full speed (fonts loaded, warmed up). */
  ready(): Promise<void>;
  /** The PDF; rejects with a DocumentError. */
  render(request: DocumentRequest): Promise<Uint8Array>;
  /** Characters (or variation sequences) the font cannot draw; available once ready. */
  readonly coverage: { missingGlyphs(texts: readonly string[]): MissingGlyph[] };
  close(): Promise<void>;
}

/** A document that cannot be produced for this attempt, with the refusal it ends in. */
export class DocumentRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentRefused';
  }
}

/** The render pool cannot take the document now (busy or stopping); the kiosk may fetch again. */
export class RendererBusy extends Error {}

/** The rules allow the document (with its content and the digest of that content), or refuse it. */
export type Preparation =
  | { ok: true; content: DocumentContent; contentSha256: string }
  | { ok: false; code: RefusalCode; message: string };

/** Every string a document content will print, for the glyph check. */
function printedStrings(content: DocumentContent): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(content.input);
  return out;
}

/**
 * Decides, from the register as it is now, whether an application's document may be issued and
 * what it shows; renders it. Called when the application is made, when a kiosk claims it (before
 * the resident is asked to approve) and again before the document is handed to the kiosk.
 */
export class DocumentService {
  constructor(
    private readonly renderer: DocumentRenderer,
    private readonly publicUrl: () => string,
  ) {}

  /** Applies the rules to the current data inside `tx`. */
  async prepare(tx: Tx, app: Pick<ApplicationRecord, 'residentId' | 'certificateType' | 'options' | 'copies'>): Promise<Preparation> {
    const municipality = await tx.residents.municipality();
    const resident = await tx.residents.get(app.residentId);
    if (!municipality || !resident || resident.status === 'moved_out') return { ok: false, code: 'moved_out', message: 'the resident is no longer registered in this municipality' };
    if (resident.status === 'deceased') return { ok: false, code: 'deceased', message: 'the resident is recorded as deceased' };
    if (resident.supportMeasure) {
      // Residents under a DV/stalking support measure are issued in person only, by law and practice.
      return { ok: false, code: 'support_measure', message: 'this certificate can only be issued at the municipal office counter' };
    }
    const household = await tx.residents.activeHousehold(resident.householdId);
    const scope = app.options['scope'] === 'household' ? 'household' : 'self';
    const people = scope === 'household' ? household : [resident];
    const head = household.find((r) => r.relationshipToHead === '世帯主') ?? resident;
    const content: DocumentContent = {
      kind: 'juminhyo',
      input: {
        municipality,
        address: resident.address,
        householdHeadName: head.name,
        entries: people.map((r) => ({
          name: r.name,
          nameKana: r.nameKana,
          birthDate: r.birthDate,
          sex: r.sex,
          relationshipToHead: r.relationshipToHead,
          ...(r.domicile ? { domicile: r.domicile } : {}),
          ...(r.domicileHead ? { domicileHead: r.domicileHead } : {}),
        })),
        options: { scope, includeDomicile: app.options['domicile'] === 'include', includeRelationship: app.options['relationship'] !== 'omit' },
        copies: app.copies,
      },
    };
    const missing = this.renderer.coverage.missingGlyphs(printedStrings(content));
    if (missing.length) {
      // Which characters stays out of the answer and the audit log: they are parts of someone's name.
      return { ok: false, code: 'glyph_missing', message: 'a character of the certificate cannot be printed with the certificate font; ask at the counter' };
    }
    return { ok: true, content, contentSha256: sha256Hex(Buffer.from(JSON.stringify(content))) };
  }

  /**
   * Renders a prepared document as issued at `issuedAt` with a fresh verification code. A
   * worker that died is given the document once more; a document the renderer cannot make ends
   * in DocumentRefused (never a 500 after the resident approved); a full or stopping pool in
   * RendererBusy.
   */
  async render(prep: Extract<Preparation, { ok: true }>, issuedAt: Date): Promise<StoredDocument> {
    const verificationCode = newVerificationCode();
    const verificationUrl = `${this.publicUrl().replace(/\/$/, '')}/verify/${verificationCode}`;
    const request: DocumentRequest = { kind: prep.content.kind, input: { ...prep.content.input, issuedAt, verificationCode, verificationUrl } };
    let bytes: Uint8Array;
    try {
      bytes = await this.renderer.render(request).catch((e: unknown) => {
        if (e instanceof DocumentError && e.code === 'worker_crashed') return this.renderer.render(request);
        throw e;
      });
    } catch (e) {
      if (!(e instanceof DocumentError)) throw e;
      if (e.code === 'queue_full' || e.code === 'pool_closed') throw new RendererBusy(e.message, { cause: e });
      if (e.code === 'glyph_missing') throw new DocumentRefused('glyph_missing', e.message);
      throw new DocumentRefused('document_unavailable', `the document could not be produced (${e.code}); ask at the counter`);
    }
    const pdf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { pdf, sha256: sha256Hex(pdf), verificationCode, inputSha256: prep.contentSha256 };
  }
}
