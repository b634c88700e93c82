// The certificate types the product knows (names, options, who is chosen) and the municipality's
// catalogue on top of them: what is on offer, for how much, when. The catalogue is read from the
// database on every use (a cheap read, parsed once per change), so a newly loaded one takes
// effect at once on every node.
import type { CatalogResponse, CertificateOption, CertificateType, CertificateTypeInfo, LocalizedText } from '@cert/common';
import type { Store, Tx } from '../store/store.ts';
import { catalogConfigSchema, defaultCatalog, fiscalYearsOn, tokyoMoment, withinServiceHours, type CatalogConfig } from './catalog-config.ts';
import { fiscalYearLabel } from '../documents/wareki.ts';
import { ServiceError } from './service-error.ts';

/** The settings key of the loaded catalogue. */
export const CATALOG_SETTING = 'catalog';
/** The asset name of the 公印 image. */
export const OFFICIAL_SEAL_ASSET = 'official-seal';

const INCLUDE_OMIT = { include: { ja: '記載する', en: 'Include' }, omit: { ja: '省略する', en: 'Omit' } };

function yesNo(name: string, label: LocalizedText, byDefault: 'include' | 'omit'): CertificateOption {
  return { name, values: byDefault === 'include' ? ['include', 'omit'] : ['omit', 'include'], default: byDefault, label, valueLabels: INCLUDE_OMIT };
}

const SCOPE_JUMINHYO: CertificateOption = {
  name: 'scope',
  values: ['self', 'household', 'members'],
  default: 'self',
  label: { ja: '記載する人', en: 'People on the certificate' },
  valueLabels: {
    self: { ja: '世帯の一部 (本人のみ)', en: 'Part of the household (you only)' },
    household: { ja: '世帯全員', en: 'Whole household' },
    members: { ja: '世帯の一部 (選んだ人)', en: 'Part of the household (chosen members)' },
  },
};

/** Whom a 住民票 shows, and its items every request chooses. */
const JUMINHYO_ITEMS = [
  SCOPE_JUMINHYO,
  yesNo('domicile', { ja: '本籍・筆頭者', en: 'Registered domicile and head of family register' }, 'omit'),
  yesNo('relationship', { ja: '世帯主・続柄', en: 'Head of household and relationship' }, 'include'),
];

const FOREIGN_ITEMS = [
  yesNo('nationality', { ja: '国籍・地域 (外国人住民)', en: 'Nationality or region (foreign residents)' }, 'include'),
  yesNo('residenceStatus', { ja: '在留資格・在留期間 (外国人住民)', en: 'Status and period of stay (foreign residents)' }, 'omit'),
  yesNo('residenceCard', { ja: '在留カード等の番号 (外国人住民)', en: 'Residence card number (foreign residents)' }, 'omit'),
];

/** What the product knows of each type: its names, options, and whom the application chooses. */
export const TYPE_DEFINITIONS: Record<CertificateType, Omit<CertificateTypeInfo, 'type' | 'fee' | 'maxCopies'>> = {
  juminhyo: {
    name: { ja: '住民票の写し', en: 'Certificate of residence (copy of the resident record)' },
    persons: 'household',
    options: [...JUMINHYO_ITEMS, ...FOREIGN_ITEMS],
  },
  juminhyo_kisai: {
    name: { ja: '住民票記載事項証明書', en: 'Certificate of items on the resident record' },
    persons: 'household',
    options: [
      ...JUMINHYO_ITEMS,
      yesNo('residentSince', { ja: '住民となった年月日', en: 'Date of becoming a resident' }, 'omit'),
      yesNo('addressSince', { ja: '住所を定めた年月日', en: 'Date of settling at the address' }, 'omit'),
      ...FOREIGN_ITEMS,
    ],
  },
  inkan: { name: { ja: '印鑑登録証明書', en: 'Certificate of seal registration' }, options: [] },
  kazei: { name: { ja: '課税(所得)証明書', en: 'Certificate of taxation (income)' }, options: [] },
  koseki_zenbu: { name: { ja: '戸籍全部事項証明書', en: 'Family register: certificate of all entries' }, options: [] },
  koseki_kojin: { name: { ja: '戸籍個人事項証明書', en: 'Family register: certificate of individual entries' }, persons: 'koseki', options: [] },
  koseki_fuhyo: {
    name: { ja: '戸籍の附票の写し', en: 'Copy of the family register’s address record (koseki fuhyo)' },
    persons: 'koseki',
    options: [
      {
        name: 'scope',
        values: ['all', 'some'],
        default: 'all',
        label: { ja: '記載する人', en: 'People on the certificate' },
        valueLabels: { all: { ja: '全部 (全員)', en: 'Everyone' }, some: { ja: '一部 (選んだ人)', en: 'Chosen persons' } },
      },
      yesNo('honseki', { ja: '本籍・筆頭者', en: 'Registered domicile and head of family register' }, 'omit'),
    ],
  },
};

/** Options whose value is a list chosen by the applicant rather than one of fixed values. */
const FREE_OPTIONS = new Set(['persons']);

/** Reads the municipality's catalogue (the built-in default while none is loaded). */
export class CatalogService {
  private last: { raw: string; config: CatalogConfig } | null = null;

  constructor(private readonly store: Store) {}

  /** The catalogue in force, inside a transaction. */
  async config(tx: Tx): Promise<CatalogConfig | null> {
    const municipality = await tx.residents.municipality();
    if (!municipality) return null;
    const raw = await tx.settings.get(CATALOG_SETTING);
    if (!raw) return defaultCatalog(municipality);
    if (this.last?.raw !== raw) this.last = { raw, config: catalogConfigSchema.parse(JSON.parse(raw)) };
    return this.last.config;
  }

  /** `GET /api/v1/catalog`: what is on offer now, with fees, options and service hours. */
  async response(at: number): Promise<CatalogResponse | null> {
    const config = await this.store.read((tx) => this.config(tx));
    if (!config) return null;
    const today = tokyoMoment(at).date;
    const types: CertificateTypeInfo[] = [];
    for (const [type, t] of Object.entries(config.types) as [CertificateType, NonNullable<CatalogConfig['types'][CertificateType]>][]) {
      if (!t.offered) continue;
      const def = TYPE_DEFINITIONS[type];
      let options = def.options;
      if (type === 'kazei') {
        const years = fiscalYearsOn(config, today);
        // A tax certificate with no fiscal year available is not on offer.
        if (years.length === 0) continue;
        options = [
          {
            name: 'fiscalYear',
            values: years.map(String),
            default: String(years[0]),
            label: { ja: '年度', en: 'Fiscal year' },
            valueLabels: Object.fromEntries(years.map((y) => [String(y), { ja: fiscalYearLabel(y, config.eras, t.fiscalYear2019Label), en: `FY${y}` }])),
          },
        ];
      }
      types.push({
        type,
        name: def.name,
        fee: t.fee,
        maxCopies: t.maxCopies,
        options,
        ...(def.persons ? { persons: def.persons } : {}),
        serviceHours: t.serviceHours,
        availableNow: withinServiceHours(config, type, at),
      });
    }
    return { municipality: { code: config.municipality.code, name: config.municipality.name }, certificateTypes: types };
  }
}

/** Checks a request against the catalogue; returns the full option set (defaults filled) and the total fee. */
export function resolveOrder(config: CatalogConfig, type: CertificateType, options: Record<string, string>, copies: number, at: number): { options: Record<string, string>; fee: number } {
  const t = config.types[type];
  if (!t?.offered) throw new ServiceError('invalid_request', `certificate type ${type} is not issued by this municipality`);
  if (!Number.isInteger(copies) || copies < 1 || copies > t.maxCopies) throw new ServiceError('invalid_request', `copies must be between 1 and ${t.maxCopies}`);
  const def = TYPE_DEFINITIONS[type];
  const known: CertificateOption[] = type === 'kazei' ? [] : def.options;
  const resolved: Record<string, string> = {};
  if (type === 'kazei') {
    // Any year is a well-formed request; one not on offer (yet) is refused by the rules, which say why.
    const year = options['fiscalYear'] ?? String(fiscalYearsOn(config, tokyoMoment(at).date)[0] ?? '');
    if (!/^\d{4}$/.test(year)) throw new ServiceError('invalid_request', 'option fiscalYear must be a year such as 2026');
    resolved['fiscalYear'] = year;
  }
  for (const [name, value] of Object.entries(options)) {
    if (FREE_OPTIONS.has(name) && def.persons) {
      if (!/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/.test(value)) throw new ServiceError('invalid_request', `option ${name} must be a comma-separated list of ids`);
      resolved[name] = value;
      continue;
    }
    if (type === 'kazei' && name === 'fiscalYear') continue;
    const opt = known.find((o) => o.name === name);
    if (!opt) throw new ServiceError('invalid_request', `unknown option ${name} for ${type}`);
    if (!opt.values.includes(value)) throw new ServiceError('invalid_request', `option ${name} must be one of ${opt.values.join(', ')}`);
  }
  for (const opt of known) resolved[opt.name] = options[opt.name] ?? opt.default;
  const needsPersons = (type === 'koseki_kojin') || ((type === 'juminhyo' || type === 'juminhyo_kisai') && resolved['scope'] === 'members') || (type === 'koseki_fuhyo' && resolved['scope'] === 'some');
  if (needsPersons && !resolved['persons']) throw new ServiceError('invalid_request', 'choose the persons to put on the certificate (option persons)');
  if (!needsPersons) delete resolved['persons'];
  return { options: resolved, fee: t.fee * copies };
}
