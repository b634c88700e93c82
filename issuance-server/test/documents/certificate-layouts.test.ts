import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateDocument } from '../../src/documents/certificate-model.ts';
import { greyPng } from '../../src/documents/grey-png.ts';
import { sampleDocument } from '../../src/documents/sample-documents.ts';
import { placedImages } from './pdf-tools.ts';
import { assertInOrder, holds, occurrences, renderDocument, squeezed } from './rendered-document.ts';

type Of<K extends CertificateDocument['kind']> = Extract<CertificateDocument, { kind: K }>;
const sample = <K extends CertificateDocument['kind']>(kind: K) => sampleDocument(kind) as Of<K>;

const MM = 72 / 25.4;
const DOMICILE = '東京都千代田区千代田一丁目1番地';
/** The last page's footer, in order. */
const signed = (request: CertificateDocument) => ['以下余白', request.frame.certification, '令和8年11月24日', 'テスト県テスト市長 市川 正義'];

describe('documents/certificate-layouts', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => (dir = mkdtempSync(join(tmpdir(), 'certificate-layouts-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('住民票の写し', () => {
    it('prints the household field by field, in order', async () => {
      const request = sample('juminhyo');
      const { text, pages } = await renderDocument(dir, 'juminhyo', request);
      assert.equal(pages.length, 1);
      assertInOrder(text, [
        '発行番号 20261124 テスト市 KIOSK-0001 000101 1/1',
        '住民票の写し (世帯全員)',
        '住所 テスト県テスト市中央町二丁目3番4号 テストハイツ101号',
        '世帯主 山田 太郎',
        '住民票コード・個人番号の記載省略',
        'ヤマダ タロウ', '氏名', '山田 太郎', '生年月日 昭和60年4月12日 性別 男', '続柄 世帯主',
        '住民となった年月日 平成24年4月1日', '住所を定めた年月日 平成30年10月15日', `本籍 ${DOMICILE}`, '筆頭者 山田 太郎',
        'ヤマダ ハナコ', '氏名', '山田 花子', '生年月日 昭和64年1月7日 性別 女', '旧氏 佐藤 続柄 妻',
        'ヤマダ イチロウ', '氏名', '山田 一郎', '生年月日 令和元年5月1日 性別 男', '続柄 子',
        ...signed(request),
        '検証コード K7QM-2XWD-9HFA-3TRC',
        'https://cert.example.lg.jp/verify/K7QM-2XWD-9HFA-3TRC',
        '対象者 山田 太郎 発行ID 5f0c2a9e-8d1b-4c47-9a3e-2b6d7f10c4e8',
      ]);
      assert.ok(!holds(text, '本籍・筆頭者の記載省略') && !holds(text, '世帯主・続柄の記載省略'));
    });

    it('leaves out 本籍・筆頭者 and 世帯主・続柄 when not chosen, and says so', async () => {
      const request = sample('juminhyo');
      Object.assign(request.body, { showDomicile: false, householdHead: null, scope: 'part' });
      request.body.persons = request.body.persons.slice(0, 1).map((p) => ({ ...p, relationship: null, domicile: null, domicileHead: null }));
      request.frame.subtitle = '(世帯一部)';
      const { text } = await renderDocument(dir, 'juminhyo-omitted', request);
      assertInOrder(text, ['住民票の写し (世帯一部)', '世帯主・続柄の記載省略 本籍・筆頭者の記載省略 住民票コード・個人番号の記載省略', '山田 太郎']);
      const rest = squeezed(text).replace('世帯主・続柄の記載省略 本籍・筆頭者の記載省略', '');
      for (const absent of [DOMICILE, '本籍', '筆頭者', '続柄', '世帯主', '山田 花子']) assert.ok(!rest.includes(absent), `${absent} printed:\n${text}`);
    });
  });

  describe('住民票記載事項証明書', () => {
    it('prints only the items the request carries, with no omission notes', async () => {
      const request = sample('juminhyo_kisai');
      const { text } = await renderDocument(dir, 'kisai', request);
      assertInOrder(text, [
        '住民票記載事項証明書 (世帯一部)',
        '住所 テスト県テスト市中央町二丁目3番4号 テストハイツ101号',
        '山田 太郎', '生年月日 昭和60年4月12日 性別 男',
        '住民となった年月日 平成24年4月1日 住所を定めた年月日 平成30年10月15日',
        ...signed(request),
      ]);
      assert.equal(request.frame.certification, '上記の事項は、住民票の原本と相違ないことを証明する。');
      for (const absent of ['続柄', '本籍', '筆頭者', '世帯主', '記載省略', DOMICILE]) assert.ok(!holds(text, absent), `${absent} printed:\n${text}`);

      request.body.persons[0] = { ...request.body.persons[0]!, residentSince: null, addressSince: null, nameKana: null };
      const { text: fewer } = await renderDocument(dir, 'kisai-fewer', request);
      assert.ok(holds(fewer, '生年月日 昭和60年4月12日 性別 男'));
      for (const absent of ['住民となった年月日', '住所を定めた年月日', 'ヤマダ']) assert.ok(!holds(fewer, absent), `${absent} printed:\n${fewer}`);
    });
  });

  describe('印鑑登録証明書', () => {
    it('prints the registrant, and the impression at its physical size in the 印影 frame', async () => {
      const request = sample('inkan');
      // 18 × 12 mm at 600 dpi, a frame line round a filled bar: not square, so that a swapped or fitted size shows.
      const [w, h] = [Math.round((18 / 25.4) * 600), Math.round((12 / 25.4) * 600)];
      request.body.seal = { png: greyPng(w, h, 600, (x, y) => x < 12 || y < 12 || x >= w - 12 || y >= h - 12 || (y > h / 3 && y < (2 * h) / 3)), widthMm: 18, heightMm: 12 };
      request.body.oldSurname = '佐藤';
      request.body.remarks = ['旧氏併記'];
      const { text, bytes } = await renderDocument(dir, 'inkan', request);
      assertInOrder(text, [
        '印鑑登録証明書', '印影', '氏名 山田 太郎', '旧氏 佐藤', '生年月日 昭和60年4月12日',
        '住所 テスト県テスト市中央町二丁目3番4号 テストハイツ101号', '備考 旧氏併記',
        ...signed(request),
      ]);
      assert.ok(!holds(text, '性別'), 'sex is printed only where the municipality prints it');

      const images = await placedImages(bytes);
      const seal = images.find((i) => i.widthPx === w && i.heightPx === h);
      assert.ok(seal, `no ${w}×${h} image among ${JSON.stringify(images)}`);
      assert.ok(Math.abs(seal.width / MM - 18) <= 0.3, `placed ${(seal.width / MM).toFixed(2)} mm wide`);
      assert.ok(Math.abs(seal.height / MM - 12) <= 0.3, `placed ${(seal.height / MM).toFixed(2)} mm high`);
      const officialSeal = images.find((i) => i !== seal && i.widthPx === i.heightPx && i.widthPx > 100);
      assert.ok(officialSeal && Math.abs(officialSeal.width / MM - 21) <= 0.3 && Math.abs(officialSeal.height / MM - 21) <= 0.3, JSON.stringify(officialSeal));
    });

    it('gives a foreign registrant the date of birth in 西暦, the 通称 and, where printed, the sex', async () => {
      const request = sample('inkan');
      Object.assign(request.body, { name: 'SMITH JOHN', alias: '佐藤 ジョン', birthDate: '1963-09-25', foreign: true, sex: '1' });
      const { text } = await renderDocument(dir, 'inkan-foreign', request);
      assertInOrder(text, ['氏名 SMITH JOHN', '通称 佐藤 ジョン', '生年月日 1963年9月25日', '性別 男']);
      assert.ok(!holds(text, '昭和38年'));
    });
  });

  describe('課税証明書', () => {
    /** The values under the label row that starts with `firstLabel`, as the cells print them. */
    function cellsUnder(text: string, firstLabel: string): string[] {
      const lines = text.split('\n');
      const at = lines.findIndex((line) => line.trim().split(/\s+/)[0] === firstLabel);
      assert.ok(at >= 0, `no row starting with ${firstLabel} in:\n${text}`);
      return lines.slice(at + 1).find((line) => line.trim() !== '')!.trim().split(/\s+/);
    }

    it('prints the amounts in their cells, 「*」 for what was not declared', async () => {
      const request = sample('kazei');
      Object.assign(request.body.amounts, { pensionRevenue: null, pensionIncome: null });
      request.body.remarks = '給与支払報告書による';
      const { text } = await renderDocument(dir, 'kazei', request);
      assertInOrder(text, [
        '課税証明書 令和8年度(令和7年分)',
        '住所(1月1日現在) テスト県テスト市中央町二丁目3番4号', '氏名 山田 太郎', '生年月日 昭和60年4月12日 性別 男',
        '(単位:円)', '所得の状況', '所得控除額の内訳', '控除対象配偶者・扶養親族等の数', '課税標準額', '税額', '備考 給与支払報告書による',
        ...signed(request),
      ]);
      assert.deepEqual(cellsUnder(text, '給与収入'), ['5,200,000', '3,660,000', '*', '*', '0', '0']);
      assert.deepEqual(cellsUnder(text, '合計所得金額'), ['3,660,000', '3,660,000']);
      assert.deepEqual(cellsUnder(text, '社会保険料'), ['781,200', '0', '56,000', '25,000', '0', '0']);
      assert.deepEqual(cellsUnder(text, '控除対象配偶者'), ['有', '0人', '0人', '0人', '0人', '1人']);
      assert.deepEqual(cellsUnder(text, '市町村民税所得割'), ['119,700', '3,000', '79,800', '1,000', '1,000', '204,500']);
      assert.ok(!holds(text, '非課税'));
    });

    it('says 非課税 when no tax is due', async () => {
      const request = sample('kazei');
      request.frame.title = '非課税証明書';
      request.body.nontaxed = true;
      for (const field of ['cityIncomeLevy', 'cityPerCapita', 'prefIncomeLevy', 'prefPerCapita', 'forestEnvTax', 'annualTax']) request.body.amounts[field] = 0;
      const { text } = await renderDocument(dir, 'hikazei', request);
      assertInOrder(text, ['非課税証明書 令和8年度(令和7年分)', '税額', '課税の状況 上記の年度の市町村民税・道府県民税は課税されていません(非課税)。', '備考']);
      assert.deepEqual(cellsUnder(text, '市町村民税所得割'), ['0', '0', '0', '0', '0', '0']);
    });
  });

  describe('戸籍証明書', () => {
    it('全部事項証明: 本籍, 戸籍事項 and every person with their 身分事項 as 【label】value lines, 除籍 marked', async () => {
      const request = sample('koseki_zenbu');
      const { text } = await renderDocument(dir, 'koseki-zenbu', request);
      assertInOrder(text, [
        '全部事項証明',
        '本 籍 東京都千代田区平河町一丁目10番地', '氏 名 甲野 義太郎',
        '戸籍事項 戸籍改製 【改製日】平成6年10月1日', '【改製事由】平成6年法務省令第51号附則第2条第1項による改製',
        '戸籍に記録され 【名】義太郎', 'ている者 【生年月日】昭和25年5月3日 【配偶者区分】夫', '【父】甲野幸雄', '【母】甲野松子', '【続柄】長男',
        '身分事項 出 生 【出生日】昭和25年5月3日', '【出生地】東京都千代田区', '【届出日】昭和25年5月10日', '【届出人】父',
        '婚 姻 【婚姻日】昭和51年6月1日', '【配偶者氏名】乙野梅子',
        '【名】梅子', '【生年月日】昭和27年1月8日 【配偶者区分】妻', '【送付を受けた日】昭和27年1月20日', '【受理者】横浜市中区長',
        '【名】啓太郎', '【生年月日】昭和54年3月15日', '除 籍 【父】甲野義太郎',
        '【婚姻日】平成20年10月10日', '【新本籍】東京都港区芝公園四丁目2番地',
        ...signed(request),
      ]);
      assert.equal(request.frame.certification, 'これは、戸籍に記録されている事項の全部を証明した書面である。');
      assert.equal(occurrences(text, '除 籍'), 1, 'only the person who left is marked');
      assert.equal(occurrences(text, 'ている者'), 3, 'one block per person');
    });

    it('個人事項証明: the header and only the persons chosen', async () => {
      const { text } = await renderDocument(dir, 'koseki-kojin', sample('koseki_kojin'));
      assertInOrder(text, ['個人事項証明', '本 籍 東京都千代田区平河町一丁目10番地', '氏 名 甲野 義太郎', '戸籍事項', '【名】梅子', '身分事項', '以下余白', 'これは、戸籍中の一部の者について記録されている事項の全部を証明した書面である。']);
      for (const absent of ['【名】義太郎', '【名】啓太郎', '除 籍']) assert.ok(!holds(text, absent), `${absent} printed:\n${text}`);
    });

    it('a foreign national recorded in the 戸籍 has the date of birth in 西暦', async () => {
      const request = sample('koseki_kojin');
      Object.assign(request.body.persons[0]!, { foreign: true, birthDate: '1963-09-25' });
      request.body.persons[0]!.events[0]!.fields[0] = ['出生日', '1963-09-25'];
      const { text } = await renderDocument(dir, 'koseki-foreign', request);
      assertInOrder(text, ['【生年月日】1963年9月25日', '【出生日】1963年9月25日', '【届出日】昭和27年1月15日']);
    });
  });

  describe('戸籍の附票の写し', () => {
    it('without 本籍・筆頭者: full names, the note, each address history oldest first, 除籍 marked', async () => {
      const request = sample('koseki_fuhyo');
      Object.assign(request.body.persons[2]!, { birthDate: null, sex: null });
      const { text } = await renderDocument(dir, 'fuhyo', request);
      assertInOrder(text, [
        '戸籍の附票の写し', '本籍・筆頭者の記載省略',
        '氏名 甲野 義太郎', '生年月日 昭和25年5月3日 性別 男', '住所 住所を定めた年月日',
        '東京都千代田区平河町一丁目10番地 平成6年10月1日', 'テスト県テスト市中央町二丁目3番4号 平成15年7月20日',
        '氏名 甲野 梅子', '生年月日 昭和27年1月8日 性別 女',
        '氏名 甲野 啓太郎 除 籍', '住所 住所を定めた年月日', '東京都千代田区平河町一丁目10番地 昭和54年3月15日',
        ...signed(request),
      ]);
      assert.equal(occurrences(text, '生年月日'), 2, 'no date of birth for a person removed before 2022-01-11');
      assert.equal(occurrences(text, '本籍'), 1, 'only the note');
      assert.ok(!holds(text, '筆頭者氏名'));
    });

    it('with 本籍・筆頭者: the 本籍 and 筆頭者 rows, and each person by 名 only', async () => {
      const request = sample('koseki_fuhyo');
      Object.assign(request.body, { honseki: '東京都港区芝公園四丁目2番地', headName: '甲野　義太郎' });
      request.body.persons = request.body.persons.map((p) => ({ ...p, name: p.name.split('　')[1]! }));
      const { text } = await renderDocument(dir, 'fuhyo-honseki', request);
      assertInOrder(text, ['戸籍の附票の写し', '本籍 東京都港区芝公園四丁目2番地', '筆頭者氏名 甲野 義太郎', '名 義太郎', '名 梅子', '名 啓太郎']);
      assert.ok(!holds(text, '記載省略'));
    });
  });
});
