import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openCertificateFont, type CertificateFont } from '../../src/documents/certificate-font.ts';
import { DocumentError } from '../../src/documents/document-error.ts';
import { renderPdf } from '../../src/documents/document-pdf.ts';
import { documentLayout } from '../../src/documents/document-request.ts';
import { IPAMJ_FONT_PATH, loadFontBytes } from '../../src/documents/font-source.ts';
import { compileHbSubset } from '../../src/documents/hb-subset.ts';
import { juminhyoLayout, type JuminhyoDocumentInput } from '../../src/documents/juminhyo-document.ts';
import { pageQrCode, pdfText } from './pdf-tools.ts';

const run = promisify(execFile);

const DOMICILE = '東京都千代田区千代田一丁目1番地';

function household(overrides: Partial<JuminhyoDocumentInput> = {}): JuminhyoDocumentInput {
  return {
    municipality: { code: '999991', name: 'テスト市' },
    address: 'テスト県テスト市中央町二丁目3番4号',
    householdHeadName: '山田 太郎',
    entries: [
      { name: '山田 太郎', nameKana: 'やまだ たろう', birthDate: '1985-04-12', sex: '1', relationshipToHead: '世帯主', domicile: DOMICILE, domicileHead: '山田 太郎' },
      { name: '山田 花子', nameKana: 'やまだ はなこ', birthDate: '1989-01-07', sex: '2', relationshipToHead: '妻', domicile: DOMICILE, domicileHead: '山田 太郎' },
      { name: '山田 翔', nameKana: 'やまだ しょう', birthDate: '2019-05-01', sex: '9', relationshipToHead: '子', domicile: DOMICILE, domicileHead: '山田 太郎' },
    ],
    options: { scope: 'household', includeDomicile: true, includeRelationship: true },
    copies: 1,
    issuedAt: new Date('2026-11-23T22:00:00Z'), // already 2026-11-24 in Japan
    verificationCode: 'K7QM-2XWD-9HFA-3TRC',
    verificationUrl: 'https://cert.example.lg.jp/verify/K7QM-2XWD-9HFA-3TRC',
    ...overrides,
  };
}

describe('documents/juminhyo-document', function () {
  this.timeout(60_000);
  let dir: string;
  let font: CertificateFont;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'juminhyo-test-'));
    font = await openCertificateFont(await loadFontBytes(), await compileHbSubset());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const render = (input: JuminhyoDocumentInput, using: CertificateFont = font) => renderPdf(juminhyoLayout(input), using);

  async function renderToFile(name: string, input: JuminhyoDocumentInput, using: CertificateFont = font): Promise<{ path: string; bytes: Uint8Array; text: string }> {
    const bytes = await render(input, using);
    const path = join(dir, `${name}.pdf`);
    writeFileSync(path, bytes);
    return { path, bytes, text: await pdfText(path) };
  }

  it('renders a household of 3 as extractable text on A4, one page per copy', async () => {
    const { path, bytes, text } = await renderToFile('household', household({ copies: 2 }));
    for (const s of ['テスト市', '住民票の写し', '(世帯全員)', '住所', 'テスト県テスト市中央町二丁目3番4号', '世帯主',
      '山田 太郎', '山田 花子', '山田 翔', 'やまだ はなこ', '昭和60年4月12日', '昭和64年1月7日', '令和元年5月1日',
      '男', '女', '—', '続柄', '本籍', DOMICILE, '筆頭者',
      'この写しは、住民票の原本と相違ないことを証明する。', '令和8年11月24日 (2026-11-24)', 'テスト市長', '(公印省略)',
      '検証コード', 'K7QM-2XWD-9HFA-3TRC', 'https://cert.example.lg.jp/verify/K7QM-2XWD-9HFA-3TRC',
      '(2通のうち 1通目)', '(2通のうち 2通目)']) {
      assert.ok(text.includes(s), `missing ${JSON.stringify(s)} in:\n${text}`);
    }
    assert.ok(!text.includes('1/2'), 'copies are originals, not numbered pages');
    for (const [page, mark, other] of [[1, '1通目', '2通目'], [2, '2通目', '1通目']] as const) {
      const pageText = await pdfText(path, page);
      assert.ok(pageText.includes(mark) && !pageText.includes(other) && pageText.includes('山田 花子'), `page ${page}:\n${pageText}`);
    }
    assert.ok(!text.includes('記載省略'));
    assert.ok(bytes.byteLength < 100_000, `${bytes.byteLength} bytes`);

    const { stdout: info } = await run('pdfinfo', [path]);
    assert.match(info, /^Pages:\s+2$/m);
    assert.match(info, /^Page size:\s+595\.2\d x 841\.8\d pts \(A4\)$/m);
    assert.match(info, /^Title:\s+住民票の写し$/m);

    const { stdout: fonts } = await run('pdffonts', [path]);
    assert.match(fonts, /\+IPAexMincho\s+CID TrueType\s+Identity-H\s+yes yes yes/, 'one embedded subset font with ToUnicode');

    // The QR code reads back off the raster of each page; it is one 1-bit image shared by the copies.
    for (const page of [1, 2]) assert.equal(await pageQrCode(path, page), 'https://cert.example.lg.jp/verify/K7QM-2XWD-9HFA-3TRC');
    const { stdout: images } = await run('pdfimages', ['-list', path]);
    const rows = images.split('\n').filter((l) => /^\s*\d+\s+\d+\s+image\b/.test(l)).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows.map(([page, , , , , color, , bpc, , , object]) => [page, color, bpc, object]), [
      ['1', 'gray', '1', rows[0]![10]],
      ['2', 'gray', '1', rows[0]![10]],
    ]);

    await run('pdftoppm', ['-png', '-r', '50', path, join(dir, 'page')]);
    const pngs = readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.png')).sort();
    assert.equal(pngs.length, 2);
    for (const png of pngs) {
      const data = readFileSync(join(dir, png));
      assert.ok(data.byteLength > 1000);
      assert.equal(data.subarray(1, 4).toString('latin1'), 'PNG');
    }
  });

  it('omits relationship, domicile and domicile head when not chosen, and says so', async () => {
    const input = household({
      options: { scope: 'self', includeDomicile: false, includeRelationship: false },
      entries: household().entries.slice(0, 1),
    });
    const { path, text } = await renderToFile('self', input);
    assert.ok(text.includes('(世帯一部)'));
    assert.ok(text.includes('本籍・筆頭者の記載省略'));
    assert.ok(!text.includes(DOMICILE));
    assert.ok(!text.includes('筆頭者 '), 'no domicile head row');
    assert.ok(!/本籍\s/.test(text.replace('本籍・筆頭者の記載省略', '')), 'no domicile row');
    assert.ok(!text.includes('続柄'));
    assert.ok(!text.includes('(1通のうち'));
    const { stdout: info } = await run('pdfinfo', [path]);
    assert.match(info, /^Pages:\s+1$/m);
  });

  it('keeps a household of 8 on one page per copy', async () => {
    const base = household().entries;
    const entries = Array.from({ length: 8 }, (_, i) => ({ ...base[i % 3]!, name: `山田 ${'一二三四五六七八'[i]}郎` }));
    const { path, text } = await renderToFile('eight', household({ entries }));
    for (const e of entries) assert.ok(text.includes(e.name), e.name);
    const { stdout: info } = await run('pdfinfo', [path]);
    assert.match(info, /^Pages:\s+1$/m);
  });

  it('gives the same bytes for the same input, with issuedAt as the PDF dates', async () => {
    const a = await render(household());
    const b = await render(household());
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
    // The font (and its hb-subset instance) is shared between renders; concurrent renders must not disturb each other.
    const parallel = await Promise.all([1, 2, 3, 4].map(() => render(household())));
    for (const p of parallel) assert.deepEqual(Buffer.from(p), Buffer.from(a));
    const path = join(dir, 'dates.pdf');
    writeFileSync(path, a);
    const { stdout: info } = await run('pdfinfo', ['-isodates', path]);
    assert.match(info, /^CreationDate:\s+2026-11-23T22:00:00(Z|\+00)/m);
    assert.match(info, /^ModDate:\s+2026-11-23T22:00:00(Z|\+00)/m);
  });

  it('refuses characters the font cannot draw, naming them', async () => {
    const bad = household();
    bad.entries[0] = { ...bad.entries[0]!, name: '𠮷田 \u{1F600}' };
    await assert.rejects(render(bad), (err: DocumentError) => {
      assert.ok(err instanceof DocumentError);
      assert.equal(err.code, 'glyph_missing');
      assert.deepEqual(err.glyphs, [
        { char: '𠮷', codePoint: 'U+20BB7' },
        { char: '\u{1F600}', codePoint: 'U+1F600' },
      ]);
      return true;
    });
  });

  it('refuses requests that do not describe a printable certificate', () => {
    const invalid = (input: unknown) => () => documentLayout({ kind: 'juminhyo', input });
    const isInvalid = (err: DocumentError) => err instanceof DocumentError && err.code === 'invalid_input';
    assert.throws(invalid(household({ copies: 0 })), isInvalid);
    assert.throws(invalid(household({ copies: 11 })), isInvalid);
    assert.throws(invalid(household({ entries: [] })), isInvalid);
    assert.throws(invalid(household({ issuedAt: new Date('nope') })), isInvalid);
    assert.throws(invalid({ ...household(), issuedAt: '2026-11-24T00:00:00Z' }), isInvalid);
    assert.throws(() => documentLayout({ kind: 'koseki', input: household() }), isInvalid);
  });

  it('draws IPAmj names with 𠮷 and IVS variants, which stay extractable', async () => {
    const ipamj = await openCertificateFont(await loadFontBytes(IPAMJ_FONT_PATH), await compileHbSubset());
    const input = household({ householdHeadName: '𠮷田 葛\u{E0104}城', entries: [{ ...household().entries[0]!, name: '髙橋 邉' }] });
    const { text } = await renderToFile('ipamj', input, ipamj);
    for (const s of ['𠮷田 葛\u{E0104}城', '髙橋 邉', '住民票の写し', '令和8年11月24日']) assert.ok(text.includes(s), `missing ${JSON.stringify(s)} in:\n${text}`);
  });
});
