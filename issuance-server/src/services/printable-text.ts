// Names and addresses the certificate font cannot draw are refused when the record arrives (CSV
// import or live update), never discovered after a resident approved a print: the record is
// corrected at the counter (外字 registration) first.
import fontkit from '@pdf-lib/fontkit';
import type { RecordChange } from '@cert/common';
import { GlyphCoverage, readCoverage, type MissingGlyph } from '../documents/glyph-coverage.ts';
import { readFontBytes } from '../documents/font-source.ts';

/** Tells which characters of some texts the certificate font cannot draw. */
export interface TextCoverage {
  missingGlyphs(texts: readonly string[]): MissingGlyph[];
}

const coverages = new Map<string, Promise<TextCoverage>>();

/** The coverage of a font file, read once per process on the calling thread (the admin CLI; the server asks its render workers). */
export function fontCoverage(fontPath: string): Promise<TextCoverage> {
  let coverage = coverages.get(fontPath);
  if (!coverage) {
    coverage = readFontBytes(fontPath).then((bytes) => new GlyphCoverage(readCoverage(fontkit.create(bytes))));
    // A failure (font not installed yet) is not remembered.
    coverage.catch(() => coverages.delete(fontPath));
    coverages.set(fontPath, coverage);
  }
  return coverage;
}

type Field = [path: string, text: string | null];

/** Every text of a record change that some certificate prints, with the field it comes from. */
function printedFields(c: RecordChange): Field[] {
  switch (c.kind) {
    case 'resident': {
      const r = c.record;
      return [
        ['name', r.name],
        ['nameKana', r.nameKana],
        ['address', r.address],
        ['addressBuilding', r.addressBuilding],
        ['relationshipToHead', r.relationshipToHead],
        ['domicile', r.domicile],
        ['domicileHead', r.domicileHead],
        ['oldSurname', r.oldSurname],
        ['alias', r.alias],
        ['nationality', r.nationality],
        ['residenceStatus', r.residenceStatus],
      ];
    }
    case 'tax':
      return [
        ['nameOnJan1', c.record.nameOnJan1],
        ['addressOnJan1', c.record.addressOnJan1],
        ['remarks', c.record.remarks],
      ];
    case 'koseki': {
      const k = c.record;
      const events = (prefix: string, evs: typeof k.events): Field[] =>
        evs.flatMap((e, i) => [[`${prefix}events[${i}].type`, e.type] as Field, ...e.fields.map(([label, value], j): Field => [`${prefix}events[${i}].fields[${j}]`, `${label}${value}`])]);
      return [
        ['honseki', k.honseki],
        ['headSurname', k.headSurname],
        ['headGivenName', k.headGivenName],
        ...events('', k.events),
        ...k.members.flatMap((m): Field[] => {
          const p = `member ${m.seq} `;
          return [
            [`${p}surname`, m.surname],
            [`${p}givenName`, m.givenName],
            [`${p}surnameKana`, m.surnameKana],
            [`${p}givenNameKana`, m.givenNameKana],
            [`${p}father`, m.father],
            [`${p}mother`, m.mother],
            [`${p}relationship`, m.relationship],
            [`${p}adoptiveFather`, m.adoptiveFather],
            [`${p}adoptiveMother`, m.adoptiveMother],
            [`${p}adoptiveRelationship`, m.adoptiveRelationship],
            ...events(p, m.events),
            ...m.fuhyo.map((a, i): Field => [`${p}fuhyo[${i}].address`, a.address]),
          ];
        }),
      ];
    }
    case 'seal':
    case 'koseki-registration':
      return [];
  }
}

/** One message per field of `change` holding a character the font cannot draw, naming the field, the character and its code point. */
export function unprintableFields(change: RecordChange, coverage: TextCoverage): string[] {
  const problems: string[] = [];
  for (const [path, text] of printedFields(change)) {
    if (!text) continue;
    const missing = coverage.missingGlyphs([text]);
    if (missing.length) problems.push(`${path}: ${missing.map((g) => `「${g.char}」 (${g.codePoint})`).join(', ')} cannot be printed with the certificate font; register the character (外字) first`);
  }
  return problems;
}
