// A typical document for the render workers' warm-up and the benchmark: the common kana, kanji and
// digits of every certificate, all in IPAex and IPAmj Mincho.
import type { DocumentRequest } from './document-request.ts';

/** A household's 住民票の写し as a render request, `copies` pages long. */
export function sampleJuminhyoRequest(copies = 1, verificationCode = 'K7QM-2XWD-9HFA-3TRC'): DocumentRequest {
  return {
    kind: 'juminhyo',
    input: {
      municipality: { code: '999991', name: 'テスト市' },
      address: 'テスト県テスト市中央町二丁目3番4号',
      householdHeadName: '山田 太郎',
      entries: [
        { name: '山田 太郎', nameKana: 'やまだ たろう', birthDate: '1985-04-12', sex: '1', relationshipToHead: '世帯主', domicile: '東京都千代田区千代田一丁目1番地', domicileHead: '山田 太郎' },
        { name: '山田 花子', nameKana: 'ヤマダ ハナコ', birthDate: '1989-01-07', sex: '2', relationshipToHead: '妻', domicile: '東京都千代田区千代田一丁目1番地', domicileHead: '山田 太郎' },
        { name: '山田 一郎', nameKana: 'ヤマダ イチロウ', birthDate: '2015-01-05', sex: '1', relationshipToHead: '子', domicile: '東京都千代田区千代田一丁目1番地', domicileHead: '山田 太郎' },
      ],
      options: { scope: 'household', includeDomicile: true, includeRelationship: true },
      copies,
      issuedAt: new Date('2026-11-24T01:00:00Z'),
      verificationCode,
      verificationUrl: `https://cert.example.lg.jp/verify/${verificationCode}`,
    },
  };
}
