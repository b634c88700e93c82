import type { Resident } from '../store/resident-store.ts';
import { parseCsv } from './csv.ts';

const REQUIRED = ['id', 'householdId', 'name', 'nameKana', 'birthDate', 'sex', 'address', 'relationshipToHead'] as const;
const OPTIONAL = ['domicile', 'domicileHead', 'status', 'supportMeasure'] as const;

/** A problem with one CSV line. */
export interface CsvProblem {
  line: number;
  message: string;
}

function validDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/** Parses and validates a resident CSV; returns either every resident or every problem. */
export function parseResidentCsv(text: string): { residents: Resident[]; problems: CsvProblem[] } {
  let rows: ReturnType<typeof parseCsv>;
  try {
    rows = parseCsv(text);
  } catch (e) {
    return { residents: [], problems: [{ line: 0, message: (e as Error).message }] };
  }
  const header = rows.shift();
  if (!header) return { residents: [], problems: [{ line: 1, message: 'the file is empty; expected a header row' }] };
  const cols = header.fields.map((f) => f.trim());
  const problems: CsvProblem[] = [];
  for (const c of cols) {
    if (!(REQUIRED as readonly string[]).includes(c) && !(OPTIONAL as readonly string[]).includes(c)) problems.push({ line: header.line, message: `unknown column "${c}"` });
  }
  for (const c of REQUIRED) if (!cols.includes(c)) problems.push({ line: header.line, message: `missing column "${c}"` });
  for (const c of new Set(cols.filter((c, i) => cols.indexOf(c) !== i))) problems.push({ line: header.line, message: `duplicate column "${c}"` });
  if (problems.length) return { residents: [], problems };

  const residents: Resident[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const bad = (message: string) => problems.push({ line: row.line, message });
    if (row.fields.length !== cols.length) {
      bad(`expected ${cols.length} fields, found ${row.fields.length}`);
      continue;
    }
    const v = Object.fromEntries(cols.map((c, i) => [c, row.fields[i]!.trim()])) as Record<string, string>;
    const before = problems.length;
    for (const c of REQUIRED) if (!v[c]) bad(`${c} is empty`);
    if (v['birthDate'] && !validDate(v['birthDate'])) bad(`birthDate "${v['birthDate']}" is not a YYYY-MM-DD date`);
    if (v['sex'] && !['1', '2', '9'].includes(v['sex'])) bad(`sex "${v['sex']}" must be 1 (male), 2 (female) or 9`);
    const status = v['status'] || 'active';
    if (!['active', 'moved_out', 'deceased'].includes(status)) bad(`status "${status}" must be active, moved_out or deceased`);
    const support = v['supportMeasure'] || 'false';
    if (!['true', 'false'].includes(support)) bad(`supportMeasure "${support}" must be true or false`);
    if (v['id'] && seen.has(v['id'])) bad(`duplicate id "${v['id']}"`);
    seen.add(v['id'] ?? '');
    if (problems.length > before) continue;
    residents.push({
      id: v['id']!,
      householdId: v['householdId']!,
      name: v['name']!,
      nameKana: v['nameKana']!,
      birthDate: v['birthDate']!,
      sex: v['sex'] as Resident['sex'],
      address: v['address']!,
      relationshipToHead: v['relationshipToHead']!,
      domicile: v['domicile'] || null,
      domicileHead: v['domicileHead'] || null,
      status: status as Resident['status'],
      supportMeasure: support === 'true',
    });
  }
  if (rows.length === 0) problems.push({ line: header.line + 1, message: 'no resident rows after the header' });
  return problems.length ? { residents: [], problems } : { residents, problems };
}
