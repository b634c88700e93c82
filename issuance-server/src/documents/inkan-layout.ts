// 印鑑登録証明書: the 印影 frame, 30 mm square and headed 「印影」, with the registered impression
// centred in it at its physical size, never scaled to the frame, since recipients compare it with
// a stamped document by laying one over the other (certificates.md §8); beside it the registrant;
// below, the address and the 備考.
import type { InkanBody } from './certificate-model.ts';
import { LEFT, MM, type CertificateBody } from './certificate-page.ts';
import { SEX_TEXT, fullAddress, itemRows, rowsBlock, tableRow, type Item } from './layout-kit.ts';
import { birthDateText, type EraEntry } from './wareki.ts';

const FRAME = 30 * MM;
const FRAME_HEAD = 16;
const LABEL_W = 70;

/** The body of a 印鑑登録証明書. */
export function inkanBody(body: InkanBody, eras: readonly EraEntry[]): CertificateBody {
  const person: Item[] = [{ label: '氏名', value: body.name, full: true, size: 11 }];
  // A 旧氏 on the 住民票 is always printed (since 2019-11-05); it cannot be omitted.
  if (body.oldSurname) person.push({ label: '旧氏', value: body.oldSurname, full: true });
  if (body.alias) person.push({ label: '通称', value: body.alias, full: true });
  person.push({ label: '生年月日', value: birthDateText(body.birthDate, body.foreign, eras), full: true });
  if (body.sex) person.push({ label: '性別', value: SEX_TEXT[body.sex], full: true });
  const personRows = itemRows(person, LABEL_W, LEFT + FRAME);
  const beside = rowsBlock(personRows, (FRAME_HEAD + FRAME) / personRows.reduce((sum, row) => sum + row.height, 0), LEFT + FRAME);
  const below = rowsBlock(
    itemRows(
      [
        { label: '住所', value: fullAddress(body.address, body.addressBuilding), full: true },
        { label: '備考', value: body.remarks.join('\n'), full: true },
      ],
      FRAME,
    ),
  );
  const { seal } = body;
  return {
    blocks: [
      {
        height: FRAME_HEAD + FRAME,
        draw(canvas, top) {
          tableRow(canvas, top, FRAME_HEAD, [{ width: FRAME, text: '印影', label: true }]);
          tableRow(canvas, top - FRAME_HEAD, FRAME, [{ width: FRAME, text: '' }]);
          const [width, height] = [seal.widthMm * MM, seal.heightMm * MM];
          canvas.image(seal.png, LEFT + (FRAME - width) / 2, top - FRAME_HEAD - (FRAME + height) / 2, width, height);
          beside.draw(canvas, top);
        },
      },
      below,
    ],
  };
}
