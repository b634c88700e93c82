// CSV imports of the municipality's records (certificates.md conventions: camelCase headers,
// YYYY-MM-DD dates, true/false flags, empty = not recorded). Every file is checked whole: either
// every record is returned, or every problem, with its file and line, and nothing is imported.
// A row's `version` column is the source system's version of the record (epoch milliseconds of
// its change is the recommended choice, so imports and live updates compare); without one, a
// row gets `defaultVersion` (the import's time).
import {
  TAX_AMOUNT_FIELDS,
  TAX_COUNT_FIELDS,
  kosekiRecordSchema,
  kosekiRegistrationSchema,
  residentRecordSchema,
  sealRegistrationRecordSchema,
  taxRecordSchema,
  type KosekiRecord,
  type KosekiRegistration,
  type ResidentRecord,
  type SealRegistrationRecord,
  type TaxRecord,
} from '@cert/common';
import type { RecordChange } from '@cert/common';
import type { z } from 'zod';
import { parseCsv } from './csv.ts';
import { printSizeProblem } from './png-info.ts';
import { unprintableFields, type TextCoverage } from './printable-text.ts';

/** How rows are read: the version of rows without one, and what the certificate font can print. */
export interface ImportOptions {
  /** The import's time, in epoch milliseconds. */
  defaultVersion: number;
  coverage: TextCoverage;
}

/** A problem with one line of one file. */
export interface CsvProblem {
  file: string;
  line: number;
  message: string;
}

/** Either every record or every problem. */
export type ImportResult<T> = { ok: true; records: T[] } | { ok: false; problems: CsvProblem[] };

interface Row {
  line: number;
  values: Record<string, string>;
}

/** Reads a CSV with a header row into rows keyed by column; checks the columns first. */
function readTable(file: string, text: string, required: readonly string[], optional: readonly string[], problems: CsvProblem[]): Row[] {
  let rows: ReturnType<typeof parseCsv>;
  try {
    rows = parseCsv(text);
  } catch (e) {
    problems.push({ file, line: 0, message: (e as Error).message });
    return [];
  }
  const header = rows.shift();
  if (!header) {
    problems.push({ file, line: 1, message: 'the file is empty; expected a header row' });
    return [];
  }
  const cols = header.fields.map((f) => f.trim());
  const known = new Set([...required, ...optional]);
  const before = problems.length;
  for (const c of cols) if (!known.has(c)) problems.push({ file, line: header.line, message: `unknown column "${c}"` });
  for (const c of required) if (!cols.includes(c)) problems.push({ file, line: header.line, message: `missing column "${c}"` });
  for (const c of new Set(cols.filter((c, i) => cols.indexOf(c) !== i))) problems.push({ file, line: header.line, message: `duplicate column "${c}"` });
  if (problems.length > before) return [];
  const out: Row[] = [];
  for (const row of rows) {
    if (row.fields.length !== cols.length) {
      problems.push({ file, line: row.line, message: `expected ${cols.length} fields, found ${row.fields.length}` });
      continue;
    }
    out.push({ line: row.line, values: Object.fromEntries(cols.map((c, i) => [c, row.fields[i]!.trim()])) });
  }
  if (rows.length === 0) problems.push({ file, line: header.line + 1, message: 'no rows after the header' });
  return out;
}

/** Validates one converted row; zod's complaints become "column: message" problems of that line. */
function validate<S extends z.ZodType>(schema: S, input: unknown, file: string, line: number, problems: CsvProblem[]): z.output<S> | null {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  for (const issue of r.error.issues) problems.push({ file, line, message: `${issue.path.join('.') || '(row)'}: ${issue.message}` });
  return null;
}

/** A flag column: true/false, empty = `fallback`. Anything else stays a string so validation names it. */
function flag(v: string | undefined, fallback: boolean | null): boolean | null | string {
  if (v === undefined || v === '') return fallback;
  return v === 'true' ? true : v === 'false' ? false : v;
}

/** A number column; empty = `fallback`; not a number stays a string so validation names it. */
function num(v: string | undefined, fallback: number | null): number | null | string {
  if (v === undefined || v === '') return fallback;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/** Names, addresses and 身分事項 the font cannot draw are problems of the row they come from. */
function checkGlyphs(change: RecordChange, coverage: TextCoverage, file: string, line: number, problems: CsvProblem[]): boolean {
  const found = unprintableFields(change, coverage);
  for (const message of found) problems.push({ file, line, message });
  return found.length === 0;
}

const empty = (v: string | undefined) => (v === undefined || v === '' ? null : v);

function noDuplicates<T>(records: { line: number; key: string; value: T }[], file: string, what: string, problems: CsvProblem[]): T[] {
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.key)) problems.push({ file, line: r.line, message: `duplicate ${what} "${r.key}"` });
    seen.add(r.key);
  }
  return records.map((r) => r.value);
}

const finish = <T>(records: T[], problems: CsvProblem[]): ImportResult<T> => (problems.length ? { ok: false, problems } : { ok: true, records });

const RESIDENT_REQUIRED = ['id', 'householdId', 'name', 'nameKana', 'birthDate', 'sex', 'address', 'relationshipToHead'] as const;
const RESIDENT_OPTIONAL = [
  'addressBuilding',
  'domicile',
  'domicileHead',
  'status',
  'supportMeasure',
  'residentSince',
  'addressSince',
  'moveInDate',
  'moveOutNotifiedOn',
  'moveOutPlannedDate',
  'suppressedFrom',
  'suppressedTo',
  'oldSurname',
  'alias',
  'nationality',
  'residenceStatus',
  'residenceCardNumber',
  'residenceExpiry',
  'gaijiPending',
  'version',
] as const;

/** The resident register CSV. */
export function parseResidentsCsv(text: string, { defaultVersion, coverage }: ImportOptions, file = 'residents.csv'): ImportResult<ResidentRecord> {
  const problems: CsvProblem[] = [];
  const rows = readTable(file, text, RESIDENT_REQUIRED, RESIDENT_OPTIONAL, problems);
  const records: { line: number; key: string; value: ResidentRecord }[] = [];
  for (const { line, values: v } of rows) {
    const input = {
      ...Object.fromEntries([...RESIDENT_REQUIRED, ...RESIDENT_OPTIONAL].filter((c) => c in v).map((c) => [c, empty(v[c])])),
      status: v['status'] || 'active',
      supportMeasure: flag(v['supportMeasure'], false),
      gaijiPending: flag(v['gaijiPending'], false),
      version: num(v['version'], defaultVersion),
    };
    const r = validate(residentRecordSchema, input, file, line, problems);
    if (r && checkGlyphs({ kind: 'resident', record: r }, coverage, file, line, problems)) records.push({ line, key: r.id, value: r });
  }
  return finish(noDuplicates(records, file, 'id', problems), problems);
}

const SEAL_REQUIRED = ['residentId', 'registrationNumber', 'registeredOn', 'status', 'sealImageFile', 'sealWidthMm', 'sealHeightMm'] as const;
const SEAL_OPTIONAL = ['statusChangedOn', 'printSex', 'version'] as const;

/**
 * The seal registrations CSV with its impressions (`images` maps a file name to PNG bytes): the
 * declared size must be 8–25 mm and match the PNG's pixels at its recorded resolution.
 */
export function parseSealsCsv(text: string, images: ReadonlyMap<string, Uint8Array>, { defaultVersion }: ImportOptions, file = 'seal-registrations.csv'): ImportResult<SealRegistrationRecord> {
  const problems: CsvProblem[] = [];
  const rows = readTable(file, text, SEAL_REQUIRED, SEAL_OPTIONAL, problems);
  const records: { line: number; key: string; value: SealRegistrationRecord }[] = [];
  for (const { line, values: v } of rows) {
    const image = images.get(v['sealImageFile']!);
    const before = problems.length;
    if (!image) problems.push({ file, line, message: `sealImageFile "${v['sealImageFile']}" is not among the images` });
    const width = num(v['sealWidthMm'], null);
    const height = num(v['sealHeightMm'], null);
    const sizeProblem = image && typeof width === 'number' && typeof height === 'number' ? printSizeProblem(image, width, height) : null;
    if (sizeProblem) problems.push({ file, line, message: `${v['sealImageFile']}: ${sizeProblem}` });
    const r = validate(
      sealRegistrationRecordSchema,
      {
        residentId: v['residentId'],
        registrationNumber: v['registrationNumber'],
        registeredOn: v['registeredOn'],
        status: v['status'],
        statusChangedOn: empty(v['statusChangedOn']),
        imagePngBase64: image ? Buffer.from(image).toString('base64') : 'missing-',
        widthMm: width,
        heightMm: height,
        printSex: flag(v['printSex'], null),
        version: num(v['version'], defaultVersion),
      },
      file,
      line,
      problems,
    );
    if (r && problems.length === before) records.push({ line, key: r.residentId, value: r });
  }
  return finish(noDuplicates(records, file, 'residentId', problems), problems);
}

const TAX_REQUIRED = ['residentId', 'fiscalYear', 'incomeYear', 'status', 'addressOnJan1', 'nameOnJan1'] as const;
const TAX_OPTIONAL = ['assessedOn', 'spouseDeduction', 'remarks', 'version', ...TAX_AMOUNT_FIELDS, ...TAX_COUNT_FIELDS] as const;

/** The tax records CSV, one row per resident and fiscal year; an empty amount prints 「*」. */
export function parseTaxCsv(text: string, { defaultVersion, coverage }: ImportOptions, file = 'tax-records.csv'): ImportResult<TaxRecord> {
  const problems: CsvProblem[] = [];
  const rows = readTable(file, text, TAX_REQUIRED, TAX_OPTIONAL, problems);
  const records: { line: number; key: string; value: TaxRecord }[] = [];
  for (const { line, values: v } of rows) {
    const r = validate(
      taxRecordSchema,
      {
        residentId: v['residentId'],
        fiscalYear: num(v['fiscalYear'], null),
        incomeYear: num(v['incomeYear'], null),
        assessedOn: empty(v['assessedOn']),
        status: v['status'],
        addressOnJan1: v['addressOnJan1'],
        nameOnJan1: v['nameOnJan1'],
        amounts: Object.fromEntries(TAX_AMOUNT_FIELDS.map((f) => [f, num(v[f], null)])),
        spouseDeduction: flag(v['spouseDeduction'], false),
        counts: Object.fromEntries(TAX_COUNT_FIELDS.map((f) => [f, num(v[f], 0)])),
        remarks: empty(v['remarks']),
        version: num(v['version'], defaultVersion),
      },
      file,
      line,
      problems,
    );
    if (r && checkGlyphs({ kind: 'tax', record: r }, coverage, file, line, problems)) records.push({ line, key: `${r.residentId}/${r.fiscalYear}`, value: r });
  }
  return finish(noDuplicates(records, file, 'residentId/fiscalYear', problems), problems);
}

/** The files of a 戸籍 import (koseki.csv, koseki-members.csv, koseki-events.csv, fuhyo-addresses.csv). */
export interface KosekiFiles {
  koseki: string;
  members: string;
  events?: string;
  fuhyo?: string;
}

function jsonCell(v: string | undefined, file: string, line: number, column: string, problems: CsvProblem[]): unknown {
  if (!v) return [];
  try {
    return JSON.parse(v);
  } catch {
    problems.push({ file, line, message: `${column} is not valid JSON` });
    return [];
  }
}

/**
 * The 戸籍 files assembled into whole 戸籍 records: headers, members in seq order with their
 * 身分事項 and 附票 addresses. Rows pointing at a 戸籍 or member that is not there are problems.
 */
export function parseKosekiCsv(files: KosekiFiles, { defaultVersion, coverage }: ImportOptions): ImportResult<KosekiRecord> {
  const problems: CsvProblem[] = [];
  const headers = readTable('koseki.csv', files.koseki, ['kosekiId', 'honseki', 'headSurname', 'headGivenName'], ['status', 'pendingNotification', 'eventsJson', 'version'], problems);
  const memberRows = readTable(
    'koseki-members.csv',
    files.members,
    ['kosekiId', 'seq', 'surname', 'givenName', 'birthDate', 'sex', 'relationship'],
    ['residentId', 'surnameKana', 'givenNameKana', 'spouseRole', 'father', 'mother', 'adoptiveFather', 'adoptiveMother', 'adoptiveRelationship', 'removed', 'removedOn', 'foreign'],
    problems,
  );
  const eventRows = files.events ? readTable('koseki-events.csv', files.events, ['kosekiId', 'seq', 'eventOrder', 'eventType', 'fields'], [], problems) : [];
  const fuhyoRows = files.fuhyo ? readTable('fuhyo-addresses.csv', files.fuhyo, ['kosekiId', 'seq', 'order', 'address', 'addressSince'], ['addressUntil'], problems) : [];
  const draft = new Map<string, { line: number; value: Record<string, unknown>; members: Map<number, { line: number; value: Record<string, unknown> }> }>();
  for (const { line, values: v } of headers) {
    if (draft.has(v['kosekiId']!)) problems.push({ file: 'koseki.csv', line, message: `duplicate kosekiId "${v['kosekiId']}"` });
    draft.set(v['kosekiId']!, {
      line,
      members: new Map(),
      value: {
        kosekiId: v['kosekiId'],
        honseki: v['honseki'],
        headSurname: v['headSurname'],
        headGivenName: v['headGivenName'],
        status: v['status'] || 'current',
        pendingNotification: flag(v['pendingNotification'], false),
        events: jsonCell(v['eventsJson'], 'koseki.csv', line, 'eventsJson', problems),
        version: num(v['version'], defaultVersion),
      },
    });
  }
  const memberOf = (file: string, line: number, v: Record<string, string>) => {
    const k = draft.get(v['kosekiId']!);
    const m = k?.members.get(Number(v['seq']));
    if (!m) problems.push({ file, line, message: `no member ${v['seq']} of 戸籍 "${v['kosekiId']}"` });
    return m;
  };
  for (const { line, values: v } of memberRows) {
    const k = draft.get(v['kosekiId']!);
    if (!k) {
      problems.push({ file: 'koseki-members.csv', line, message: `no 戸籍 "${v['kosekiId']}" in koseki.csv` });
      continue;
    }
    const seq = num(v['seq'], null);
    if (typeof seq === 'number' && k.members.has(seq)) problems.push({ file: 'koseki-members.csv', line, message: `duplicate seq ${seq} in 戸籍 "${v['kosekiId']}"` });
    k.members.set(Number(seq), {
      line,
      value: {
        seq,
        residentId: empty(v['residentId']),
        surname: v['surname'],
        givenName: v['givenName'],
        surnameKana: empty(v['surnameKana']),
        givenNameKana: empty(v['givenNameKana']),
        birthDate: v['birthDate'],
        sex: v['sex'],
        spouseRole: empty(v['spouseRole']),
        father: empty(v['father']),
        mother: empty(v['mother']),
        relationship: v['relationship'],
        adoptiveFather: empty(v['adoptiveFather']),
        adoptiveMother: empty(v['adoptiveMother']),
        adoptiveRelationship: empty(v['adoptiveRelationship']),
        removed: flag(v['removed'], false),
        removedOn: empty(v['removedOn']),
        foreign: flag(v['foreign'], false),
        events: [] as { order: number; type: string; fields: unknown }[],
        fuhyo: [] as { order: number; address: string; addressSince: string; addressUntil: string | null }[],
      },
    });
  }
  for (const { line, values: v } of eventRows) {
    const m = memberOf('koseki-events.csv', line, v);
    (m?.value['events'] as { order: number; type: string; fields: unknown }[] | undefined)?.push({
      order: Number(v['eventOrder']),
      type: v['eventType']!,
      fields: jsonCell(v['fields'], 'koseki-events.csv', line, 'fields', problems),
    });
  }
  for (const { line, values: v } of fuhyoRows) {
    const m = memberOf('fuhyo-addresses.csv', line, v);
    (m?.value['fuhyo'] as { order: number; address: string; addressSince: string; addressUntil: string | null }[] | undefined)?.push({
      order: Number(v['order']),
      address: v['address']!,
      addressSince: v['addressSince']!,
      addressUntil: empty(v['addressUntil']),
    });
  }
  const records: KosekiRecord[] = [];
  for (const k of draft.values()) {
    const members = [...k.members.values()].sort((a, b) => Number(a.value['seq']) - Number(b.value['seq']));
    const byOrder = <T extends { order: number }>(xs: T[]) => xs.sort((a, b) => a.order - b.order).map(({ order: _order, ...rest }) => rest);
    const input = {
      ...k.value,
      members: members.map((m) => ({ ...m.value, events: byOrder(m.value['events'] as { order: number }[]), fuhyo: byOrder(m.value['fuhyo'] as { order: number }[]) })),
    };
    const r = validate(kosekiRecordSchema, input, 'koseki.csv', k.line, problems);
    if (r && checkGlyphs({ kind: 'koseki', record: r }, coverage, 'koseki.csv', k.line, problems)) records.push(r);
  }
  return finish(records, problems);
}

/** The 本籍地 利用登録 CSV. */
export function parseRegistrationsCsv(text: string, { defaultVersion }: ImportOptions, file = 'koseki-registrations.csv'): ImportResult<KosekiRegistration> {
  const problems: CsvProblem[] = [];
  const rows = readTable(file, text, ['residentId', 'kosekiId', 'registeredOn', 'effectiveFrom'], ['version'], problems);
  const records: { line: number; key: string; value: KosekiRegistration }[] = [];
  for (const { line, values: v } of rows) {
    const r = validate(kosekiRegistrationSchema, { ...v, version: num(v['version'], defaultVersion) }, file, line, problems);
    if (r) records.push({ line, key: `${r.residentId}/${r.kosekiId}`, value: r });
  }
  return finish(noDuplicates(records, file, 'residentId/kosekiId', problems), problems);
}
