import type { RefusalCode } from '@cert/common';
import { createHash, randomBytes } from 'node:crypto';
import type { CertificateDocument } from '../documents/certificate-model.ts';
import { DocumentError } from '../documents/document-error.ts';
import type { TextCoverage } from './printable-text.ts';
import { DEFAULT_ERAS, toIsoDateJst } from '../documents/wareki.ts';
import type { ApplicationRecord, StoredDocument } from '../store/application-store.ts';
import { MUNICIPAL_RECORDS_LOCK } from '../store/record-store.ts';
import type { Tx } from '../store/store.ts';
import type { CatalogService } from './catalog.ts';
import { OFFICIAL_SEAL_ASSET } from './catalog.ts';
import { decide, type DocumentContent, type RuleStage } from './certificate-rules.ts';
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

/** Renders documents off the request path (the RenderPool) and knows which characters its font can draw. */
export interface DocumentRenderer {
  /** Resolves once the renderer can render at full speed (fonts loaded, warmed up). */
  ready(): Promise<void>;
  /** The PDF; rejects with a DocumentError. */
  render(request: CertificateDocument): Promise<Uint8Array>;
  /** Characters (or variation sequences) the font cannot draw; available once ready. */
  readonly coverage: TextCoverage;
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

/** What a prepared document needs at render time besides its content. */
interface RenderContext {
  municipality: { code: string; name: string };
  officialSeal: { png: Uint8Array; sizeMm: number } | null;
  eras: { name: string; start: string }[];
}

/** The rules allow the document (with its content and the digest of that content), or refuse it. */
export type Preparation =
  | { ok: true; content: DocumentContent; contentSha256: string; context: RenderContext; copies: number; pinned: Record<string, string> }
  | { ok: false; code: RefusalCode; message: string };

/** Every string a document will print, for the glyph check. */
function printedStrings(content: DocumentContent): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) Object.values(v).forEach(walk);
  };
  walk(content);
  return out;
}

/** A digest of what a document shows (images by their hash), to tell whether the data changed since a render. */
function contentDigest(content: DocumentContent, context: RenderContext, copies: number): string {
  const json = JSON.stringify({ content, context, copies }, (_k, v: unknown) => (v instanceof Uint8Array ? createHash('sha256').update(v).digest('hex') : v));
  return sha256Hex(Buffer.from(json));
}

/** Where an issuance is being printed, for the 発行番号 on every page. */
export interface IssuanceContext {
  issuanceId: string;
  /** The kiosk (端末) printing the document. */
  terminal: string;
}

/**
 * Decides, from the register as it is now, whether an application's document may be issued and
 * what it shows (certificate-rules.ts); renders it. Called when the application is made, when a
 * kiosk claims it (before the resident is asked to approve) and again before the document is
 * handed to the kiosk.
 */
export class DocumentService {
  constructor(
    private readonly renderer: DocumentRenderer,
    private readonly catalog: CatalogService,
    private readonly publicUrl: () => string,
  ) {}

  /** Applies the rules to the current data inside `tx`. */
  async prepare(tx: Tx, app: Pick<ApplicationRecord, 'residentId' | 'certificateType' | 'options' | 'pinned' | 'copies'>, at: number, stage: RuleStage): Promise<Preparation> {
    const config = await this.catalog.config(tx);
    if (!config) return { ok: false, code: 'not_offered', message: 'the server has not been initialised with a municipality' };
    // Waits for a records change being committed on any node; reads what it committed.
    await tx.sql.lockShared(MUNICIPAL_RECORDS_LOCK);
    const decision = await decide(tx, config, app, at, stage);
    if (!decision.ok) return decision;
    const content = decision.content;
    const missing = this.renderer.coverage.missingGlyphs([...printedStrings(content), config.municipality.name]);
    if (missing.length) {
      // Which characters stays out of the answer and the audit log: they are parts of someone's name.
      return { ok: false, code: 'glyph_missing', message: 'a character of the certificate cannot be printed with the certificate font; ask at the counter' };
    }
    const seal = config.officialSeal ? await tx.records.asset(OFFICIAL_SEAL_ASSET) : null;
    const context: RenderContext = {
      municipality: { code: config.municipality.code, name: config.municipality.name },
      officialSeal: seal && config.officialSeal ? { png: new Uint8Array(seal), sizeMm: config.officialSeal.sizeMm } : null,
      eras: (config.eras ?? DEFAULT_ERAS).map((e) => ({ name: e.name, start: e.start })),
    };
    return { ok: true, content, context, copies: app.copies, contentSha256: contentDigest(content, context, app.copies), pinned: decision.pinned };
  }

  /**
   * Renders a prepared document for one issuance as issued at `issuedAt`, with a fresh
   * verification code and 発行番号 serials (one per copy) taken from `tx`. A worker that died
   * is given the document once more; a document the renderer cannot make ends in
   * DocumentRefused (never a 500 after the resident approved); a full or stopping pool in
   * RendererBusy.
   */
  async render(prep: Extract<Preparation, { ok: true }>, issuance: IssuanceContext, issuedAt: Date, firstSerial: number): Promise<StoredDocument> {
    const verificationCode = newVerificationCode();
    const verificationUrl = `${this.publicUrl().replace(/\/$/, '')}/verify/${verificationCode}`;
    const { content, context } = prep;
    const request = {
      kind: content.kind,
      frame: {
        municipality: context.municipality,
        title: content.title,
        subtitle: content.subtitle,
        subject: content.subject,
        issueNumber: { date: toIsoDateJst(issuedAt).replaceAll('-', ''), terminal: issuance.terminal, firstSerial },
        issuanceId: issuance.issuanceId,
        certification: content.certification,
        signer: content.signer,
        officialSeal: context.officialSeal,
        issuedAt,
        verificationCode,
        verificationUrl,
        eras: context.eras,
        copies: prep.copies,
      },
      body: content.body,
    } as CertificateDocument;
    let bytes: Uint8Array;
    try {
      bytes = await this.renderer.render(request).catch((e: unknown) => {
        if (e instanceof DocumentError && e.code === 'worker_crashed') return this.renderer.render(request);
        throw e;
      });
    } catch (e) {
      if (!(e instanceof DocumentError)) throw e;
      if (e.code === 'queue_full' || e.code === 'pool_closed') throw new RendererBusy(e.message, { cause: e });
      if (e.code === 'glyph_missing') throw new DocumentRefused('glyph_missing', 'a character of the certificate cannot be printed with the certificate font');
      throw new DocumentRefused('document_unavailable', `the document could not be produced (${e.code}); ask at the counter`);
    }
    const pdf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { pdf, sha256: sha256Hex(pdf), verificationCode, inputSha256: prep.contentSha256 };
  }
}
