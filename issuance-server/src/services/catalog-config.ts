// The municipality's catalogue: which certificates it offers at kiosks, for how much, when, and
// what its documents say (signers by date, the 公印, per-type texts). A JSON file the admin CLI
// validates and loads; the server reads it from the database, so a change takes effect at once.
import { CERTIFICATE_TYPES, isoDateSchema, type CertificateType } from '@cert/common';
import { z } from 'zod';

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** A day of the week as the catalogue names it. */
export type Weekday = (typeof DAYS)[number];

/** One window of service: these days, from `from` to `to` (Asia/Tokyo). */
export const serviceWindowSchema = z.strictObject({ days: z.array(z.enum(DAYS)).min(1), from: time, to: time }).refine((w) => w.from < w.to, 'from must be before to');

/** The national コンビニ交付 hours: 6:30–23:00 every day. */
export const EVERY_DAY: z.input<typeof serviceWindowSchema>[] = [{ days: [...DAYS], from: '06:30', to: '23:00' }];
/** The year-end closure every kiosk service observes (12/29–1/3). */
export const YEAR_END = ['12-29', '12-30', '12-31', '01-01', '01-02', '01-03'];

/** What a municipality says about one certificate type. */
export const typeConfigSchema = z.strictObject({
  offered: z.boolean().default(true),
  /** Yen per copy. */
  fee: z.number().int().min(0).max(100_000),
  maxCopies: z.number().int().min(1).max(10).default(10),
  serviceHours: z.array(serviceWindowSchema).min(1).default(EVERY_DAY),
  /** Yearly closures as MM-DD. */
  closedDays: z.array(z.string().regex(/^\d{2}-\d{2}$/)).default(YEAR_END),
  /** Replaces the standard 認証文. */
  certification: z.string().min(1).max(200).optional(),
  /** 課税証明: the fiscal years on offer and the day each becomes available (the June switchover). */
  fiscalYears: z.array(z.strictObject({ year: z.number().int().min(1990).max(2200), availableFrom: isoDateSchema })).optional(),
  /** 課税証明: how FY2019 is named on the document (文京区 prints 平成31年度). */
  fiscalYear2019Label: z.enum(['令和元年度', '平成31年度']).default('令和元年度'),
  /** 印鑑登録証明書: print 男女の別 (a municipal setting, off by default). */
  printSex: z.boolean().default(false),
});
/** What a municipality says about one certificate type. */
export type TypeConfig = z.output<typeof typeConfigSchema>;

/** The head of the municipality or a 職務代理者, in office between two dates. */
export const signerSchema = z.strictObject({
  role: z.enum(['head', 'deputy']),
  /** The title with the prefecture, e.g. 東京都千代田区長 (STD-1050). */
  title: z.string().min(2).max(60),
  name: z.string().max(40),
  from: isoDateSchema,
  to: isoDateSchema.optional(),
});

/** One era of the 和暦 table (master data, so that a new era is configuration). */
export const eraSchema = z.strictObject({ name: z.string().min(1).max(4), start: isoDateSchema });
/** One era of the 和暦 table. */
export type EraConfig = z.infer<typeof eraSchema>;

/** The catalogue file. */
export const catalogConfigSchema = z.strictObject({
  municipality: z.strictObject({
    code: z.string().regex(/^\d{6}$/, 'must be the 6-digit 全国地方公共団体コード'),
    name: z.string().min(1).max(40),
    /** Printed in the signer's title (STD-1050); empty only for the built-in default catalogue. */
    prefecture: z.string().max(10),
  }),
  signers: z.array(signerSchema).min(1),
  /** The black electronic 公印: a PNG file next to the catalogue, printed at `sizeMm` (at most 25 mm); 「公印省略」 without one. */
  officialSeal: z.strictObject({ image: z.string().min(1), sizeMm: z.number().min(10).max(25) }).optional(),
  /** The era table; the built-in one (明治 … 令和) unless given. */
  eras: z.array(eraSchema).min(1).optional(),
  /** Dates the whole service is closed (planned outages). */
  closedDates: z.array(isoDateSchema).default([]),
  types: z.partialRecord(z.enum(CERTIFICATE_TYPES), typeConfigSchema),
});
/** The catalogue file. */
export type CatalogConfig = z.output<typeof catalogConfigSchema>;

/** The catalogue of a server that has none loaded: 住民票の写し only, at any hour, as before catalogues existed. */
export function defaultCatalog(municipality: { code: string; name: string }): CatalogConfig {
  return catalogConfigSchema.parse({
    municipality: { ...municipality, prefecture: '' },
    signers: [{ role: 'head', title: `${municipality.name}長`, name: '', from: '1900-01-01' }],
    types: { juminhyo: { fee: 200, maxCopies: 5, serviceHours: [{ days: [...DAYS], from: '00:00', to: '24:00' }], closedDays: [] } },
  });
}

const TOKYO = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' });

/** An instant as the Asia/Tokyo calendar sees it. */
export function tokyoMoment(at: number): { date: string; time: string; weekday: Weekday } {
  const p = Object.fromEntries(TOKYO.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}`, weekday: String(p.weekday).toLowerCase().slice(0, 3) as Weekday };
}

/** True when the type may be issued at `at` (its hours, its closed days, the municipality's closed dates). */
export function withinServiceHours(catalog: CatalogConfig, type: CertificateType, at: number): boolean {
  const t = catalog.types[type];
  if (!t?.offered) return false;
  const { date, time: now, weekday } = tokyoMoment(at);
  if (catalog.closedDates.includes(date) || t.closedDays.includes(date.slice(5))) return false;
  return t.serviceHours.some((w) => w.days.includes(weekday) && w.from <= now && now < w.to);
}

/** The signer in office on a date: a 職務代理者 during their term, else the head. */
export function signerOn(catalog: CatalogConfig, date: string): { title: string; name: string } | null {
  const inOffice = catalog.signers.filter((s) => s.from <= date && (!s.to || date <= s.to));
  const signer = inOffice.find((s) => s.role === 'deputy') ?? inOffice.find((s) => s.role === 'head');
  return signer ? { title: signer.title, name: signer.name } : null;
}

/** The fiscal years of 課税証明 on offer on a date, newest first. */
export function fiscalYearsOn(catalog: CatalogConfig, date: string): number[] {
  return (catalog.types.kazei?.fiscalYears ?? [])
    .filter((f) => f.availableFrom <= date)
    .map((f) => f.year)
    .sort((a, b) => b - a);
}
