// What each certificate document shows, decided on the main thread from the register and handed
// to a render worker: plain data (structured-clone safe), checked again by the worker. Dates stay
// ISO (YYYY-MM-DD) and become 和暦 — or 西暦 for a foreign national's date of birth — at render
// time, with the era table the municipality configured.
import { z } from 'zod';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const str = z.string().max(500);
const maybe = str.nullable();
const png = z.instanceof(Uint8Array);

/** One era of the 和暦 table. */
export const eraSchema = z.object({ name: z.string().min(1), start: date });

/**
 * What every page of every certificate carries, so that no page can be taken for another
 * person's (domain.md §3.1, item 6), and the certifying footer printed once, on the last page.
 */
export const certificateFrameSchema = z.object({
  municipality: z.object({ code: z.string(), name: z.string() }),
  /** 住民票の写し, 印鑑登録証明書 … */
  title: str,
  /** Printed beside the title: (世帯全員), 令和8年度 (令和7年分) … */
  subtitle: maybe,
  /** The person the document is about (for 戸籍, the 筆頭者), on every page. */
  subject: str,
  /** 発行番号 parts: each copy gets the serial `firstSerial + copy index`. */
  issueNumber: z.object({ date: z.string().regex(/^\d{8}$/), terminal: str, firstSerial: z.number().int().min(1) }),
  /** The issuance (attempt) id, on every page. */
  issuanceId: str,
  /** 認証文. */
  certification: str,
  signer: z.object({ title: str, name: str }),
  /** The black electronic 公印, printed at sizeMm; null prints 「公印省略」. */
  officialSeal: z.object({ png, sizeMm: z.number().min(5).max(25) }).nullable(),
  issuedAt: z.date(),
  verificationCode: str,
  verificationUrl: str,
  eras: z.array(eraSchema).min(1),
  copies: z.number().int().min(1).max(10),
});
/** What every page carries. */
export type CertificateFrame = z.infer<typeof certificateFrameSchema>;

/** A person on a 住民票の写し or 記載事項証明書. */
export const juminhyoPersonSchema = z.object({
  name: str,
  nameKana: maybe,
  oldSurname: maybe,
  alias: maybe,
  birthDate: date,
  /** Foreign nationals' dates of birth print in 西暦 (STD-90). */
  foreign: z.boolean(),
  sex: z.enum(['1', '2', '9']),
  relationship: maybe,
  domicile: maybe,
  domicileHead: maybe,
  residentSince: date.nullable(),
  addressSince: date.nullable(),
  nationality: maybe,
  residenceStatus: maybe,
  residenceCardNumber: maybe,
  residenceExpiry: date.nullable(),
});

/** 住民票の写し / 住民票記載事項証明書: 4 persons a page (世帯連記式). */
export const juminhyoBodySchema = z.object({
  address: str,
  addressBuilding: maybe,
  /** 世帯主 (printed when the relationship is). */
  householdHead: maybe,
  /** Whole household or part of it. */
  scope: z.enum(['household', 'part']),
  /** Whether 本籍・筆頭者 is printed (a note 「本籍・筆頭者の記載省略」 otherwise). */
  showDomicile: z.boolean(),
  persons: z.array(juminhyoPersonSchema).min(1).max(40),
});

/** The body of a 住民票の写し or 記載事項証明書. */
export type JuminhyoBody = z.infer<typeof juminhyoBodySchema>;

/** 印鑑登録証明書. */
export const inkanBodySchema = z.object({
  name: str,
  oldSurname: maybe,
  alias: maybe,
  birthDate: date,
  foreign: z.boolean(),
  /** Printed only where the municipality prints 男女の別. */
  sex: z.enum(['1', '2', '9']).nullable(),
  address: str,
  addressBuilding: maybe,
  remarks: z.array(str),
  /** The impression, drawn at its physical size, never scaled to the frame. */
  seal: z.object({ png, widthMm: z.number().min(8).max(25), heightMm: z.number().min(8).max(25) }),
});

/** The body of a 印鑑登録証明書. */
export type InkanBody = z.infer<typeof inkanBodySchema>;

/** 課税(非課税)証明書. Amounts are yen; null prints 「*」 (not declared). */
export const kazeiBodySchema = z.object({
  nontaxed: z.boolean(),
  address: str,
  name: str,
  birthDate: date,
  foreign: z.boolean(),
  sex: z.enum(['1', '2', '9']),
  amounts: z.record(z.string(), z.number().int().nullable()),
  spouseDeduction: z.boolean(),
  counts: z.record(z.string(), z.number().int()),
  remarks: maybe,
});

/** The body of a 課税(非課税)証明書. */
export type KazeiBody = z.infer<typeof kazeiBodySchema>;

/** One 【label】value entry of a 身分事項 or 戸籍事項. */
export const labelledEventSchema = z.object({ type: str, fields: z.array(z.tuple([str, str])) });

/** A person's block of a 戸籍証明書. */
export const kosekiPersonSchema = z.object({
  removed: z.boolean(),
  surname: str,
  givenName: str,
  surnameKana: maybe,
  givenNameKana: maybe,
  birthDate: date,
  foreign: z.boolean(),
  spouseRole: maybe,
  father: maybe,
  mother: maybe,
  relationship: str,
  adoptiveFather: maybe,
  adoptiveMother: maybe,
  adoptiveRelationship: maybe,
  events: z.array(labelledEventSchema),
});

/** 戸籍全部事項証明書 (all persons) / 戸籍個人事項証明書 (the persons chosen). */
export const kosekiBodySchema = z.object({
  honseki: str,
  headName: str,
  kosekiEvents: z.array(labelledEventSchema),
  persons: z.array(kosekiPersonSchema).min(1),
});

/** The body of a 戸籍全部事項証明書 or 個人事項証明書. */
export type KosekiBody = z.infer<typeof kosekiBodySchema>;

/** 戸籍の附票の写し. */
export const fuhyoBodySchema = z.object({
  /** 本籍・筆頭者, when asked for (each person then shows only the 名). */
  honseki: maybe,
  headName: maybe,
  whole: z.boolean(),
  persons: z
    .array(
      z.object({
        name: str,
        /** Null for persons removed before 2022-01-11, whose 附票 never recorded them. */
        birthDate: date.nullable(),
        foreign: z.boolean(),
        sex: z.enum(['1', '2', '9']).nullable(),
        removed: z.boolean(),
        addresses: z.array(z.object({ address: str, since: date })),
      }),
    )
    .min(1),
});

/** The body of a 戸籍の附票の写し. */
export type FuhyoBody = z.infer<typeof fuhyoBodySchema>;

/** Every certificate document: the frame and the body of its kind. */
export const certificateDocumentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('juminhyo'), frame: certificateFrameSchema, body: juminhyoBodySchema }),
  z.object({ kind: z.literal('juminhyo_kisai'), frame: certificateFrameSchema, body: juminhyoBodySchema }),
  z.object({ kind: z.literal('inkan'), frame: certificateFrameSchema, body: inkanBodySchema }),
  z.object({ kind: z.literal('kazei'), frame: certificateFrameSchema, body: kazeiBodySchema }),
  z.object({ kind: z.literal('koseki_zenbu'), frame: certificateFrameSchema, body: kosekiBodySchema }),
  z.object({ kind: z.literal('koseki_kojin'), frame: certificateFrameSchema, body: kosekiBodySchema }),
  z.object({ kind: z.literal('koseki_fuhyo'), frame: certificateFrameSchema, body: fuhyoBodySchema }),
]);
/** Every certificate document. */
export type CertificateDocument = z.infer<typeof certificateDocumentSchema>;
