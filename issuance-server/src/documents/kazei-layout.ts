// 課税証明書 / 非課税証明書 (certificates.md §3): the taxpayer as on 1 January, then the amounts in
// tables on one six-column grid, so that every vertical rule of the page lines up: income,
// deductions, dependants, taxable base and tax. An amount that was not declared (null) prints
// 「*」; a person with no tax due gets the 非課税 statement under the tax.
import type { TAX_COUNT_FIELDS, TaxAmountField } from '@cert/common';
import type { KazeiBody } from './certificate-model.ts';
import { RIGHT, WIDTH, type Block, type CertificateBody } from './certificate-page.ts';
import { SEX_TEXT, itemRows, rowsBlock, tableRow, withSpaceBelow, type Cell } from './layout-kit.ts';
import { birthDateText, type EraEntry } from './wareki.ts';

const COL = WIDTH / 6;
const HEAD_H = 14;
const LABEL_ROW_H = 12;
const VALUE_ROW_H = 15;
const GAP = 5;
const UNIT_H = 12;

type CountField = (typeof TAX_COUNT_FIELDS)[number];
/** A column of a table: its label, what it shows, and how many grid columns it spans (1 by default). */
type Column = { label: string; span?: number } & ({ amount: TaxAmountField } | { count: CountField } | { spouse: true });

/** Each section: its heading and its rows of columns (6 grid columns a row). */
const SECTIONS: { heading: string; rows: Column[][] }[] = [
  {
    heading: '所得の状況',
    rows: [
      [
        { label: '給与収入', amount: 'salaryRevenue' },
        { label: '給与所得', amount: 'salaryIncome' },
        { label: '公的年金等収入', amount: 'pensionRevenue' },
        { label: '公的年金等所得', amount: 'pensionIncome' },
        { label: '営業等所得', amount: 'businessIncome' },
        { label: '農業所得', amount: 'agricultureIncome' },
      ],
      [
        { label: '不動産所得', amount: 'realEstateIncome' },
        { label: '配当所得', amount: 'dividendIncome' },
        { label: '利子所得', amount: 'interestIncome' },
        { label: '雑所得(その他)', amount: 'miscIncome' },
        { label: '総合譲渡・一時所得', amount: 'capitalOccasionalIncome' },
        { label: '分離課税の所得', amount: 'separateTaxIncome' },
      ],
      [
        { label: '合計所得金額', amount: 'totalIncome', span: 3 },
        { label: '総所得金額等', amount: 'totalIncomeEtc', span: 3 },
      ],
    ],
  },
  {
    heading: '所得控除額の内訳',
    rows: [
      [
        { label: '社会保険料', amount: 'dedSocialInsurance' },
        { label: '小規模企業共済等掛金', amount: 'dedSmallBizMutual' },
        { label: '生命保険料', amount: 'dedLifeInsurance' },
        { label: '地震保険料', amount: 'dedEarthquake' },
        { label: '医療費', amount: 'dedMedical' },
        { label: '雑損', amount: 'dedCasualty' },
      ],
      [
        { label: '障害者', amount: 'dedDisability' },
        { label: '寡婦', amount: 'dedWidow' },
        { label: 'ひとり親', amount: 'dedSingleParent' },
        { label: '勤労学生', amount: 'dedWorkingStudent' },
        { label: '配偶者', amount: 'dedSpouse' },
        { label: '配偶者特別', amount: 'dedSpouseSpecial' },
      ],
      [
        { label: '扶養', amount: 'dedDependents', span: 2 },
        { label: '基礎', amount: 'dedBasic', span: 2 },
        { label: '所得控除合計', amount: 'dedTotal', span: 2 },
      ],
    ],
  },
  {
    heading: '控除対象配偶者・扶養親族等の数',
    rows: [
      [
        { label: '控除対象配偶者', spouse: true },
        { label: '一般扶養', count: 'depGeneral' },
        { label: '特定扶養', count: 'depSpecific' },
        { label: '老人扶養', count: 'depElderly' },
        { label: '同居老親等', count: 'depElderlyCohabiting' },
        { label: '年少扶養', count: 'depUnder16' },
      ],
      [
        { label: '特別障害者', count: 'disabledSpecial', span: 2 },
        { label: '同居特別障害者', count: 'disabledSpecialCohabiting', span: 2 },
        { label: '普通障害者', count: 'disabledOrdinary', span: 2 },
      ],
    ],
  },
  {
    heading: '課税標準額',
    rows: [
      [
        { label: '総所得', amount: 'taxableStandard', span: 3 },
        { label: '分離課税', amount: 'taxableSeparate', span: 3 },
      ],
    ],
  },
  {
    heading: '税額',
    rows: [
      [
        { label: '市町村民税所得割', amount: 'cityIncomeLevy' },
        { label: '市町村民税均等割', amount: 'cityPerCapita' },
        { label: '道府県民税所得割', amount: 'prefIncomeLevy' },
        { label: '道府県民税均等割', amount: 'prefPerCapita' },
        { label: '森林環境税', amount: 'forestEnvTax' },
        { label: '年税額', amount: 'annualTax' },
      ],
    ],
  },
];

/** An amount in yen with thousands separators; 「*」 when it was not declared. */
function yen(value: number | null | undefined): string {
  return value === null || value === undefined ? '*' : value.toLocaleString('en-US');
}

function columnText(column: Column, body: KazeiBody): string {
  if ('amount' in column) return yen(body.amounts[column.amount]);
  if ('count' in column) return `${body.counts[column.count] ?? 0}人`;
  return body.spouseDeduction ? '有' : '無';
}

function sectionBlock(heading: string, rows: Column[][], body: KazeiBody): Block {
  const cells = rows.map((row) => ({
    labels: row.map((c): Cell => ({ width: COL * (c.span ?? 1), text: c.label, label: true })),
    values: row.map((c): Cell => ({ width: COL * (c.span ?? 1), text: columnText(c, body), align: 'right' })),
  }));
  return {
    height: HEAD_H + rows.length * (LABEL_ROW_H + VALUE_ROW_H) + GAP,
    draw(canvas, top) {
      tableRow(canvas, top, HEAD_H, [{ text: heading, label: true }]);
      top -= HEAD_H;
      for (const { labels, values } of cells) {
        tableRow(canvas, top, LABEL_ROW_H, labels);
        tableRow(canvas, top - LABEL_ROW_H, VALUE_ROW_H, values);
        top -= LABEL_ROW_H + VALUE_ROW_H;
      }
    },
  };
}

/** The body of a 課税証明書 or 非課税証明書. */
export function kazeiBody(body: KazeiBody, eras: readonly EraEntry[]): CertificateBody {
  const person = rowsBlock(
    itemRows(
      [
        { label: '住所(1月1日現在)', value: body.address, full: true },
        { label: '氏名', value: body.name, full: true, size: 11 },
        { label: '生年月日', value: birthDateText(body.birthDate, body.foreign, eras) },
        { label: '性別', value: SEX_TEXT[body.sex] },
      ],
      COL,
    ),
  );
  const closing: { label: string; value: string }[] = [];
  if (body.nontaxed) closing.push({ label: '課税の状況', value: '上記の年度の市町村民税・道府県民税は課税されていません(非課税)。' });
  closing.push({ label: '備考', value: body.remarks ?? '' });
  return {
    blocks: [
      withSpaceBelow(person, GAP),
      { height: UNIT_H, draw: (canvas, top) => canvas.text('(単位:円)', RIGHT, top - 9, 8, { align: 'right' }) },
      ...SECTIONS.map(({ heading, rows }) => sectionBlock(heading, rows, body)),
      rowsBlock(itemRows(closing.map((item) => ({ ...item, full: true })), COL)),
    ],
  };
}
