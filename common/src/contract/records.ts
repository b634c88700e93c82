// The municipality's records as the resident-records systems send them: one schema per record
// kind, shared by the CSV imports, the live-update admin API and its CLI. Dates are YYYY-MM-DD
// calendar dates; amounts are integer yen; `version` is the source system's version of the
// record (a larger number is newer), so that a late or repeated message never overwrites newer data.
import { z } from 'zod';

/** A calendar date `YYYY-MM-DD` that exists. */
export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD date')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'is not a calendar date');

/** A certificate prints each field on its line(s) of the form: line breaks, tabs and other controls have no place in a record. */
const NO_CONTROLS = /^\P{Cc}*$/u;
const CONTROLS_MESSAGE = 'must not contain line breaks, tabs or other control characters';
const text = (max: number) => z.string().trim().min(1).max(max).regex(NO_CONTROLS, CONTROLS_MESSAGE);
const optionalText = (max: number) =>
  z.string().trim().max(max).regex(NO_CONTROLS, CONTROLS_MESSAGE).nullable().default(null).transform((v) => (v === '' ? null : v));
const optionalDate = isoDateSchema.nullable().default(null);
const id = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'may contain letters, digits, _ . - only');
const yen = z.number().int().min(0).max(1e12);

/** Resident statuses; `non_resident` is a person registered for 本籍地 use only (lives elsewhere). */
export const RESIDENT_STATUSES = ['active', 'moved_out', 'deceased', 'non_resident'] as const;

/** One person of the resident register, with what every certificate type needs. */
export const residentRecordSchema = z.strictObject({
  id,
  householdId: id,
  name: text(100),
  nameKana: text(200),
  birthDate: isoDateSchema,
  sex: z.enum(['1', '2', '9']),
  address: text(200),
  /** 方書: building and room, printed unless the request leaves it out. */
  addressBuilding: optionalText(100),
  relationshipToHead: text(20),
  domicile: optionalText(200),
  domicileHead: optionalText(100),
  status: z.enum(RESIDENT_STATUSES).default('active'),
  supportMeasure: z.boolean().default(false),
  /** 住民となった年月日 and 住所を定めた年月日. */
  residentSince: optionalDate,
  addressSince: optionalDate,
  /** Refused on the day of moving in. */
  moveInDate: optionalDate,
  /** 転出届: refused from the notification on, even before the planned date. */
  moveOutNotifiedOn: optionalDate,
  moveOutPlannedDate: optionalDate,
  /** 発行抑止 from/to (inclusive); `from` alone means until lifted. */
  suppressedFrom: optionalDate,
  suppressedTo: optionalDate,
  /** 旧氏 (printed on 印鑑登録証明書 whenever recorded). */
  oldSurname: optionalText(50),
  /** 通称 of a foreign resident. */
  alias: optionalText(100),
  /** Set for foreign residents: their dates of birth print in 西暦. */
  nationality: optionalText(50),
  residenceStatus: optionalText(50),
  residenceCardNumber: optionalText(20),
  residenceExpiry: optionalDate,
  /** 外字 registration in progress: nothing is issued at a kiosk until it is done. */
  gaijiPending: z.boolean().default(false),
  version: z.number().int().min(0).default(0),
});
/** One person of the resident register. */
export type ResidentRecord = z.output<typeof residentRecordSchema>;

/** One registered seal (印鑑登録) with its impression as a PNG. */
export const sealRegistrationRecordSchema = z.strictObject({
  residentId: id,
  registrationNumber: text(30),
  registeredOn: isoDateSchema,
  status: z.enum(['active', 'abolished', 'invalidated']),
  statusChangedOn: optionalDate,
  /** The impression: PNG, grayscale or 1-bit, with its resolution recorded (pHYs). */
  imagePngBase64: z.string().min(8).max(4_000_000),
  widthMm: z.number().min(8).max(25),
  heightMm: z.number().min(8).max(25),
  printSex: z.boolean().nullable().default(null),
  version: z.number().int().min(0).default(0),
});
/** One registered seal. */
export type SealRegistrationRecord = z.output<typeof sealRegistrationRecordSchema>;

/** Statuses of a tax record (an undeclared dependant prints 「*」 in the income fields and tax 0). */
export const TAX_STATUSES = ['taxed', 'nontaxed', 'undeclared', 'dependentUndeclared'] as const;

/** Income, deduction and tax columns of a tax record (certificates.md §3 (7)); null = 「*」 (not declared). */
export const TAX_AMOUNT_FIELDS = [
  'salaryRevenue',
  'salaryIncome',
  'pensionRevenue',
  'pensionIncome',
  'businessIncome',
  'agricultureIncome',
  'realEstateIncome',
  'dividendIncome',
  'interestIncome',
  'miscIncome',
  'capitalOccasionalIncome',
  'separateTaxIncome',
  'totalIncome',
  'totalIncomeEtc',
  'dedSocialInsurance',
  'dedSmallBizMutual',
  'dedLifeInsurance',
  'dedEarthquake',
  'dedMedical',
  'dedCasualty',
  'dedDisability',
  'dedWidow',
  'dedSingleParent',
  'dedWorkingStudent',
  'dedSpouse',
  'dedSpouseSpecial',
  'dedDependents',
  'dedBasic',
  'dedTotal',
  'taxableStandard',
  'taxableSeparate',
  'cityIncomeLevy',
  'cityPerCapita',
  'prefIncomeLevy',
  'prefPerCapita',
  'forestEnvTax',
  'annualTax',
] as const;
/** One amount column of a tax record. */
export type TaxAmountField = (typeof TAX_AMOUNT_FIELDS)[number];

/** Dependant counts of a tax record. */
export const TAX_COUNT_FIELDS = ['depGeneral', 'depSpecific', 'depElderly', 'depElderlyCohabiting', 'depUnder16', 'disabledSpecial', 'disabledSpecialCohabiting', 'disabledOrdinary'] as const;

/** One resident's tax assessment for one fiscal year (年度, named by its Gregorian start year). */
export const taxRecordSchema = z.strictObject({
  residentId: id,
  fiscalYear: z.number().int().min(1990).max(2200),
  incomeYear: z.number().int().min(1989).max(2199),
  assessedOn: optionalDate,
  status: z.enum(TAX_STATUSES),
  /** The address and name on 1 January of the fiscal year (賦課期日). */
  addressOnJan1: text(200),
  nameOnJan1: text(100),
  amounts: z.strictObject(Object.fromEntries(TAX_AMOUNT_FIELDS.map((f) => [f, yen.nullable().default(null)])) as Record<TaxAmountField, z.ZodDefault<z.ZodNullable<typeof yen>>>),
  spouseDeduction: z.boolean().default(false),
  counts: z.strictObject(Object.fromEntries(TAX_COUNT_FIELDS.map((f) => [f, z.number().int().min(0).max(99).default(0)])) as Record<(typeof TAX_COUNT_FIELDS)[number], z.ZodDefault<z.ZodNumber>>),
  remarks: optionalText(500),
  version: z.number().int().min(0).default(0),
});
/** One resident's tax assessment for one fiscal year. */
export type TaxRecord = z.output<typeof taxRecordSchema>;

/** One 【label】value item of a 身分事項 or 戸籍事項; dates stay ISO and become 和暦 when printed. */
export const labelledFieldSchema = z.tuple([text(20), text(200)]);

/** One 身分事項 (出生, 婚姻 …) or 戸籍事項 (編製, 改製, 転籍) entry. */
export const kosekiEventSchema = z.strictObject({
  type: text(20),
  fields: z.array(labelledFieldSchema).max(30),
});

/** One address of a person's 附票 history (oldest first). */
export const fuhyoAddressSchema = z.strictObject({
  address: text(200),
  addressSince: isoDateSchema,
  addressUntil: optionalDate,
});

/** One person recorded in a 戸籍, in print order. */
export const kosekiMemberSchema = z.strictObject({
  seq: z.number().int().min(1).max(999),
  /** The resident (or 本籍地 user) this person is, when known: links the card to the 戸籍. */
  residentId: id.nullable().default(null),
  surname: text(50),
  givenName: text(50),
  surnameKana: optionalText(100),
  givenNameKana: optionalText(100),
  birthDate: isoDateSchema,
  sex: z.enum(['1', '2', '9']),
  spouseRole: z.enum(['夫', '妻']).nullable().default(null),
  father: optionalText(100),
  mother: optionalText(100),
  relationship: text(20),
  adoptiveFather: optionalText(100),
  adoptiveMother: optionalText(100),
  adoptiveRelationship: optionalText(20),
  /** 除籍: left this 戸籍 (by marriage, death …), and when. */
  removed: z.boolean().default(false),
  removedOn: optionalDate,
  /** A foreign national recorded in the 戸籍 (a spouse): dates of birth in 西暦. */
  foreign: z.boolean().default(false),
  events: z.array(kosekiEventSchema).max(60).default([]),
  fuhyo: z.array(fuhyoAddressSchema).max(60).default([]),
});
/** One person recorded in a 戸籍. */
export type KosekiMember = z.output<typeof kosekiMemberSchema>;

/** One 戸籍 kept by this municipality (本籍 here), with its members, 身分事項 and 附票 addresses. */
export const kosekiRecordSchema = z.strictObject({
  kosekiId: id,
  honseki: text(200),
  headSurname: text(50),
  headGivenName: text(50),
  status: z.enum(['current', 'removed']).default('current'),
  /** A 届出 accepted but not yet entered: nothing is issued until it is. */
  pendingNotification: z.boolean().default(false),
  /** 戸籍事項 (編製, 改製, 転籍 …). */
  events: z.array(kosekiEventSchema).max(20).default([]),
  members: z.array(kosekiMemberSchema).min(1).max(200),
  version: z.number().int().min(0).default(0),
});
/** One 戸籍. */
export type KosekiRecord = z.output<typeof kosekiRecordSchema>;

/** A 本籍地 利用登録: a person living elsewhere may obtain this 戸籍 from `effectiveFrom` on. */
export const kosekiRegistrationSchema = z.strictObject({
  residentId: id,
  kosekiId: id,
  registeredOn: isoDateSchema,
  effectiveFrom: isoDateSchema,
  version: z.number().int().min(0).default(0),
});
/** A 本籍地 利用登録. */
export type KosekiRegistration = z.output<typeof kosekiRegistrationSchema>;

/** One change sent by the resident-records system: a record to upsert, by kind. */
export const recordChangeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('resident'), record: residentRecordSchema }),
  z.strictObject({ kind: z.literal('seal'), record: sealRegistrationRecordSchema }),
  z.strictObject({ kind: z.literal('tax'), record: taxRecordSchema }),
  z.strictObject({ kind: z.literal('koseki'), record: kosekiRecordSchema }),
  z.strictObject({ kind: z.literal('koseki-registration'), record: kosekiRegistrationSchema }),
]);
/** One change sent by the resident-records system. */
export type RecordChange = z.output<typeof recordChangeSchema>;

/** `POST /api/v1/admin/records` request: changes applied in order, all or nothing. */
export const recordUpdateRequestSchema = z.strictObject({ changes: z.array(recordChangeSchema).min(1).max(500) });

/** What became of one change: applied, the same version again (no-op), or older than what is stored (ignored). */
export const recordChangeResultSchema = z.object({ kind: z.string(), key: z.string(), result: z.enum(['applied', 'unchanged', 'stale']) });

/** `POST /api/v1/admin/records` response. */
export const recordUpdateResponseSchema = z.object({ results: z.array(recordChangeResultSchema) });
/** `POST /api/v1/admin/records` response. */
export type RecordUpdateResponse = z.infer<typeof recordUpdateResponseSchema>;
