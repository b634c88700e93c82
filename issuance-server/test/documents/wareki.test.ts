import assert from 'node:assert/strict';
import { fiscalYearLabel, toIsoDateJst, toSeireki, toWareki } from '../../src/documents/wareki.ts';

describe('documents/wareki', () => {
  it('switches era on the first day of each era, with 元年 for year 1', () => {
    const cases: [string, string][] = [
      ['1868-10-23', '明治元年10月23日'],
      ['1912-07-29', '明治45年7月29日'],
      ['1912-07-30', '大正元年7月30日'],
      ['1926-12-24', '大正15年12月24日'],
      ['1926-12-25', '昭和元年12月25日'],
      ['1989-01-07', '昭和64年1月7日'],
      ['1989-01-08', '平成元年1月8日'],
      ['2019-04-30', '平成31年4月30日'],
      ['2019-05-01', '令和元年5月1日'],
      ['1985-04-12', '昭和60年4月12日'],
      ['2026-11-24', '令和8年11月24日'],
    ];
    for (const [iso, wareki] of cases) assert.equal(toWareki(iso), wareki, iso);
  });

  it('takes the Asia/Tokyo calendar date of an instant', () => {
    // 15:00 UTC is already the next day in Japan.
    assert.equal(toIsoDateJst(new Date('2019-04-30T14:59:59Z')), '2019-04-30');
    assert.equal(toIsoDateJst(new Date('2019-04-30T15:00:00Z')), '2019-05-01');
    assert.equal(toWareki(new Date('2019-04-30T15:00:00Z')), '令和元年5月1日');
    assert.equal(toWareki(new Date('2026-11-23T23:30:00Z')), '令和8年11月24日');
  });

  it('rejects malformed, impossible and pre-Meiji dates', () => {
    assert.throws(() => toWareki('2023-2-3'), RangeError);
    assert.throws(() => toWareki('2023-02-30'), RangeError);
    assert.throws(() => toWareki('1868-10-22'), /before the first era/);
    assert.throws(() => toIsoDateJst(new Date('nope')), RangeError);
  });

  it('the era table is data: a new era is configuration', () => {
    const withNewEra = [{ name: '明治', start: '1868-10-23' }, { name: '令和', start: '2019-05-01' }, { name: '新元', start: '2040-02-01' }];
    assert.equal(toWareki('2040-01-31', withNewEra), '令和22年1月31日');
    assert.equal(toWareki('2040-02-01', withNewEra), '新元元年2月1日');
    assert.equal(toWareki('2041-03-03', withNewEra), '新元2年3月3日');
  });

  it('fiscal years: named at 1 April, FY2019 as the municipality chooses', () => {
    assert.equal(fiscalYearLabel(2026), '令和8年度');
    assert.equal(fiscalYearLabel(2020), '令和2年度');
    assert.equal(fiscalYearLabel(2018), '平成30年度');
    assert.equal(fiscalYearLabel(2019), '令和元年度');
    assert.equal(fiscalYearLabel(2019, undefined, '平成31年度'), '平成31年度');
    assert.equal(fiscalYearLabel(1989), '平成元年度');
  });

  it('西暦 for a foreign national', () => {
    assert.equal(toSeireki('1963-09-25'), '1963年9月25日');
  });
});
