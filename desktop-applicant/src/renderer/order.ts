// An order as the resident puts it together, beyond the catalog's fixed options: the people on
// the certificate (option `persons`, comma-separated: household members by resident id, 戸籍
// persons by seq). Plain data, no DOM, so that the rules can be checked without a browser.
import type { CertificateTypeInfo, CreateApplicationRequest, SubjectsResponse } from '@cert/common';

/** An application as the resident puts it together (every field chosen). */
export type Order = Required<CreateApplicationRequest>;

/** Values of option `scope` under which the application names its people; the other scopes need none. */
const CHOOSING_SCOPES: readonly string[] = ['members', 'some'];

/** Where the people of an order come from. */
export type PersonSource = NonNullable<CertificateTypeInfo['persons']>;

/** One person the resident may put on a certificate. */
export interface Choosable {
  /** The value sent in option `persons`. */
  id: string;
  name: string;
  /** 続柄 as the register records it (household members only). */
  relationship: string | null;
  self: boolean;
  /** 除籍: left the 戸籍 (still on a 戸籍 certificate). */
  removed: boolean;
}

/** A fresh order for a certificate type: its default options, one copy, nobody chosen yet. */
export function defaultOrder(info: CertificateTypeInfo): Order {
  return { certificateType: info.type, options: Object.fromEntries(info.options.map((o) => [o.name, o.default])), copies: 1 };
}

/** Whose people the order must name with its current options, or null when it names nobody. */
export function personsNeeded(info: CertificateTypeInfo, options: Record<string, string>): PersonSource | null {
  if (!info.persons) return null;
  const scope = info.options.find((o) => o.name === 'scope');
  if (scope && !CHOOSING_SCOPES.includes(options['scope'] ?? scope.default)) return null;
  return info.persons;
}

/** The people the resident may choose from; null when there is no 戸籍 of theirs here. */
export function choosablePersons(subjects: SubjectsResponse, source: PersonSource): Choosable[] | null {
  if (source === 'household') return subjects.household.map((m) => ({ id: m.id, name: m.name, relationship: m.relationship, self: m.self, removed: false }));
  return subjects.koseki?.persons.map((p) => ({ id: String(p.seq), name: p.name, relationship: null, self: p.self, removed: p.removed })) ?? null;
}

/** The people an order names; undefined until the resident (or the preselection) chose. */
export function chosenIds(order: Order): string[] | undefined {
  const value = order.options['persons'];
  return value === undefined ? undefined : value.split(',').filter(Boolean);
}

/** Records the chosen people (an empty choice stays recorded, so that the resident's "nobody" is not replaced by the preselection). */
export function choose(order: Order, ids: readonly string[]): void {
  order.options['persons'] = ids.join(',');
}

/** The request for an order: option `persons` only while the options ask for people. */
export function requestOf(order: Order, info: CertificateTypeInfo): Order {
  const { persons, ...options } = order.options;
  return { ...order, options: personsNeeded(info, order.options) && persons ? { ...options, persons } : options };
}
