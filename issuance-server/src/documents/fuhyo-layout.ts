// 戸籍の附票の写し (certificates.md §5): 本籍 and 筆頭者 when asked for (each person then shows only
// the 名) or the note that they are left out, then per person, in 戸籍 order, the name with a 除籍
// mark when they have left, the date of birth and sex where the 附票 records them, and the history
// of addresses while in this 戸籍, oldest first, one row per address.
import type { FuhyoBody } from './certificate-model.ts';
import { LEFT, RIGHT, RULE, WIDTH, type Block, type CertificateBody } from './certificate-page.ts';
import { SEX_TEXT, itemRows, rowHeight, rowsBlock, tableRow, withSpaceBelow, wrapValue, type Item } from './layout-kit.ts';
import { birthDateText, toWareki, type EraEntry } from './wareki.ts';

type Person = FuhyoBody['persons'][number];

const LABEL_W = 84;
const DATE_W = 130;
const GAP = 8;
const NOTE_H = 16;

function personBlocks(person: Person, nameOnly: boolean, eras: readonly EraEntry[]): Block[] {
  const items: Item[] = [{ label: nameOnly ? '名' : '氏名', value: person.name, full: true, size: 11 }];
  if (person.birthDate) items.push({ label: '生年月日', value: birthDateText(person.birthDate, person.foreign, eras) });
  if (person.sex) items.push({ label: '性別', value: SEX_TEXT[person.sex] });
  const table = rowsBlock(itemRows(items, LABEL_W));
  const nameRowH = rowHeight(1);
  const head: Block = {
    height: table.height + rowHeight(1),
    draw(canvas, top) {
      table.draw(canvas, top);
      if (person.removed) {
        canvas.rect({ x: RIGHT - 64, y: top - nameRowH + 3, width: 56, height: nameRowH - 6, borderColor: RULE, borderWidth: 0.8 });
        canvas.text('除　籍', RIGHT - 36, top - nameRowH + 6, 9.5, { align: 'center' });
      }
      tableRow(canvas, top - table.height, rowHeight(1), [
        { width: WIDTH - DATE_W, text: '住所', label: true },
        { text: '住所を定めた年月日', label: true },
      ]);
    },
  };
  const addresses = person.addresses.map(({ address, since }): Block => {
    const cells = [{ width: WIDTH - DATE_W, text: wrapValue(address, WIDTH - DATE_W) }, { text: toWareki(since, eras) }];
    const height = rowHeight(cells[0]!.text.length);
    return { height, draw: (canvas, top) => tableRow(canvas, top, height, cells) };
  });
  const blocks = [head, ...addresses];
  blocks.push(withSpaceBelow(blocks.pop()!, GAP));
  return blocks;
}

function headerBlock(body: FuhyoBody): Block {
  if (body.honseki === null) return { height: NOTE_H, draw: (canvas, top) => canvas.text('本籍・筆頭者の記載省略', LEFT + 4, top - 11, 9) };
  const items: Item[] = [
    { label: '本籍', value: body.honseki, full: true },
    { label: '筆頭者氏名', value: body.headName ?? '', full: true },
  ];
  return withSpaceBelow(rowsBlock(itemRows(items, LABEL_W)), GAP);
}

/** The body of a 戸籍の附票の写し. */
export function fuhyoBody(body: FuhyoBody, eras: readonly EraEntry[]): CertificateBody {
  return { blocks: [headerBlock(body), ...body.persons.flatMap((person) => personBlocks(person, body.honseki !== null, eras))] };
}
