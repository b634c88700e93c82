// Japanese era (和暦) dates for certificates. Certificates state calendar dates as lived in Japan,
// so an instant is first turned into its Asia/Tokyo calendar date. The era table is data (the
// standard keeps it as master data), so a new era is a change of configuration, not of code.

/** One era: its name and first day (YYYY-MM-DD). */
export interface EraEntry {
  name: string;
  start: string;
}

/** The eras since 明治 (certificates.md §7). */
export const DEFAULT_ERAS: readonly EraEntry[] = [
  { name: '明治', start: '1868-10-23' },
  { name: '大正', start: '1912-07-30' },
  { name: '昭和', start: '1926-12-25' },
  { name: '平成', start: '1989-01-08' },
  { name: '令和', start: '2019-05-01' },
];

// Intl (not a fixed +9 h) because Japan observed summer time in 1948–1951.
const TOKYO_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The Asia/Tokyo calendar date of an instant, as YYYY-MM-DD. */
export function toIsoDateJst(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('toIsoDateJst: invalid Date');
  const parts = Object.fromEntries(TOKYO_DATE.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function parseIsoDate(iso: string): { year: number; month: number; day: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`toWareki: expected YYYY-MM-DD, got ${JSON.stringify(iso)}`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Round-trip through UTC to reject dates such as 2023-02-30 instead of rolling them over.
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`toWareki: no such date ${iso}`);
  }
  return { year, month, day };
}

/** The era a calendar date falls in (the latest whose first day is not after it), or null before the first. */
function eraOf(iso: string, eras: readonly EraEntry[]): EraEntry | null {
  let found: EraEntry | null = null;
  for (const e of eras) if (e.start <= iso && (!found || e.start > found.start)) found = e;
  return found;
}

/** Year `n` of an era as printed: 元 for the first. */
function eraYearText(n: number): string {
  return n === 1 ? '元' : String(n);
}

/** A calendar date (YYYY-MM-DD, or a Date taken in Asia/Tokyo) in the Japanese era calendar, e.g. 令和8年11月24日. */
export function toWareki(date: Date | string, eras: readonly EraEntry[] = DEFAULT_ERAS): string {
  const iso = typeof date === 'string' ? date : toIsoDateJst(date);
  const { year, month, day } = parseIsoDate(iso);
  const era = eraOf(iso, eras);
  // Before 明治 was proclaimed Japan used the lunisolar calendar; a Gregorian date has no faithful 和暦.
  if (!era) throw new RangeError(`toWareki: ${iso} is before the first era of the table (${eras[0]?.start ?? 'empty'})`);
  return `${era.name}${eraYearText(year - Number(era.start.slice(0, 4)) + 1)}年${month}月${day}日`;
}

/** A calendar date in 西暦 as certificates print it (a foreign national's date of birth), e.g. 1963年9月25日. */
export function toSeireki(iso: string): string {
  const { year, month, day } = parseIsoDate(iso);
  return `${year}年${month}月${day}日`;
}

/** A date of birth as certificates print it: 西暦 for a foreign national (STD-90), 和暦 for everyone else. */
export function birthDateText(iso: string, foreign: boolean, eras: readonly EraEntry[] = DEFAULT_ERAS): string {
  return foreign ? toSeireki(iso) : toWareki(iso, eras);
}

/**
 * The name of a fiscal year (年度, named by its Gregorian start year) as of its first day, 1 April:
 * 令和8年度. FY2019 began in 平成 (平成31年度), and national practice after 改元 calls it
 * 令和元年度; `fy2019` chooses (a municipal setting).
 */
export function fiscalYearLabel(year: number, eras: readonly EraEntry[] = DEFAULT_ERAS, fy2019: '令和元年度' | '平成31年度' = '令和元年度'): string {
  if (year === 2019) return fy2019;
  const start = `${year}-04-01`;
  const era = eraOf(start, eras);
  if (!era) throw new RangeError(`fiscalYearLabel: ${year} is before the first era of the table`);
  return `${era.name}${eraYearText(year - Number(era.start.slice(0, 4)) + 1)}年度`;
}
