// A resident register big enough for load tests: the demo residents plus generated households
// whose names are all distinct (none contains another), each adult with a card from the test PKI.
import { readFileSync } from 'node:fs';
import { DEMO_RESIDENTS_CSV, type ExtraResidents } from '../demo/seed-demo.ts';
import { issueResidentAuthCard, type PkiCredential, type TestPkiManifest } from '../pki/test-pki.ts';

/** One person of the register, as the invariant checks need them. */
export interface RegisterPerson {
  id: string;
  householdId: string;
  name: string;
  relationshipToHead: string;
  active: boolean;
  /** Residents under a support measure cannot apply online (the server refuses). */
  supportMeasure: boolean;
}

/** The whole register a load target is seeded with, and the cards of those who can apply. */
export interface LoadRegister {
  people: RegisterPerson[];
  /** Card by resident id, for every active resident who may apply online. */
  cards: Record<string, PkiCredential>;
  /** What `seedDemo` imports beyond the demo register. */
  extra: ExtraResidents;
}

const FAMILIES: [string, string][] = [
  ['青木', 'アオキ'], ['石川', 'イシカワ'], ['上田', 'ウエダ'], ['遠藤', 'エンドウ'], ['大野', 'オオノ'], ['加藤', 'カトウ'],
  ['木村', 'キムラ'], ['小林', 'コバヤシ'], ['斎藤', 'サイトウ'], ['清水', 'シミズ'], ['田中', 'タナカ'], ['中村', 'ナカムラ'],
  ['野口', 'ノグチ'], ['橋本', 'ハシモト'], ['福田', 'フクダ'], ['松本', 'マツモト'], ['村上', 'ムラカミ'], ['森田', 'モリタ'],
  ['山口', 'ヤマグチ'], ['吉田', 'ヨシダ'], ['渡辺', 'ワタナベ'], ['菅野', 'カンノ'], ['近藤', 'コンドウ'], ['今井', 'イマイ'],
  ['岡田', 'オカダ'], ['藤井', 'フジイ'], ['西村', 'ニシムラ'], ['原田', 'ハラダ'], ['池田', 'イケダ'], ['前田', 'マエダ'],
];
// Head, spouse, child: a household of up to three, so household certificates name several people.
const MEMBERS: { given: [string, string][]; sex: string; relationship: string }[] = [
  { given: [['健一', 'ケンイチ'], ['直樹', 'ナオキ'], ['大輔', 'ダイスケ']], sex: '1', relationship: '世帯主' },
  { given: [['陽子', 'ヨウコ'], ['真理', 'マリ'], ['美穂', 'ミホ']], sex: '2', relationship: '妻' },
  { given: [['翔太', 'ショウタ'], ['拓也', 'タクヤ'], ['悠人', 'ユウト']], sex: '1', relationship: '子' },
];
const CSV_HEADER = 'id,householdId,name,nameKana,birthDate,sex,address,relationshipToHead,domicile,domicileHead,status,supportMeasure';

/** The demo register (scripts/demo/residents.csv; our own file, no quoted fields). */
export function demoRegister(): RegisterPerson[] {
  const [header, ...rows] = readFileSync(DEMO_RESIDENTS_CSV, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const cols = header!.split(',');
  return rows.map((line) => {
    const cells = line.split(',');
    const get = (c: string) => cells[cols.indexOf(c)] ?? '';
    return {
      id: get('id'),
      householdId: get('householdId'),
      name: get('name'),
      relationshipToHead: get('relationshipToHead'),
      active: get('status') === 'active',
      supportMeasure: get('supportMeasure') === 'true',
    };
  });
}

/** Name without spaces, as it is compared with the text of a PDF. */
export function compactName(name: string): string {
  return name.replace(/\s+/g, '');
}

/**
 * The demo register plus `households` generated households (sizes 1, 2, 3, 1, 2, 3 …), with a
 * card issued into `cardDir` for every generated resident. Throws if any name would contain another.
 */
export async function buildLoadRegister(pki: TestPkiManifest, cardDir: string, households: number): Promise<LoadRegister> {
  if (households > FAMILIES.length * MEMBERS[0]!.given.length) throw new Error(`at most ${FAMILIES.length * 3} generated households`);
  const lines: string[] = [CSV_HEADER];
  const generated: RegisterPerson[] = [];
  for (let h = 0; h < households; h++) {
    const [family, familyKana] = FAMILIES[h % FAMILIES.length]!;
    const variant = Math.floor(h / FAMILIES.length);
    const householdId = `HS${String(h + 1).padStart(3, '0')}`;
    const address = `テスト市試験町${h + 1}番${variant + 1}号`;
    const size = (h % 3) + 1;
    const headName = `${family} ${MEMBERS[0]!.given[variant]![0]}`;
    for (let m = 0; m < size; m++) {
      const role = MEMBERS[m]!;
      const [given, givenKana] = role.given[variant]!;
      const id = `S${String(h + 1).padStart(3, '0')}${m + 1}`;
      const name = `${family} ${given}`;
      const birthYear = m === 2 ? 2010 + (h % 10) : 1960 + ((h * 3 + m) % 40);
      const birthDate = `${birthYear}-${String((h % 12) + 1).padStart(2, '0')}-${String((m * 7 + h) % 28 + 1).padStart(2, '0')}`;
      lines.push([id, householdId, name, `${familyKana} ${givenKana}`, birthDate, role.sex, address, role.relationship, `テスト市試験町${h + 1}番地`, headName, 'active', 'false'].join(','));
      generated.push({ id, householdId, name, relationshipToHead: role.relationship, active: true, supportMeasure: false });
    }
  }
  const people = [...demoRegister(), ...generated];
  for (const a of people) {
    for (const b of people) {
      if (a !== b && compactName(a.name).includes(compactName(b.name))) throw new Error(`register names overlap: ${a.name} / ${b.name}`);
    }
  }
  const issued = await Promise.all(generated.map(async (p) => [p.id, await issueResidentAuthCard(pki, p.id, cardDir)] as const));
  const generatedCards = Object.fromEntries(issued);
  const cards: Record<string, PkiCredential> = { ...generatedCards };
  for (const p of people) {
    const demoCard = pki.residents[p.id]?.auth;
    if (demoCard && p.active && !p.supportMeasure) cards[p.id] = demoCard;
  }
  return { people, cards, extra: { csv: lines.join('\n') + '\n', cards: generatedCards } };
}
