import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CertificateDocument } from '../../src/documents/certificate-model.ts';
import { DocumentError } from '../../src/documents/document-error.ts';
import { documentLayout } from '../../src/documents/document-request.ts';
import { DOCUMENT_KINDS, sampleDocument } from '../../src/documents/sample-documents.ts';
import { pageQrCode, placedImages } from './pdf-tools.ts';
import { assertInOrder, holds, occurrences, renderDocument, renderRequest } from './rendered-document.ts';

const run = promisify(execFile);

type Of<K extends CertificateDocument['kind']> = Extract<CertificateDocument, { kind: K }>;
const sample = <K extends CertificateDocument['kind']>(kind: K, copies = 1) => sampleDocument(kind, copies) as Of<K>;
type JuminhyoPerson = Of<'juminhyo'>['body']['persons'][number];

/** A household of `birthDates.length` persons, each named after its place in the list. */
function household(birthDates: string[], change: (person: JuminhyoPerson, i: number) => Partial<JuminhyoPerson> = () => ({})): Of<'juminhyo'> {
  const request = sample('juminhyo');
  const [head] = request.body.persons;
  request.body.persons = birthDates.map((birthDate, i) => ({ ...head!, name: `山田 ${i + 1}号`, birthDate, ...change(head!, i) }));
  return request;
}

const ISSUANCE_ID = '5f0c2a9e-8d1b-4c47-9a3e-2b6d7f10c4e8';
const SIGNER = 'テスト県テスト市長 市川 正義';

describe('documents/certificate-pages', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => (dir = mkdtempSync(join(tmpdir(), 'certificate-pages-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('世帯連記式: 4 persons a page, so a household of 9 takes 3 pages, each identifying the document', async () => {
    const request = household(Array.from({ length: 9 }, (_, i) => `19${60 + i}-04-01`));
    const { path, pages } = await renderDocument(dir, 'household-9', request);
    assert.equal(pages.length, 3);
    for (const [i, page] of pages.entries()) {
      assertInOrder(page, [`発行番号 20261124 テスト市 KIOSK-0001 000101 ${i + 1}/3`, '住民票の写し (世帯全員)', '住所 テスト県テスト市中央町二丁目3番4号']);
      const persons = Array.from({ length: 9 }, (_, p) => `山田 ${p + 1}号`).filter((name) => holds(page, name));
      assert.deepEqual(persons, Array.from({ length: i === 2 ? 1 : 4 }, (_, p) => `山田 ${4 * i + p + 1}号`), `page ${i + 1}`);
      assertInOrder(page, ['検証コード K7QM-2XWD-9HFA-3TRC', '対象者 山田 太郎', `発行ID ${ISSUANCE_ID}`]);
      const last = i === 2;
      for (const s of ['以下余白', request.frame.certification, '令和8年11月24日', SIGNER]) assert.equal(holds(page, s), last, `${s} on page ${i + 1}`);
      assert.equal(await pageQrCode(path, i + 1), request.frame.verificationUrl, `QR code of page ${i + 1}`);
    }
  });

  it('a long 戸籍 flows across pages and never cuts a line', async () => {
    const request = sample('koseki_kojin');
    const long = '東京都千代田区平河町一丁目10番地甲野義太郎方から届出のあった事項について管轄法務局長の許可を得て記録した事項';
    request.body.persons[0]!.events = Array.from({ length: 36 }, (_, i) => ({
      type: i % 2 ? '更正' : '記録',
      fields: [['記録日', `20${String(i).padStart(2, '0')}-01-1${i % 10}`], ['記録事項', `事項第${i + 1}号`], ...(i === 20 ? [['備考', long] as [string, string]] : [])],
    }));
    const { pages, text } = await renderDocument(dir, 'koseki-long', request);
    assert.ok(pages.length >= 3, `${pages.length} pages`);
    for (let i = 0; i < 36; i++) {
      // Each line is whole on exactly one page.
      const line = `【記録事項】事項第${i + 1}号`;
      assert.equal(pages.filter((page) => holds(page, line)).length, 1, line);
      assert.equal(occurrences(text, line), 1, line);
    }
    // The long 備考 wraps by character count; its pieces, on consecutive lines, give it back whole.
    assert.ok(holds(text.replace(/\n\s*/g, ''), `【備考】${long}`), 'the wrapped 備考 lost characters');
    for (const [i, page] of pages.entries()) {
      assert.ok(holds(page, `000101 ${i + 1}/${pages.length}`) && holds(page, `発行ID ${ISSUANCE_ID}`) && holds(page, '対象者 甲野 義太郎'), `page ${i + 1}`);
      assert.equal(holds(page, request.frame.certification), i === pages.length - 1, `certification on page ${i + 1}`);
    }
  });

  it('gives every copy its own 発行番号, sharing everything else', async () => {
    const one = await renderDocument(dir, 'copies-1', sample('koseki_zenbu', 1));
    const three = await renderDocument(dir, 'copies-3', sample('koseki_zenbu', 3));
    assert.equal(one.pages.length, 2);
    assert.equal(three.pages.length, 6);
    for (const [i, page] of three.pages.entries()) {
      const [copy, p] = [Math.floor(i / 2), (i % 2) + 1];
      assert.ok(holds(page, `発行番号 20261124 テスト市 KIOSK-0001 ${String(101 + copy).padStart(6, '0')} ${p}/2`), `page ${i + 1}:\n${page}`);
      assert.equal(occurrences(page, '発行番号'), 1);
    }
    // The pages' content is shared between copies: two more copies cost far less than the first.
    assert.ok(three.bytes.byteLength < one.bytes.byteLength * 1.2, `${one.bytes.byteLength} → ${three.bytes.byteLength} bytes`);
    // The 公印 is embedded once and drawn on the last page of each copy.
    const { stdout } = await run('pdfimages', ['-list', three.path]);
    // Columns: page num type width height color comp bpc enc interp object …; the QR codes are ~33 px wide.
    const rows = stdout.split('\n').filter((line) => /^\s*\d+\s+\d+\s+image\b/.test(line)).map((line) => line.trim().split(/\s+/));
    const sealRows = rows.filter(([, , , width]) => Number(width) > 200);
    assert.deepEqual(sealRows.map(([page]) => page), ['2', '4', '6']);
    assert.equal(new Set(sealRows.map((row) => row[10])).size, 1, 'one image object');
  });

  it('prints 「公印省略」 and no image when there is no 公印', async () => {
    const request = sample('juminhyo');
    request.frame.officialSeal = null;
    const { text, bytes } = await renderDocument(dir, 'no-seal', request);
    assert.ok(holds(text, `${SIGNER} 公印省略`));
    assert.deepEqual((await placedImages(bytes)).filter((image) => image.widthPx > 100), []);
  });

  it('dates in 和暦 from the era table, 元年 at the boundaries; a foreign national born in 西暦', async () => {
    const request = household(['1989-01-07', '1989-01-08', '2019-04-30', '2019-05-01']);
    request.frame.issuedAt = new Date('2019-04-30T15:00:00Z'); // already 1 May in Japan
    const { pages, text } = await renderDocument(dir, 'eras', request);
    assert.equal(pages.length, 1);
    assertInOrder(text, ['昭和64年1月7日', '平成元年1月8日', '平成31年4月30日', '令和元年5月1日', request.frame.certification, '令和元年5月1日']);

    const foreign = household(['1963-09-25'], () => ({ foreign: true, nationality: 'アメリカ合衆国', residenceStatus: '永住者', residenceExpiry: '2030-03-31', residenceCardNumber: 'AB12345678CD', domicile: null, domicileHead: null }));
    foreign.frame.eras.push({ name: '新元', start: '2026-11-01' });
    const { text: foreignText } = await renderDocument(dir, 'eras-foreign', foreign);
    assertInOrder(foreignText, ['生年月日 1963年9月25日', '国籍・地域 アメリカ合衆国 在留資格 永住者', '在留期間満了日 2030年3月31日 在留カード番号 AB12345678CD', '新元元年11月24日']);
    assert.ok(!holds(foreignText, '昭和38年') && !holds(foreignText, '令和8年'));
  });

  it('prints names that need IPAmj (𠮷, 髙, 邉, an IVS variant) as extractable text', async () => {
    const names = ['𠮷田 太郎', '髙橋 邉子', '葛\u{E0104}城 花子'];
    const request = household(['1985-04-12', '1987-05-13', '1990-06-14'], (_, i) => ({ name: names[i]! }));
    request.body.householdHead = names[0]!;
    const { text, path } = await renderDocument(dir, 'ipamj', request);
    for (const name of names) assert.ok(text.includes(name), `${JSON.stringify(name)} not extracted from:\n${text}`);
    const { stdout: fonts } = await run('pdffonts', [path]);
    assert.match(fonts, /\+IPAmjMincho\s+CID TrueType\s+Identity-H\s+yes yes yes/, 'one embedded subset font with ToUnicode');
  });

  it('refuses a character the font cannot draw, naming it', async () => {
    const request = sample('juminhyo');
    request.body.persons[0]!.name = '山田 \u{1F600}';
    await assert.rejects(renderRequest(request), (err: DocumentError) => {
      assert.ok(err instanceof DocumentError && err.code === 'glyph_missing');
      assert.deepEqual(err.glyphs, [{ char: '\u{1F600}', codePoint: 'U+1F600' }]);
      return true;
    });
  });

  it('gives the same bytes for the same input, of every kind, with issuedAt as the PDF dates', async () => {
    for (const kind of DOCUMENT_KINDS) {
      const [a, b] = await Promise.all([renderRequest(sampleDocument(kind, 2)), renderRequest(sampleDocument(kind, 2))]);
      assert.deepEqual(Buffer.from(a), Buffer.from(b), kind);
    }
    const { path } = await renderDocument(dir, 'dates', sample('inkan'));
    const { stdout: info } = await run('pdfinfo', ['-isodates', path]);
    assert.match(info, /^CreationDate:\s+2026-11-24T01:00:00(Z|\+00)/m);
    assert.match(info, /^Page size:\s+595\.2\d x 841\.8\d pts \(A4\)$/m);
    assert.match(info, /^Title:\s+印鑑登録証明書$/m);
  });

  it('refuses requests that do not describe a printable certificate (invalid_input)', () => {
    const isInvalid = (err: unknown) => err instanceof DocumentError && err.code === 'invalid_input';
    const refused = (change: (request: Of<'juminhyo'>) => void) => {
      const request = sample('juminhyo');
      change(request);
      assert.throws(() => documentLayout(request), isInvalid);
    };
    refused((r) => (r.frame.copies = 0));
    refused((r) => (r.frame.copies = 11));
    refused((r) => (r.body.persons = []));
    refused((r) => (r.frame.issuedAt = new Date('nope')));
    refused((r) => ((r.frame as { issuedAt: unknown }).issuedAt = '2026-11-24T00:00:00Z'));
    refused((r) => (r.body.persons[0]!.birthDate = '1868-01-01')); // before 明治
    refused((r) => (r.body.persons[0]!.birthDate = '2023-02-30')); // no such day
    refused((r) => (r.frame.certification = 'この写しは、住民票の原本と相違ないことを証明する。'.repeat(6)));
    assert.throws(() => documentLayout({ ...sample('juminhyo'), kind: 'koseki' }), isInvalid);
    assert.throws(() => documentLayout({ ...sample('inkan'), body: sample('juminhyo').body }), isInvalid);
    const notPng = sample('inkan');
    notPng.body.seal.png = new Uint8Array(64);
    return assert.rejects(renderRequest(notPng), isInvalid);
  });
});
