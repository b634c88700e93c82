// 住民票の写し and 住民票記載事項証明書 in the 世帯連記式: on each page the address (with its 方書)
// and the 世帯主, then up to 4 persons (certificates.md §0), each a ruled box of the items the
// request carries. What the resident left out is null in the request and gets no row at all; the
// 写し also says what it omits, as the counter's does.
import type { JuminhyoBody } from './certificate-model.ts';
import { LAST_PAGE_ROOM, LEFT, type Block, type CertificateBody } from './certificate-page.ts';
import { SEX_TEXT, fullAddress, itemRows, rowsBlock, withSpaceBelow, type Item } from './layout-kit.ts';
import { birthDateText, toSeireki, toWareki, type EraEntry } from './wareki.ts';

const PERSONS_PER_PAGE = 4;
const LABEL_W = 84;
const GAP = 6;
const NAME_SIZE = 11;
const NOTE_H = 14;
/** Rows never shrink below this share of their height to keep 4 persons on a page. */
const MIN_SCALE = 0.8;

type Person = JuminhyoBody['persons'][number];

function personItems(person: Person, showDomicile: boolean, eras: readonly EraEntry[]): Item[] {
  const items: Item[] = [{ label: '氏名', value: person.name, ruby: person.nameKana, full: true, size: NAME_SIZE }];
  const add = (label: string, value: string | null, full = false) => {
    if (value) items.push({ label, value, full });
  };
  add('生年月日', birthDateText(person.birthDate, person.foreign, eras));
  add('性別', SEX_TEXT[person.sex]);
  add('旧氏', person.oldSurname);
  add('通称', person.alias);
  add('続柄', person.relationship);
  add('住民となった年月日', person.residentSince && toWareki(person.residentSince, eras));
  add('住所を定めた年月日', person.addressSince && toWareki(person.addressSince, eras));
  add('国籍・地域', person.nationality);
  add('在留資格', person.residenceStatus);
  // Like the date of birth, a foreign resident's 在留期間満了日 prints in 西暦 (STD-90).
  add('在留期間満了日', person.residenceExpiry && toSeireki(person.residenceExpiry));
  add('在留カード番号', person.residenceCardNumber);
  if (showDomicile) {
    add('本籍', person.domicile, true);
    add('筆頭者', person.domicileHead, true);
  }
  return items;
}

/** The omissions a 住民票の写し states under its header. */
function omissionNote(body: JuminhyoBody): string {
  const notes: string[] = [];
  if (!body.householdHead && body.persons.every((p) => !p.relationship)) notes.push('世帯主・続柄の記載省略');
  if (!body.showDomicile) notes.push('本籍・筆頭者の記載省略');
  // The kiosk never prints them (domain.md §1.2): the model has no field for either.
  notes.push('住民票コード・個人番号の記載省略');
  return notes.join('　');
}

function headerBlock(body: JuminhyoBody, note: string | null): Block {
  const items: Item[] = [{ label: '住所', value: fullAddress(body.address, body.addressBuilding), full: true }];
  if (body.householdHead) items.push({ label: '世帯主', value: body.householdHead, full: true });
  const table = rowsBlock(itemRows(items, LABEL_W));
  return {
    height: table.height + (note ? NOTE_H : 0) + GAP,
    draw(canvas, top) {
      table.draw(canvas, top);
      if (note) canvas.text(note, LEFT + 4, top - table.height - 11, 8);
    },
  };
}

/** The body of a 住民票の写し (`withOmissionNote`) or a 記載事項証明書: a page per 4 persons, the header repeated on each. */
export function juminhyoBody(body: JuminhyoBody, eras: readonly EraEntry[], withOmissionNote: boolean): CertificateBody {
  const header = headerBlock(body, withOmissionNote ? omissionNote(body) : null);
  const persons = body.persons.map((person) => itemRows(personItems(person, body.showDomicile, eras), LABEL_W));
  // One scale for every person of the document, so that all rows are alike and 4 persons fit above the last page's footer.
  const tallest = Math.max(...persons.map((rows) => rows.reduce((sum, row) => sum + row.height, 0)));
  const room = (LAST_PAGE_ROOM - header.height) / PERSONS_PER_PAGE - GAP;
  const scale = Math.max(MIN_SCALE, Math.min(1, room / tallest));
  const blocks: Block[] = [];
  persons.forEach((rows, i) => {
    if (i % PERSONS_PER_PAGE === 0) blocks.push({ ...header, breakBefore: i > 0 });
    blocks.push(withSpaceBelow(rowsBlock(rows, scale), GAP));
  });
  return { blocks };
}
