import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../../src/services/csv.ts';
import { readSealImages } from '../../src/cli/seal-images.ts';
import { DEFAULT_FONT_PATH } from '../../src/documents/font-source.ts';
import { fontCoverage, type TextCoverage } from '../../src/services/printable-text.ts';
import {
  parseKosekiCsv,
  parseRegistrationsCsv,
  parseResidentsCsv,
  parseSealsCsv,
  parseTaxCsv,
  type CsvProblem,
  type ImportOptions,
  type ImportResult,
} from '../../src/services/record-import.ts';

describe('CSV parser (services/csv.ts)', () => {
  it('plain rows with line numbers', () => {
    assert.deepEqual(parseCsv('a,b,c\n1,2,3\n'), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '2', '3'] },
    ]);
  });

  it('quoted fields with commas, doubled quotes and newlines; line numbers follow the physical lines', () => {
    const rows = parseCsv('a,b\n"x, y","say ""hi"""\n"multi\nline",z\nlast,row');
    assert.deepEqual(rows, [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', 'z'] },
      { line: 5, fields: ['last', 'row'] },
    ]);
  });

  it('CRLF and a UTF-8 BOM', () => {
    assert.deepEqual(parseCsv('\uFEFFa,b\r\n1,2\r\n'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
    ]);
    // CRLF inside a quoted field is kept
    assert.deepEqual(parseCsv('"x\r\ny",z\r\nn,m')[1], { line: 3, fields: ['n', 'm'] });
  });

  it('skips blank lines but keeps counting them', () => {
    assert.deepEqual(parseCsv('a\n\n\nb\n'), [
      { line: 1, fields: ['a'] },
      { line: 4, fields: ['b'] },
    ]);
  });

  it('empty fields and a trailing empty field', () => {
    assert.deepEqual(parseCsv('a,,c,\n'), [{ line: 1, fields: ['a', '', 'c', ''] }]);
    assert.deepEqual(parseCsv('""\n'), []);
    assert.deepEqual(parseCsv('"",x\n'), [{ line: 1, fields: ['', 'x'] }]);
  });

  it('an unterminated quote is an error naming the line where the field began', () => {
    assert.throws(() => parseCsv('a,b\n1,"open\n2,3\n'), /line 2: unterminated quoted field/);
  });
});


const DEMO = (name: string) => readFileSync(fileURLToPath(new URL(`../../../scripts/demo/${name}`, import.meta.url)), 'utf8');
const DEMO_SEALS = readSealImages(fileURLToPath(new URL('../../../scripts/demo/seals', import.meta.url)));
const V0 = 1_700_000_000_000;
/** A font that draws everything but the private-use 外字 U+E000 and U+E001. */
const GAIJI_BLIND: TextCoverage = {
  missingGlyphs: (texts) =>
    [...new Set(texts.join(''))].filter((c) => c === '\uE000' || c === '\uE001').map((char) => ({ char, codePoint: `U+${char.codePointAt(0)!.toString(16).toUpperCase()}` })),
};
const OPTS: ImportOptions = { defaultVersion: V0, coverage: GAIJI_BLIND };

function records<T>(r: ImportResult<T>): T[] {
  assert.ok(r.ok, `expected no problems: ${JSON.stringify(!r.ok && r.problems)}`);
  return r.records;
}
function problems<T>(r: ImportResult<T>): CsvProblem[] {
  assert.ok(!r.ok, 'expected problems and nothing imported');
  return r.problems;
}
/** Problems by line, messages joined, for matching. */
function byLine(ps: CsvProblem[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const p of ps) m.set(p.line, [m.get(p.line), p.message].filter(Boolean).join(' | '));
  return m;
}

const R_HEADER = 'id,householdId,name,nameKana,birthDate,sex,address,relationshipToHead,domicile,domicileHead,status,supportMeasure';
const R_GOOD = 'R1,H1,山田 太郎,ヤマダ タロウ,1985-04-12,1,テスト市本町1,世帯主,東京都千代田区,山田 太郎,active,false';

describe('resident register import (services/record-import.ts)', () => {
  it('imports the demo register (10 rows) with its optional columns: 旧氏, 通称, nationality, 本籍地 user', () => {
    const rs = records(parseResidentsCsv(DEMO('residents.csv'), OPTS));
    assert.equal(rs.length, 10);
    const get = (id: string) => rs.find((r) => r.id === id)!;
    assert.equal(get('R0005').status, 'deceased');
    assert.equal(get('R0006').supportMeasure, true);
    assert.equal(get('R0002').oldSurname, '佐々木');
    assert.equal(get('R0008').nationality, 'アメリカ合衆国');
    assert.equal(get('R0008').alias, 'ミラー 恵麻');
    assert.equal(get('R0008').addressBuilding, 'テストハイツ101号');
    assert.equal(get('R0008').residenceExpiry, '2028-03-31');
    assert.equal(get('R0009').status, 'non_resident');
    assert.equal(get('R0010').name, '𠮷田 智子');
    assert.deepEqual(get('R0001'), {
      id: 'R0001',
      householdId: 'H001',
      name: '山田 太郎',
      nameKana: 'ヤマダ タロウ',
      birthDate: '1985-04-12',
      sex: '1',
      address: 'テスト市本町一丁目2番3号',
      addressBuilding: null,
      relationshipToHead: '世帯主',
      domicile: 'テスト市本町一丁目2番地',
      domicileHead: '山田 太郎',
      status: 'active',
      supportMeasure: false,
      residentSince: '2016-04-01',
      addressSince: '2016-04-01',
      moveInDate: null,
      moveOutNotifiedOn: null,
      moveOutPlannedDate: null,
      suppressedFrom: null,
      suppressedTo: null,
      oldSurname: null,
      alias: null,
      nationality: null,
      residenceStatus: null,
      residenceCardNumber: null,
      residenceExpiry: null,
      gaijiPending: false,
      version: V0,
    });
  });

  it('accepts CRLF, a BOM, quoted fields with commas, columns in any order, defaults; a version column wins over the import time', () => {
    const csv = '\uFEFFname,id,householdId,nameKana,birthDate,sex,address,relationshipToHead,version\r\n' + '"佐藤, 健",R9,H9,サトウ ケン,1979-12-01,1,"テスト市緑町四丁目",世帯主,42\r\n';
    const [r] = records(parseResidentsCsv(csv, OPTS));
    assert.equal(r!.name, '佐藤, 健');
    assert.equal(r!.address, 'テスト市緑町四丁目');
    assert.equal(r!.status, 'active');
    assert.equal(r!.supportMeasure, false);
    assert.equal(r!.domicile, null);
    assert.equal(r!.version, 42);
  });

  it('reports every bad row with its line number and imports nothing', () => {
    const lines = [
      R_HEADER, // 1
      R_GOOD, // 2
      R_GOOD.replace('R1,', 'R2,').replace('1985-04-12', '1985-02-30'), // 3 impossible date
      R_GOOD.replace('R1,', 'R3,').replace('1985-04-12', '1985/04/12'), // 4 wrong format
      R_GOOD.replace('R1,', 'R4,').replace(',1,テスト', ',M,テスト'), // 5 bad sex
      R_GOOD, // 6 duplicate id R1
      R_GOOD.replace('R1,', 'R5,').replace(',active,', ',gone,'), // 7 bad status
      R_GOOD.replace('R1,', 'R6,').replace(/false$/, 'yes'), // 8 bad supportMeasure
      'R7,H1,only,three', // 9 wrong field count
      R_GOOD.replace('R1,', 'R8,') + ',extra', // 10 too many fields
      R_GOOD.replace('R1,H1,', 'R9,,'), // 11 empty required
      R_GOOD.replace('R1,', 'R10,').replace('山田 太郎,ヤマダ', '山田 太\uE000,ヤマダ'), // 12 a 外字 the font cannot draw
      R_GOOD.replace('R1,', 'R11,'), // 13 fine
    ];
    const m = byLine(problems(parseResidentsCsv(lines.join('\n'), OPTS)));
    assert.deepEqual([...m.keys()].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.match(m.get(3)!, /birthDate: is not a calendar date/);
    assert.match(m.get(4)!, /birthDate: must be a YYYY-MM-DD date/);
    assert.match(m.get(5)!, /^sex: /);
    assert.match(m.get(6)!, /duplicate id "R1"/);
    assert.match(m.get(7)!, /^status: /);
    assert.match(m.get(8)!, /^supportMeasure: /);
    assert.match(m.get(9)!, /expected 12 fields, found 4/);
    assert.match(m.get(10)!, /expected 12 fields, found 13/);
    assert.match(m.get(11)!, /^householdId: /);
    assert.match(m.get(12)!, /^name: 「\uE000」 \(U\+E000\) cannot be printed with the certificate font; register the character \(外字\) first$/);
  });

  it('a line break inside a quoted field is refused (it could not print), and line numbers count the physical lines', () => {
    const csv = [R_HEADER, R_GOOD.replace('テスト市本町1', '"テスト市\n本町1"'), R_GOOD.replace('R1,', 'R2,').replace(',1,テスト', ',x,テスト')].join('\n');
    const m = byLine(problems(parseResidentsCsv(csv, OPTS)));
    assert.deepEqual([...m.keys()], [2, 4]);
    assert.match(m.get(2)!, /^address: must not contain line breaks, tabs or other control characters$/);
  });

  it('unknown, missing and duplicate columns are reported against the header, before any row', () => {
    assert.deepEqual(problems(parseResidentsCsv(`${R_HEADER},nickname\n${R_GOOD},taro`, OPTS)), [{ file: 'residents.csv', line: 1, message: 'unknown column "nickname"' }]);
    const missing = problems(parseResidentsCsv('id,householdId,name,nameKana,birthDate,address,relationshipToHead\nR1,H1,n,k,1985-04-12,a,世帯主', OPTS));
    assert.deepEqual(missing, [{ file: 'residents.csv', line: 1, message: 'missing column "sex"' }]);
    assert.deepEqual(problems(parseResidentsCsv(`${R_HEADER},name\n${R_GOOD},別人`, OPTS)), [{ file: 'residents.csv', line: 1, message: 'duplicate column "name"' }]);
  });

  it('an empty file, a header alone, and an unterminated quote are reported', () => {
    assert.deepEqual(problems(parseResidentsCsv('', OPTS)), [{ file: 'residents.csv', line: 1, message: 'the file is empty; expected a header row' }]);
    assert.deepEqual(problems(parseResidentsCsv(`${R_HEADER}\n`, OPTS)), [{ file: 'residents.csv', line: 2, message: 'no rows after the header' }]);
    const open = problems(parseResidentsCsv(`${R_HEADER}\n"R1,H1`, OPTS));
    assert.equal(open.length, 1);
    assert.match(open[0]!.message, /line 2: unterminated quoted field/);
  });

  it('leap days are checked', () => {
    assert.equal(records(parseResidentsCsv(`${R_HEADER}\n${R_GOOD.replace('1985-04-12', '2000-02-29')}`, OPTS)).length, 1);
    assert.equal(problems(parseResidentsCsv(`${R_HEADER}\n${R_GOOD.replace('1985-04-12', '1900-02-29')}`, OPTS)).length, 1);
  });

  it('with the real certificate font (IPAmj明朝): 𠮷田, 髙橋, 渡邉 and an IVS name import; a private-use 外字 is refused with line and code point', async () => {
    const coverage = await fontCoverage(DEFAULT_FONT_PATH);
    const names = ['𠮷田 智子', '髙橋 誠', '渡邉 一', '葛\u{E0102}西 二郎'];
    const ok = [R_HEADER, ...names.map((n, i) => R_GOOD.replace('R1,', `R${i + 1},`).replace('山田 太郎,ヤマダ', `${n},ヤマダ`))].join('\n');
    assert.deepEqual(records(parseResidentsCsv(ok, { defaultVersion: V0, coverage })).map((r) => r.name), names);
    const bad = [R_HEADER, R_GOOD, R_GOOD.replace('R1,', 'R2,').replace('テスト市本町1', 'テスト市\uE000町1')].join('\n');
    assert.deepEqual(problems(parseResidentsCsv(bad, { defaultVersion: V0, coverage })), [
      { file: 'residents.csv', line: 3, message: 'address: 「\uE000」 (U+E000) cannot be printed with the certificate font; register the character (外字) first' },
    ]);
  });
});

const S_HEADER = 'residentId,registrationNumber,registeredOn,status,statusChangedOn,sealImageFile,sealWidthMm,sealHeightMm';

/** `png` with its colour type replaced (the reader does not check CRCs). */
function withColourType(png: Uint8Array, type: number): Uint8Array {
  const copy = Uint8Array.from(png);
  copy[8 + 8 + 9] = type;
  return copy;
}
/** `png` without its pHYs chunk. */
function withoutPhys(png: Uint8Array): Uint8Array {
  const buf = Buffer.from(png);
  const at = buf.indexOf('pHYs') - 4;
  return Uint8Array.from(Buffer.concat([buf.subarray(0, at), buf.subarray(at + 12 + buf.readUInt32BE(at))]));
}

describe('seal registration import', () => {
  it('imports the demo registrations with their impressions, sizes checked against the PNG resolution', () => {
    const seals = records(parseSealsCsv(DEMO('seal-registrations.csv'), DEMO_SEALS, OPTS));
    assert.deepEqual(
      seals.map((s) => [s.residentId, s.status, s.widthMm]),
      [
        ['R0001', 'active', 15],
        ['R0002', 'active', 12],
        ['R0004', 'abolished', 13.5],
        ['R0010', 'active', 15],
      ],
    );
    assert.deepEqual(Buffer.from(seals[0]!.imagePngBase64, 'base64'), Buffer.from(DEMO_SEALS.get('seal-R0001.png')!));
  });

  it('a missing image, a size that does not match the image, sizes outside 8–25 mm, a colour image, an image without resolution: every line, nothing imported', () => {
    const images = new Map(DEMO_SEALS);
    images.set('rgb.png', withColourType(DEMO_SEALS.get('seal-R0001.png')!, 2));
    images.set('nophys.png', withoutPhys(DEMO_SEALS.get('seal-R0001.png')!));
    const csv = [
      S_HEADER, // 1
      'R1,N1,2020-01-01,active,,seal-R0001.png,15,15', // 2 fine
      'R2,N2,2020-01-01,active,,nothere.png,15,15', // 3
      'R3,N3,2020-01-01,active,,seal-R0001.png,18,18', // 4 the image is 15 mm
      'R4,N4,2020-01-01,active,,seal-R0001.png,7,7', // 5 below 8 mm (and not the image's size)
      'R5,N5,2020-01-01,active,,rgb.png,15,15', // 6
      'R6,N6,2020-01-01,active,,nophys.png,15,15', // 7
      'R7,N7,2020-01-01,lost,,seal-R0001.png,15,15', // 8 bad status
      'R1,N8,2020-01-01,active,,seal-R0001.png,15,15', // 9 a second registration of R1
    ].join('\n');
    const m = byLine(problems(parseSealsCsv(csv, images, OPTS)));
    assert.deepEqual([...m.keys()].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9]);
    assert.match(m.get(3)!, /sealImageFile "nothere.png" is not among the images/);
    assert.match(m.get(4)!, /seal-R0001.png: the image is 15\.0 × 15\.0 mm at its resolution, not 18 × 18 mm/);
    assert.match(m.get(5)!, /widthMm: /);
    assert.match(m.get(6)!, /greyscale or 1-bit/);
    assert.match(m.get(7)!, /does not record its resolution/);
    assert.match(m.get(8)!, /^status: /);
    assert.match(m.get(9)!, /duplicate residentId "R1"/);
  });
});

describe('tax record import', () => {
  it('imports the demo tax records: amounts in yen, empty amounts as not recorded (「*」), dependants', () => {
    const tax = records(parseTaxCsv(DEMO('tax-records.csv'), OPTS));
    assert.equal(tax.length, 6);
    const taro26 = tax.find((t) => t.residentId === 'R0001' && t.fiscalYear === 2026)!;
    assert.equal(taro26.incomeYear, 2025);
    assert.equal(taro26.amounts.salaryRevenue, 5_400_000);
    assert.equal(taro26.amounts.businessIncome, null);
    assert.equal(taro26.amounts.annualTax, 222_000);
    assert.equal(taro26.counts.depUnder16, 1);
    assert.equal(taro26.spouseDeduction, true);
    assert.equal(tax.find((t) => t.residentId === 'R0004')!.status, 'undeclared');
  });

  it('bad numbers, an unknown status, a duplicate year and a 外字 name: every line, nothing imported', () => {
    const h = 'residentId,fiscalYear,incomeYear,status,addressOnJan1,nameOnJan1,salaryRevenue,depGeneral';
    const csv = [
      h,
      'R1,2026,2025,taxed,テスト市本町1,山田 太郎,5000000,0', // 2 fine
      'R1,2026,2025,taxed,テスト市本町1,山田 太郎,5000000,0', // 3 duplicate
      'R2,20x6,2025,taxed,テスト市本町1,山田 太郎,5000000,0', // 4 bad year
      'R3,2026,2025,taxed,テスト市本町1,山田 太郎,-5,0', // 5 negative yen
      'R4,2026,2025,taxed,テスト市本町1,山田 太郎,12.5,0', // 6 not whole yen
      'R5,2026,2025,rich,テスト市本町1,山田 太郎,1,0', // 7 status
      'R6,2026,2025,taxed,テスト市本町1,山田 \uE001,1,0', // 8 外字
      'R7,2026,2025,taxed,テスト市本町1,山田 太郎,1,many', // 9 count
    ].join('\n');
    const m = byLine(problems(parseTaxCsv(csv, OPTS)));
    assert.deepEqual([...m.keys()].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9]);
    assert.match(m.get(3)!, /duplicate residentId\/fiscalYear "R1\/2026"/);
    assert.match(m.get(4)!, /^fiscalYear: /);
    assert.match(m.get(5)!, /^amounts\.salaryRevenue: /);
    assert.match(m.get(6)!, /^amounts\.salaryRevenue: /);
    assert.match(m.get(7)!, /^status: /);
    assert.match(m.get(8)!, /^nameOnJan1: 「\uE001」 \(U\+E001\)/);
    assert.match(m.get(9)!, /^counts\.depGeneral: /);
  });
});

describe('戸籍 and 附票 import', () => {
  const demo = () => ({ koseki: DEMO('koseki.csv'), members: DEMO('koseki-members.csv'), events: DEMO('koseki-events.csv'), fuhyo: DEMO('fuhyo-addresses.csv') });

  it('assembles the demo 戸籍: members in seq order with their 身分事項 in order and 附票 addresses, 除籍 persons', () => {
    const ks = records(parseKosekiCsv(demo(), OPTS));
    assert.deepEqual(ks.map((k) => k.kosekiId), ['K001', 'K002', 'K003']);
    const k1 = ks[0]!;
    assert.equal(k1.honseki, 'テスト市本町一丁目2番地');
    assert.deepEqual(k1.events, [{ type: '戸籍編製', fields: [['編製日', '2012-05-20']] }]);
    assert.deepEqual(k1.members.map((m) => [m.seq, m.residentId, m.givenName]), [
      [1, 'R0001', '太郎'],
      [2, 'R0002', '花子'],
      [3, 'R0003', '一郎'],
    ]);
    assert.deepEqual(k1.members[0]!.events.map((e) => e.type), ['出生', '婚姻']);
    assert.deepEqual(k1.members[0]!.fuhyo, [
      { address: '東京都世田谷区桜一丁目2番3号', addressSince: '2012-05-20', addressUntil: '2016-03-31' },
      { address: 'テスト市本町一丁目2番3号', addressSince: '2016-04-01', addressUntil: null },
    ]);
    const k2 = ks[1]!;
    assert.deepEqual(k2.members.filter((m) => m.removed).map((m) => [m.givenName, m.removedOn]), [
      ['和江', '2020-03-10'],
      ['太郎', '2012-05-20'],
    ]);
  });

  it('rows pointing at a 戸籍 or member that is not there, bad JSON, a duplicate seq and a 外字 in a 身分事項: every problem, nothing imported', () => {
    const files = demo();
    files.members += 'K009,1,,山田,某,,,1990-01-01,1,,,,長男,false,\n'; // no such 戸籍
    files.members += 'K001,2,,山田,重複,,,1990-01-01,1,,,,長男,false,\n'; // duplicate seq
    files.events += 'K001,7,1,出生,"[]"\n'; // no member 7
    files.events += 'K001,1,3,認知,"[[""認知日"""\n'; // JSON broken
    files.events += 'K001,3,2,養子縁組,"[[""養親氏名"",""山田 \uE000""]]"\n'; // 外字
    files.fuhyo += 'K003,2,1,テスト市,2020-01-01,\n'; // no member 2 of K003
    const ps = problems(parseKosekiCsv(files, OPTS));
    const text = ps.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');
    assert.match(text, /koseki-members\.csv:9: no 戸籍 "K009" in koseki\.csv/);
    assert.match(text, /koseki-members\.csv:10: duplicate seq 2 in 戸籍 "K001"/);
    assert.match(text, /koseki-events\.csv:17: no member 7 of 戸籍 "K001"/);
    assert.match(text, /koseki-events\.csv:18: fields is not valid JSON/);
    assert.match(text, /koseki\.csv:2: member 3 events\[1\]\.fields\[0\]: 「\uE000」 \(U\+E000\)/);
    assert.match(text, /fuhyo-addresses\.csv:10: no member 2 of 戸籍 "K003"/);
  });

  it('本籍地 利用登録: the demo registration; an impossible date and a duplicate are refused', () => {
    assert.deepEqual(records(parseRegistrationsCsv(DEMO('koseki-registrations.csv'), OPTS)), [
      { residentId: 'R0009', kosekiId: 'K002', registeredOn: '2024-04-01', effectiveFrom: '2024-04-08', version: V0 },
    ]);
    const csv = 'residentId,kosekiId,registeredOn,effectiveFrom\nR1,K1,2024-04-01,2024-02-30\nR2,K1,2024-04-01,2024-04-08\nR2,K1,2024-04-01,2024-04-09\n';
    const m = byLine(problems(parseRegistrationsCsv(csv, OPTS)));
    assert.deepEqual([...m.keys()], [2, 4]);
  });
});
