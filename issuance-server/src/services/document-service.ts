import { randomBytes } from 'node:crypto';
import type { ResidentStore } from '../store/resident-store.ts';
import type { ApplicationRecord } from '../store/application-store.ts';
import { loadFontBytes } from '../documents/font-source.ts';
import type { JuminhyoEntry } from '../documents/juminhyo-document.ts';
import { sha256Hex } from './certificate-verifier.ts';
import { ServiceError } from './service-error.ts';

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

/** A rendered certificate ready for delivery. */
export interface RenderedDocument {
  pdf: Buffer;
  sha256: string;
  verificationCode: string;
}

/** Renders certificate documents from the register. */
export class DocumentService {
  constructor(
    private readonly residents: ResidentStore,
    private readonly fontPath: string,
    private readonly publicUrl: () => string,
  ) {}

  /** Renders the document an application asks for, as of `issuedAt`. */
  async render(app: ApplicationRecord, issuedAt: Date): Promise<RenderedDocument> {
    const municipality = this.residents.municipality();
    const resident = this.residents.get(app.residentId);
    if (!municipality || !resident) throw new ServiceError('invalid_state', 'the register no longer holds this resident');
    if (app.certificateType !== 'juminhyo') throw new ServiceError('invalid_state', `cannot render ${app.certificateType}`);
    const household = this.residents.activeHousehold(resident.householdId);
    const scope = app.options['scope'] === 'household' ? 'household' : 'self';
    const people = scope === 'household' ? household : [resident];
    const head = household.find((r) => r.relationshipToHead === '世帯主') ?? resident;
    const entries: JuminhyoEntry[] = people.map((r) => ({
      name: r.name,
      nameKana: r.nameKana,
      birthDate: r.birthDate,
      sex: r.sex,
      relationshipToHead: r.relationshipToHead,
      ...(r.domicile ? { domicile: r.domicile } : {}),
      ...(r.domicileHead ? { domicileHead: r.domicileHead } : {}),
    }));
    const verificationCode = newVerificationCode();
    // Loaded on first render: pdf-lib and fontkit take about half a second to load, which every
    // admin CLI command (they build the same context) would otherwise pay for nothing.
    const { renderJuminhyo } = await import('../documents/juminhyo-document.ts');
    const pdf = Buffer.from(
      await renderJuminhyo(
        {
          municipality,
          address: resident.address,
          householdHeadName: head.name,
          entries,
          options: { scope, includeDomicile: app.options['domicile'] === 'include', includeRelationship: app.options['relationship'] !== 'omit' },
          copies: app.copies,
          issuedAt,
          verificationCode,
          verificationUrl: `${this.publicUrl().replace(/\/$/, '')}/verify/${verificationCode}`,
        },
        await loadFontBytes(this.fontPath),
      ),
    );
    return { pdf, sha256: sha256Hex(pdf), verificationCode };
  }
}
