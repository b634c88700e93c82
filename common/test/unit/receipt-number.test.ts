import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import {
  RECEIPT_NUMBER_LENGTH,
  dammCheckDigit,
  dammValid,
  formatReceiptNumber,
  generateReceiptNumber,
  parseReceiptNumber,
  stripReceiptSeparators,
} from '../../src/receipt-number.ts';

/** 11 random decimal digits. */
function randomBody(): string {
  let s = '';
  for (let i = 0; i < RECEIPT_NUMBER_LENGTH - 1; i++) s += String(randomInt(10));
  return s;
}

const withCheck = (body: string) => body + String(dammCheckDigit(body));

describe('receipt numbers (common/src/receipt-number.ts)', () => {
  describe('Damm check digit', () => {
    it('matches published vectors', () => {
      assert.equal(dammCheckDigit('572'), 4);
      assert.equal(dammValid('5724'), true);
      assert.equal(dammValid('5723'), false);
      // Further vectors computed by hand from the Damm 2004 table.
      assert.equal(dammCheckDigit(''), 0);
      assert.equal(dammCheckDigit('0'), 0);
      assert.equal(dammCheckDigit('1'), 3);
      assert.equal(dammCheckDigit('5724'), 0);
      assert.equal(dammCheckDigit('112946'), 0);
    });

    it('refuses non-digits', () => {
      assert.throws(() => dammCheckDigit('12a'), RangeError);
      assert.throws(() => dammCheckDigit('１２'), RangeError);
      assert.equal(dammValid(''), false);
      assert.equal(dammValid('57 24'), false);
    });

    it('appending the check digit always makes the number valid', () => {
      for (let i = 0; i < 2000; i++) assert.ok(dammValid(withCheck(randomBody())));
    });
  });

  describe('generateReceiptNumber', () => {
    it('yields 12 digits that pass the check', () => {
      for (let i = 0; i < 2000; i++) {
        const n = generateReceiptNumber();
        assert.match(n, /^[0-9]{12}$/);
        assert.ok(dammValid(n), n);
        assert.deepEqual(parseReceiptNumber(n), { ok: true, receiptNumber: n });
      }
    });

    it('does not repeat itself', () => {
      const seen = new Set<string>();
      for (let i = 0; i < 5000; i++) seen.add(generateReceiptNumber());
      assert.equal(seen.size, 5000);
    });

    it('draws every position roughly uniformly (chi-square, loose bound)', () => {
      const draws = 20_000;
      // counts[position][digit] for the 11 random positions
      const counts = Array.from({ length: RECEIPT_NUMBER_LENGTH - 1 }, () => new Array<number>(10).fill(0));
      for (let i = 0; i < draws; i++) {
        const n = generateReceiptNumber();
        for (let p = 0; p < RECEIPT_NUMBER_LENGTH - 1; p++) counts[p]![n.charCodeAt(p) - 48]!++;
      }
      const expected = draws / 10;
      for (const [p, row] of counts.entries()) {
        const chi2 = row.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
        // 9 degrees of freedom: p = 1e-6 is at about 46; a biased digit (e.g. modulo bias of
        // bytes 250..255, +2.4 % on 0..5) or a stuck digit would be far above.
        assert.ok(chi2 < 46, `position ${p}: chi-square ${chi2.toFixed(1)} over ${JSON.stringify(row)}`);
      }
    });
  });

  describe('error detection (exhaustive over random numbers)', () => {
    const samples = 3000;

    it('catches every single-digit substitution', () => {
      let checked = 0;
      for (let s = 0; s < samples; s++) {
        const n = withCheck(randomBody());
        for (let pos = 0; pos < n.length; pos++) {
          for (let d = 0; d < 10; d++) {
            if (String(d) === n[pos]) continue;
            const typo = n.slice(0, pos) + String(d) + n.slice(pos + 1);
            assert.equal(dammValid(typo), false, `${n} → ${typo} slipped through`);
            const parsed = parseReceiptNumber(typo);
            assert.deepEqual(parsed, { ok: false, reason: 'check_digit' });
            checked++;
          }
        }
      }
      assert.equal(checked, samples * 12 * 9);
    });

    it('catches every swap of neighbouring different digits (check digit included)', () => {
      let checked = 0;
      for (let s = 0; s < samples; s++) {
        const n = withCheck(randomBody());
        for (let pos = 0; pos + 1 < n.length; pos++) {
          if (n[pos] === n[pos + 1]) continue;
          const swapped = n.slice(0, pos) + n[pos + 1] + n[pos] + n.slice(pos + 2);
          assert.equal(dammValid(swapped), false, `${n} → ${swapped} slipped through`);
          checked++;
        }
      }
      assert.ok(checked > samples * 9, `only ${checked} swaps checked`);
    });

    it('the table is a quasigroup and totally anti-symmetric (exhaustive over all interims)', () => {
      // Exhaustive over all digit pairs and every interim: together with the quasigroup property
      // this is what makes the two properties above hold for every number, not just the sampled ones.
      for (let c = 0; c < 10; c++) {
        assert.equal(dammCheckDigit(c === 0 ? '' : String([...'0123456789'].findIndex((d) => dammCheckDigit(d) === c))), c);
        for (let a = 0; a < 10; a++) {
          for (let b = 0; b < 10; b++) {
            if (a === b) continue;
            // a one-digit prefix whose interim is c (row 0 of the table is a permutation)
            const prefix = c === 0 ? '' : String([...'0123456789'].findIndex((d) => dammCheckDigit(d) === c));
            // two digits on the same prefix, swapped, never land on the same interim
            assert.notEqual(dammCheckDigit(prefix + `${a}${b}`), dammCheckDigit(prefix + `${b}${a}`));
            // two different digits on the same prefix never land on the same interim
            assert.notEqual(dammCheckDigit(prefix + `${a}`), dammCheckDigit(prefix + `${b}`));
          }
        }
      }
    });
  });

  describe('parseReceiptNumber', () => {
    const valid = withCheck('12345678901');

    it('accepts the plain digits', () => {
      assert.deepEqual(parseReceiptNumber(valid), { ok: true, receiptNumber: valid });
    });

    it('accepts hyphens and spaces in any place', () => {
      const variants = [
        formatReceiptNumber(valid),
        valid.split('').join(' '),
        valid.split('').join('-'),
        ` ${valid.slice(0, 1)}--${valid.slice(1, 7)}  ${valid.slice(7)} `,
        `-${valid}-`,
        `${valid.slice(0, 3)}\t${valid.slice(3)}`,
        // typographic and full-width dashes people paste from documents
        `${valid.slice(0, 4)}‐${valid.slice(4, 8)}－${valid.slice(8)}`,
        `${valid.slice(0, 4)}ー${valid.slice(4, 8)}―${valid.slice(8)}`,
        `${valid.slice(0, 4)}\u3000${valid.slice(4)}`, // ideographic space
      ];
      for (const v of variants) assert.deepEqual(parseReceiptNumber(v), { ok: true, receiptNumber: valid }, JSON.stringify(v));
    });

    it('accepts full-width digits', () => {
      const fullWidth = valid.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
      assert.deepEqual(parseReceiptNumber(fullWidth), { ok: true, receiptNumber: valid });
      const mixed = fullWidth.slice(0, 6) + '-' + valid.slice(6);
      assert.deepEqual(parseReceiptNumber(mixed), { ok: true, receiptNumber: valid });
    });

    it('rejects letters and other characters as not_digits', () => {
      for (const bad of [valid.slice(0, 11) + 'a', 'O' + valid.slice(1), `${valid}.`, `${valid.slice(0, 4)}/${valid.slice(4)}`, '１２３x', '١٢٣٤٥٦٧٨٩٠١٢']) {
        assert.deepEqual(parseReceiptNumber(bad), { ok: false, reason: 'not_digits' }, bad);
      }
    });

    it('rejects short and long numbers with their reason', () => {
      assert.deepEqual(parseReceiptNumber(''), { ok: false, reason: 'too_short' });
      assert.deepEqual(parseReceiptNumber('- -'), { ok: false, reason: 'too_short' });
      assert.deepEqual(parseReceiptNumber(valid.slice(0, 11)), { ok: false, reason: 'too_short' });
      assert.deepEqual(parseReceiptNumber('5724'), { ok: false, reason: 'too_short' });
      assert.deepEqual(parseReceiptNumber(valid + '0'), { ok: false, reason: 'too_long' });
      assert.deepEqual(parseReceiptNumber(withCheck(valid)), { ok: false, reason: 'too_long' });
    });

    it('rejects a wrong check digit as check_digit', () => {
      const last = Number(valid[11]);
      const wrong = valid.slice(0, 11) + String((last + 1) % 10);
      assert.deepEqual(parseReceiptNumber(wrong), { ok: false, reason: 'check_digit' });
      assert.deepEqual(parseReceiptNumber(formatReceiptNumber(wrong)), { ok: false, reason: 'check_digit' });
    });

    it('stripReceiptSeparators keeps digits only or answers null', () => {
      assert.equal(stripReceiptSeparators(' 12-3４ '), '1234');
      assert.equal(stripReceiptSeparators('12_34'), null);
      assert.equal(stripReceiptSeparators(''), '');
    });
  });

  describe('formatReceiptNumber', () => {
    it('groups 4-4-4', () => {
      assert.equal(formatReceiptNumber('123456789012'), '1234-5678-9012');
      const n = generateReceiptNumber();
      const f = formatReceiptNumber(n);
      assert.match(f, /^\d{4}-\d{4}-\d{4}$/);
      assert.deepEqual(parseReceiptNumber(f), { ok: true, receiptNumber: n });
    });
  });
});
