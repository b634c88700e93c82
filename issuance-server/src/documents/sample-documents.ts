// A realistic request of every kind, for the render workers' warm-up, the benchmark and the tests:
// a household, its 戸籍 and its tax record, written with the common kana, kanji and digits of the
// certificates, with a generated 公印 and seal impression.
import type { CertificateDocument, CertificateFrame } from './certificate-model.ts';
import { greyPng } from './grey-png.ts';
import { DEFAULT_ERAS } from './wareki.ts';

/** Every kind of certificate document. */
export const DOCUMENT_KINDS = ['juminhyo', 'juminhyo_kisai', 'inkan', 'kazei', 'koseki_zenbu', 'koseki_kojin', 'koseki_fuhyo'] as const satisfies readonly CertificateDocument['kind'][];

const DPI = 600;
const px = (mm: number) => Math.round((mm / 25.4) * DPI);

/** An axis-parallel stroke of a seal's engraving, in units of the seal's width from its top left: [x0, y0, x1, y1]. */
type Stroke = [number, number, number, number];

/** 山 over 田, for the round seal. */
const YAMADA: Stroke[] = [
  [0.3, 0.3, 0.3, 0.45], [0.5, 0.17, 0.5, 0.45], [0.7, 0.3, 0.7, 0.45], [0.3, 0.45, 0.7, 0.45],
  [0.32, 0.54, 0.68, 0.54], [0.32, 0.68, 0.68, 0.68], [0.32, 0.82, 0.68, 0.82], [0.32, 0.54, 0.32, 0.82], [0.5, 0.54, 0.5, 0.82], [0.68, 0.54, 0.68, 0.82],
];

/** Nine seal-script-like characters in three columns (口, 十, 三, 川 in turn), for the square 公印. */
const SEAL_SCRIPT: Stroke[] = Array.from({ length: 9 }, (_, i): Stroke[] => {
  const [x, y, w] = [0.17 + (i % 3) * 0.23, 0.17 + Math.floor(i / 3) * 0.23, 0.19];
  const shapes: Stroke[][] = [
    [[x, y, x + w, y], [x, y + w, x + w, y + w], [x, y, x, y + w], [x + w, y, x + w, y + w]],
    [[x, y + w / 2, x + w, y + w / 2], [x + w / 2, y, x + w / 2, y + w]],
    [[x, y, x + w, y], [x, y + w / 2, x + w, y + w / 2], [x, y + w, x + w, y + w]],
    [[x, y, x, y + w], [x + w / 2, y, x + w / 2, y + w], [x + w, y, x + w, y + w]],
  ];
  return shapes[i % shapes.length]!;
}).flat();

/** A seal `mm` wide: the strokes `strokeMm` wide, inside a ring (round) or a heavy square border. */
function seal(mm: number, shape: 'round' | 'square', strokes: readonly Stroke[], strokeMm: number): Uint8Array<ArrayBuffer> {
  const n = px(mm);
  const half = strokeMm / mm / 2;
  return greyPng(n, n, DPI, (x, y) => {
    const [u, v] = [(x + 0.5) / n, (y + 0.5) / n];
    const edge = shape === 'round' ? 0.5 - Math.hypot(u - 0.5, v - 0.5) : Math.min(u, v, 1 - u, 1 - v);
    if (edge >= 0 && edge < 4 * half) return true;
    return strokes.some(([x0, y0, x1, y1]) => u >= x0 - half && u <= x1 + half && v >= y0 - half && v <= y1 + half);
  });
}

let images: { officialSeal: Uint8Array<ArrayBuffer>; seal: Uint8Array<ArrayBuffer> } | null = null;
/** The generated images, made once: drawing them pixel by pixel takes a few milliseconds. */
function sampleImages(): { officialSeal: Uint8Array<ArrayBuffer>; seal: Uint8Array<ArrayBuffer> } {
  return (images ??= { officialSeal: seal(21, 'square', SEAL_SCRIPT, 0.5), seal: seal(15, 'round', YAMADA, 0.7) });
}

function frame(kind: CertificateDocument['kind'], copies: number, verificationCode: string): CertificateFrame {
  const texts: Record<CertificateDocument['kind'], [title: string, subtitle: string | null, subject: string, certification: string]> = {
    juminhyo: ['住民票の写し', '(世帯全員)', '山田 太郎', 'この写しは、世帯全員の住民票の原本と相違ないことを証明する。'],
    juminhyo_kisai: ['住民票記載事項証明書', '(世帯一部)', '山田 太郎', '上記の事項は、住民票の原本と相違ないことを証明する。'],
    inkan: ['印鑑登録証明書', null, '山田 太郎', 'この写しは、登録された印影と相違ないことを証明します。'],
    kazei: ['課税証明書', '令和8年度(令和7年分)', '山田 太郎', '上記のとおり証明します。'],
    koseki_zenbu: ['全部事項証明', null, '甲野　義太郎', 'これは、戸籍に記録されている事項の全部を証明した書面である。'],
    koseki_kojin: ['個人事項証明', null, '甲野　義太郎', 'これは、戸籍中の一部の者について記録されている事項の全部を証明した書面である。'],
    koseki_fuhyo: ['戸籍の附票の写し', null, '甲野　義太郎', 'この写しは、戸籍の附票の原本と相違ないことを証明する。'],
  };
  const [title, subtitle, subject, certification] = texts[kind];
  return {
    municipality: { code: '999991', name: 'テスト市' },
    title,
    subtitle,
    subject,
    issueNumber: { date: '20261124', terminal: 'KIOSK-0001', firstSerial: 101 },
    issuanceId: '5f0c2a9e-8d1b-4c47-9a3e-2b6d7f10c4e8',
    certification,
    signer: { title: 'テスト県テスト市長', name: '市川　正義' },
    officialSeal: { png: sampleImages().officialSeal, sizeMm: 21 },
    issuedAt: new Date('2026-11-24T01:00:00Z'),
    verificationCode,
    verificationUrl: `https://cert.example.lg.jp/verify/${verificationCode}`,
    eras: DEFAULT_ERAS.map((era) => ({ ...era })),
    copies,
  };
}

const DOMICILE = '東京都千代田区千代田一丁目1番地';
const NO_RESIDENCE = { nationality: null, residenceStatus: null, residenceCardNumber: null, residenceExpiry: null };
const HOUSEHOLD = [
  { name: '山田 太郎', nameKana: 'ヤマダ タロウ', oldSurname: null, alias: null, birthDate: '1985-04-12', foreign: false, sex: '1', relationship: '世帯主', domicile: DOMICILE, domicileHead: '山田 太郎', residentSince: '2012-04-01', addressSince: '2018-10-15', ...NO_RESIDENCE },
  { name: '山田 花子', nameKana: 'ヤマダ ハナコ', oldSurname: '佐藤', alias: null, birthDate: '1989-01-07', foreign: false, sex: '2', relationship: '妻', domicile: DOMICILE, domicileHead: '山田 太郎', residentSince: '2014-06-20', addressSince: '2018-10-15', ...NO_RESIDENCE },
  { name: '山田 一郎', nameKana: 'ヤマダ イチロウ', oldSurname: null, alias: null, birthDate: '2019-05-01', foreign: false, sex: '1', relationship: '子', domicile: DOMICILE, domicileHead: '山田 太郎', residentSince: '2019-05-01', addressSince: '2019-05-01', ...NO_RESIDENCE },
] as const;

const HONSEKI = '東京都千代田区平河町一丁目10番地';
const event = (type: string, ...fields: [string, string][]) => ({ type, fields });
const KOSEKI_PERSONS = [
  {
    removed: false, surname: '甲野', givenName: '義太郎', surnameKana: null, givenNameKana: null, birthDate: '1950-05-03', foreign: false,
    spouseRole: '夫', father: '甲野幸雄', mother: '甲野松子', relationship: '長男', adoptiveFather: null, adoptiveMother: null, adoptiveRelationship: null,
    events: [
      event('出生', ['出生日', '1950-05-03'], ['出生地', '東京都千代田区'], ['届出日', '1950-05-10'], ['届出人', '父']),
      event('婚姻', ['婚姻日', '1976-06-01'], ['配偶者氏名', '乙野梅子'], ['従前戸籍', '東京都千代田区平河町一丁目10番地　甲野幸雄']),
    ],
  },
  {
    removed: false, surname: '甲野', givenName: '梅子', surnameKana: null, givenNameKana: null, birthDate: '1952-01-08', foreign: false,
    spouseRole: '妻', father: '乙野忠治', mother: '乙野春子', relationship: '長女', adoptiveFather: null, adoptiveMother: null, adoptiveRelationship: null,
    events: [
      event('出生', ['出生日', '1952-01-08'], ['出生地', '神奈川県横浜市中区'], ['届出日', '1952-01-15'], ['届出人', '父'], ['送付を受けた日', '1952-01-20'], ['受理者', '横浜市中区長']),
      event('婚姻', ['婚姻日', '1976-06-01'], ['配偶者氏名', '甲野義太郎'], ['従前戸籍', '神奈川県横浜市中区本町一丁目1番地　乙野忠治']),
    ],
  },
  {
    removed: true, surname: '甲野', givenName: '啓太郎', surnameKana: null, givenNameKana: null, birthDate: '1979-03-15', foreign: false,
    spouseRole: null, father: '甲野義太郎', mother: '甲野梅子', relationship: '長男', adoptiveFather: null, adoptiveMother: null, adoptiveRelationship: null,
    events: [
      event('出生', ['出生日', '1979-03-15'], ['出生地', '東京都千代田区'], ['届出日', '1979-03-22'], ['届出人', '父']),
      event('婚姻', ['婚姻日', '2008-10-10'], ['配偶者氏名', '丙野春子'], ['新本籍', '東京都港区芝公園四丁目2番地'], ['称する氏', '夫の氏']),
    ],
  },
];

/** A realistic request of `kind` in `copies` copies, fresh for the caller to change; `verificationCode` tells documents apart. */
export function sampleDocument(kind: CertificateDocument['kind'], copies = 1, verificationCode = 'K7QM-2XWD-9HFA-3TRC'): CertificateDocument {
  return structuredClone(sample(kind, frame(kind, copies, verificationCode)));
}

function sample(kind: CertificateDocument['kind'], f: CertificateFrame): CertificateDocument {
  const address = { address: 'テスト県テスト市中央町二丁目3番4号', addressBuilding: 'テストハイツ101号' };
  switch (kind) {
    case 'juminhyo':
      return { kind, frame: f, body: { ...address, householdHead: '山田 太郎', scope: 'household', showDomicile: true, persons: HOUSEHOLD.map((p) => ({ ...p })) } };
    case 'juminhyo_kisai':
      return { kind, frame: f, body: { ...address, householdHead: null, scope: 'part', showDomicile: false, persons: [{ ...HOUSEHOLD[0], relationship: null, domicile: null, domicileHead: null }] } };
    case 'inkan':
      return {
        kind,
        frame: f,
        body: { name: '山田 太郎', oldSurname: null, alias: null, birthDate: '1985-04-12', foreign: false, sex: null, ...address, remarks: [], seal: { png: sampleImages().seal, widthMm: 15, heightMm: 15 } },
      };
    case 'kazei':
      return {
        kind,
        frame: f,
        body: {
          nontaxed: false,
          address: 'テスト県テスト市中央町二丁目3番4号',
          name: '山田 太郎',
          birthDate: '1985-04-12',
          foreign: false,
          sex: '1',
          amounts: {
            salaryRevenue: 5_200_000, salaryIncome: 3_660_000, pensionRevenue: 0, pensionIncome: 0, businessIncome: 0, agricultureIncome: 0,
            realEstateIncome: 0, dividendIncome: 0, interestIncome: 0, miscIncome: 0, capitalOccasionalIncome: 0, separateTaxIncome: 0,
            totalIncome: 3_660_000, totalIncomeEtc: 3_660_000,
            dedSocialInsurance: 781_200, dedSmallBizMutual: 0, dedLifeInsurance: 56_000, dedEarthquake: 25_000, dedMedical: 0, dedCasualty: 0,
            dedDisability: 0, dedWidow: 0, dedSingleParent: 0, dedWorkingStudent: 0, dedSpouse: 330_000, dedSpouseSpecial: 0,
            dedDependents: 0, dedBasic: 430_000, dedTotal: 1_622_200,
            taxableStandard: 2_037_000, taxableSeparate: 0,
            cityIncomeLevy: 119_700, cityPerCapita: 3_000, prefIncomeLevy: 79_800, prefPerCapita: 1_000, forestEnvTax: 1_000, annualTax: 204_500,
          },
          spouseDeduction: true,
          counts: { depGeneral: 0, depSpecific: 0, depElderly: 0, depElderlyCohabiting: 0, depUnder16: 1, disabledSpecial: 0, disabledSpecialCohabiting: 0, disabledOrdinary: 0 },
          remarks: null,
        },
      };
    case 'koseki_zenbu':
    case 'koseki_kojin':
      return {
        kind,
        frame: f,
        body: {
          honseki: HONSEKI,
          headName: '甲野　義太郎',
          kosekiEvents: [event('戸籍改製', ['改製日', '1994-10-01'], ['改製事由', '平成6年法務省令第51号附則第2条第1項による改製'])],
          persons: kind === 'koseki_zenbu' ? KOSEKI_PERSONS : KOSEKI_PERSONS.slice(1, 2),
        },
      };
    case 'koseki_fuhyo':
      return {
        kind,
        frame: f,
        body: {
          honseki: null,
          headName: null,
          whole: true,
          persons: KOSEKI_PERSONS.map((p, i) => ({
            name: `${p.surname}\u3000${p.givenName}`,
            birthDate: p.birthDate,
            foreign: p.foreign,
            sex: i === 1 ? '2' : '1',
            removed: p.removed,
            addresses: [
              { address: '東京都千代田区平河町一丁目10番地', since: i === 2 ? p.birthDate : '1994-10-01' },
              ...(i === 2 ? [] : [{ address: 'テスト県テスト市中央町二丁目3番4号', since: '2003-07-20' }]),
            ],
          })),
        },
      };
  }
}
