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

/** A certificate type as the catalog lists it. `fee` is yen per copy. */
export const certificateTypeInfoSchema = z.object({
  type: certificateTypeSchema,
  name: localizedTextSchema,
  fee: z.number().int().nonnegative(),
  maxCopies: z.number().int().positive(),
  options: z.array(certificateOptionSchema),
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
