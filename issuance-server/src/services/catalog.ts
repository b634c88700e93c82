import type { CatalogResponse, CertificateType, CertificateTypeInfo } from '@cert/common';
import { ServiceError } from './service-error.ts';

/** Certificate types this server issues, with their options and fees (yen per copy). */
export const ISSUABLE_TYPES: readonly CertificateTypeInfo[] = [
  {
    type: 'juminhyo',
    name: { ja: '住民票の写し', en: 'Certificate of residence (copy of the resident record)' },
    fee: 200,
    maxCopies: 5,
    options: [
      {
        name: 'scope',
        values: ['self', 'household'],
        default: 'self',
        label: { ja: '記載する人', en: 'People on the certificate' },
        valueLabels: { self: { ja: '世帯の一部 (本人のみ)', en: 'Part of the household (you only)' }, household: { ja: '世帯全員', en: 'Whole household' } },
      },
      {
        name: 'domicile',
        values: ['omit', 'include'],
        default: 'omit',
        label: { ja: '本籍・筆頭者', en: 'Registered domicile and head of family register' },
        valueLabels: { omit: { ja: '省略する', en: 'Omit' }, include: { ja: '記載する', en: 'Include' } },
      },
      {
        name: 'relationship',
        values: ['include', 'omit'],
        default: 'include',
        label: { ja: '続柄', en: 'Relationship to head of household' },
        valueLabels: { omit: { ja: '省略する', en: 'Omit' }, include: { ja: '記載する', en: 'Include' } },
      },
    ],
  },
];

/** The catalog response for a municipality. */
export function catalogFor(municipality: { code: string; name: string }): CatalogResponse {
  return { municipality, certificateTypes: [...ISSUABLE_TYPES] };
}

/** Checks a request against the catalog; returns the full option set (defaults filled) and the total fee. */
export function resolveOrder(type: CertificateType, options: Record<string, string>, copies: number): { options: Record<string, string>; fee: number } {
  const info = ISSUABLE_TYPES.find((t) => t.type === type);
  if (!info) throw new ServiceError('invalid_request', `certificate type ${type} is not issued by this municipality`);
  if (!Number.isInteger(copies) || copies < 1 || copies > info.maxCopies) {
    throw new ServiceError('invalid_request', `copies must be between 1 and ${info.maxCopies}`);
  }
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(options)) {
    const opt = info.options.find((o) => o.name === name);
    if (!opt) throw new ServiceError('invalid_request', `unknown option ${name} for ${type}`);
    if (!opt.values.includes(value)) throw new ServiceError('invalid_request', `option ${name} must be one of ${opt.values.join(', ')}`);
  }
  for (const opt of info.options) resolved[opt.name] = options[opt.name] ?? opt.default;
  return { options: resolved, fee: info.fee * copies };
}
