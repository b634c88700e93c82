import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../../src/services/csv.ts';
import { parseResidentCsv } from '../../src/services/resident-import.ts';

const DEMO_CSV = readFileSync(fileURLToPath(new URL('../../../scripts/demo/residents.csv', import.meta.url)), 'utf8');
const HEADER = 'id,householdId,name,nameKana,birthDate,sex,address,relationshipToHead,domicile,domicileHead,status,supportMeasure';
const GOOD = 'R1,H1,山田 太郎,ヤマダ タロウ,1985-04-12,1,テスト市本町1,世帯主,東京都千代田区,山田 太郎,active,false';

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

describe('resident import (services/resident-import.ts)', () => {
  it('imports the demo register (7 rows) with its optional columns', () => {
    const { residents, problems } = parseResidentCsv(DEMO_CSV);
    assert.deepEqual(problems, []);
    assert.equal(residents.length, 7);
    const r5 = residents.find((r) => r.id === 'R0005')!;
    assert.equal(r5.status, 'deceased');
    const r6 = residents.find((r) => r.id === 'R0006')!;
    assert.equal(r6.supportMeasure, true);
    assert.deepEqual(residents[0], {
      id: 'R0001',
      householdId: 'H001',
      name: '山田 太郎',
      nameKana: 'ヤマダ タロウ',
      birthDate: '1985-04-12',
      sex: '1',
      address: 'テスト市本町一丁目2番3号',
      relationshipToHead: '世帯主',
      domicile: '東京都千代田区千代田1番',
      domicileHead: '山田 太郎',
      status: 'active',
      supportMeasure: false,
    });
  });

  it('accepts CRLF, a BOM, quoted fields with commas and newlines, columns in any order, defaults', () => {
    const csv =
      '\uFEFFname,id,householdId,nameKana,birthDate,sex,address,relationshipToHead\r\n' +
      '"佐藤, 健",R9,H9,サトウ ケン,1979-12-01,1,"テスト市緑町\n四丁目",世帯主\r\n';
    const { residents, problems } = parseResidentCsv(csv);
    assert.deepEqual(problems, []);
    assert.equal(residents.length, 1);
    const r = residents[0]!;
    assert.equal(r.name, '佐藤, 健');
    assert.equal(r.address, 'テスト市緑町\n四丁目');
    assert.equal(r.status, 'active');
    assert.equal(r.supportMeasure, false);
    assert.equal(r.domicile, null);
    assert.equal(r.domicileHead, null);
  });

  it('reports every bad row with its line number and imports nothing', () => {
    const lines = [
      HEADER, // 1
      GOOD, // 2
      GOOD.replace('R1,', 'R2,').replace('1985-04-12', '1985-02-30'), // 3 impossible date
      GOOD.replace('R1,', 'R3,').replace('1985-04-12', '1985/04/12'), // 4 wrong format
      GOOD.replace('R1,', 'R4,').replace(',1,テスト', ',M,テスト'), // 5 bad sex
      GOOD, // 6 duplicate id R1
      GOOD.replace('R1,', 'R5,').replace(',active,', ',gone,'), // 7 bad status
      GOOD.replace('R1,', 'R6,').replace(/false$/, 'yes'), // 8 bad supportMeasure
      'R7,H1,only,three', // 9 wrong field count
      GOOD.replace('R1,', 'R8,') + ',extra', // 10 too many fields
      GOOD.replace('R1,H1,', 'R9,,'), // 11 empty required
      GOOD.replace('R1,', 'R10,'), // 12 fine
    ];
    const { residents, problems } = parseResidentCsv(lines.join('\n'));
    assert.deepEqual(residents, []);
    const byLine = new Map<number, string[]>();
    for (const p of problems) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p.message]);
    assert.deepEqual([...byLine.keys()].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.match(byLine.get(3)!.join(), /birthDate "1985-02-30"/);
    assert.match(byLine.get(4)!.join(), /birthDate "1985\/04\/12"/);
    assert.match(byLine.get(5)!.join(), /sex "M"/);
    assert.match(byLine.get(6)!.join(), /duplicate id "R1"/);
    assert.match(byLine.get(7)!.join(), /status "gone"/);
    assert.match(byLine.get(8)!.join(), /supportMeasure "yes"/);
    assert.match(byLine.get(9)!.join(), /expected 12 fields, found 4/);
    assert.match(byLine.get(10)!.join(), /expected 12 fields, found 13/);
    assert.match(byLine.get(11)!.join(), /householdId is empty/);
  });

  it('line numbers count the physical lines of quoted multi-line fields', () => {
    const csv = [HEADER, GOOD.replace('テスト市本町1', '"テスト市\n本町1"'), GOOD.replace('R1,', 'R2,').replace(',1,テスト', ',x,テスト')].join('\n');
    const { problems } = parseResidentCsv(csv);
    assert.deepEqual(problems.map((p) => p.line), [4]);
  });

  it('unknown and missing columns are reported against the header, before any row', () => {
    const unknown = parseResidentCsv(`${HEADER},nickname\n${GOOD},taro`);
    assert.deepEqual(unknown.problems, [{ line: 1, message: 'unknown column "nickname"' }]);
    const missing = parseResidentCsv('id,householdId,name,nameKana,birthDate,address,relationshipToHead\nR1,H1,n,k,1985-04-12,a,世帯主');
    assert.deepEqual(missing.problems, [{ line: 1, message: 'missing column "sex"' }]);
    const both = parseResidentCsv('id,name,Name\nR1,a,b');
    assert.ok(both.problems.some((p) => p.message === 'unknown column "Name"'));
    assert.ok(both.problems.some((p) => p.message === 'missing column "householdId"'));
    assert.ok(both.problems.every((p) => p.line === 1));
    assert.deepEqual(both.residents, []);
    // a column given twice would silently keep only one of the values
    const twice = parseResidentCsv(`${HEADER},name\n${GOOD},別人`);
    assert.deepEqual(twice.problems, [{ line: 1, message: 'duplicate column "name"' }]);
  });

  it('an empty file, a header alone, and an unterminated quote are reported', () => {
    assert.deepEqual(parseResidentCsv('').problems, [{ line: 1, message: 'the file is empty; expected a header row' }]);
    assert.deepEqual(parseResidentCsv(`${HEADER}\n`).problems, [{ line: 2, message: 'no resident rows after the header' }]);
    const open = parseResidentCsv(`${HEADER}\n"R1,H1`);
    assert.equal(open.problems.length, 1);
    assert.match(open.problems[0]!.message, /line 2: unterminated quoted field/);
  });

  it('validDate: leap days are checked', () => {
    assert.deepEqual(parseResidentCsv(`${HEADER}\n${GOOD.replace('1985-04-12', '2000-02-29')}`).problems, []);
    assert.equal(parseResidentCsv(`${HEADER}\n${GOOD.replace('1985-04-12', '1900-02-29')}`).problems.length, 1);
    assert.equal(parseResidentCsv(`${HEADER}\n${GOOD.replace('1985-04-12', '1985-13-01')}`).problems.length, 1);
  });
});
