// Japanese era (和暦) dates for certificates. Certificates state calendar dates as lived in Japan,
// so an instant is first turned into its Asia/Tokyo calendar date.

interface Era {
  name: string;
  /** First day of the era as YYYYMMDD, so eras compare as plain numbers. */
  start: number;
  startYear: number;
}

// Newest first, so the first era whose start is not after the date is the right one.
const ERAS: readonly Era[] = [
  { name: '令和', start: 20190501, startYear: 2019 },
  { name: '平成', start: 19890108, startYear: 1989 },
  { name: '昭和', start: 19261225, startYear: 1926 },
  { name: '大正', start: 19120730, startYear: 1912 },
  { name: '明治', start: 18681023, startYear: 1868 },
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

/** A calendar date (YYYY-MM-DD, or a Date taken in Asia/Tokyo) in the Japanese era calendar, e.g. 令和8年11月24日. */
export function toWareki(date: Date | string): string {
  const iso = typeof date === 'string' ? date : toIsoDateJst(date);
  const { year, month, day } = parseIsoDate(iso);
  const key = year * 10000 + month * 100 + day;
  const era = ERAS.find((e) => e.start <= key);
  // Before 明治 was proclaimed Japan used the lunisolar calendar; a Gregorian date has no faithful 和暦.
  if (!era) throw new RangeError(`toWareki: ${iso} is before the Meiji era (1868-10-23)`);
  const eraYear = year - era.startYear + 1;
  return `${era.name}${eraYear === 1 ? '元' : String(eraYear)}年${month}月${day}日`;
}
