import { z } from 'zod';

/** Certificate type identifiers (PROTOCOL.md); a server lists the ones it can issue. */
export const CERTIFICATE_TYPES = [
  'juminhyo',
  'juminhyo_kisai',
  'inkan',
  'kazei',
  'koseki_zenbu',
  'koseki_kojin',
  'koseki_fuhyo',
] as const;
/** A certificate type identifier. */
export type CertificateType = (typeof CERTIFICATE_TYPES)[number];
/** Zod schema of a certificate type identifier. */
export const certificateTypeSchema = z.enum(CERTIFICATE_TYPES);

/** Text in both languages of the UIs. */
export const localizedTextSchema = z.object({ ja: z.string(), en: z.string() });
/** Text in both languages of the UIs. */
export type LocalizedText = z.infer<typeof localizedTextSchema>;

/** One option of a certificate type; `label` and `valueLabels` are our additions for UIs. */
export const certificateOptionSchema = z.object({
  name: z.string(),
  values: z.array(z.string()).min(1),
  default: z.string(),
  label: localizedTextSchema.optional(),
  valueLabels: z.record(z.string(), localizedTextSchema).optional(),
});
/** One option of a certificate type. */
export type CertificateOption = z.infer<typeof certificateOptionSchema>;

/** A window of kiosk service (Asia/Tokyo): these days, from `from` until `to` (HH:MM). */
export const serviceWindowSchema = z.object({
  days: z.array(z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])),
  from: z.string(),
  to: z.string(),
});

/**
 * A certificate type as the catalog lists it. `fee` is yen per copy. Our additions: `persons`
 * says the application chooses people (comma-separated in option `persons`): members of the
 * applicant's household, or persons (by seq) of their 戸籍 — see `GET /api/v1/applicant/subjects`;
 * `serviceHours` and `availableNow` say when kiosks issue it.
 */
export const certificateTypeInfoSchema = z.object({
  type: certificateTypeSchema,
  name: localizedTextSchema,
  fee: z.number().int().nonnegative(),
  maxCopies: z.number().int().positive(),
  options: z.array(certificateOptionSchema),
  persons: z.enum(['household', 'koseki']).optional(),
  serviceHours: z.array(serviceWindowSchema).optional(),
  availableNow: z.boolean().optional(),
});
/** A certificate type as the catalog lists it. */
export type CertificateTypeInfo = z.infer<typeof certificateTypeInfoSchema>;

/** `GET /api/v1/catalog` response. */
export const catalogResponseSchema = z.object({
  municipality: z.object({ code: z.string(), name: z.string() }),
  certificateTypes: z.array(certificateTypeInfoSchema),
});
/** `GET /api/v1/catalog` response. */
export type CatalogResponse = z.infer<typeof catalogResponseSchema>;
