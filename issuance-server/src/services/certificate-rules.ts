// Who may obtain what, and what a counter clerk would refuse (certificates.md §0–§5), decided on
// the data as it is at this moment. The same function runs when the application is made, when a
// kiosk claims it and again before the document is handed over, so that data changed in between
// (a seal abolished, a move-out notified, a support measure set, a 届出 pending) stops the print.
import { TAX_AMOUNT_FIELDS, TAX_COUNT_FIELDS, isoDateSchema, type CertificateType, type KosekiRecord, type RefusalCode } from '@cert/common';
import type { CertificateDocument } from '../documents/certificate-model.ts';
import type { Resident } from '../store/resident-store.ts';
import type { Tx } from '../store/store.ts';
import { fiscalYearsOn, signerOn, tokyoMoment, withinServiceHours, type CatalogConfig } from './catalog-config.ts';
import { DEFAULT_ERAS, fiscalYearLabel, toWareki } from '../documents/wareki.ts';

/** When the rules run: kiosk-only rules (service hours) apply from the claim on. */
export type RuleStage = 'application' | 'claim' | 'delivery';

/** What an application asks for, and what it was tied to when it was made. */
export interface CertificateOrder {
  residentId: string;
  certificateType: CertificateType;
  options: Record<string, string>;
  pinned: Record<string, string>;
  copies: number;
}

/** Everything a document shows except what belongs to one issuance (issue number, code, time). */
export interface DocumentContent {
  kind: CertificateDocument['kind'];
  title: string;
  subtitle: string | null;
  subject: string;
  certification: string;
  signer: { title: string; name: string };
  body: CertificateDocument['body'];
}

/** The key under which an application remembers the 戸籍 it was made for. */
const PINNED_KOSEKI = 'koseki';

/**
 * The rules allow the document, with what it shows and what the application must remember
 * (`pinned`: the 戸籍 its persons were chosen from); or refuse with a stable code.
 */
export type Decision = { ok: true; content: DocumentContent; pinned: Record<string, string> } | { ok: false; code: RefusalCode; message: string };

const refuse = (code: RefusalCode, message: string): Decision => ({ ok: false, code, message });

/** Titles and standard 認証文 (certificates.md; [UNCONFIRMED] wordings as proposed there). */
const TITLES: Record<CertificateType, { title: string; certification: string }> = {
  juminhyo: { title: '住民票の写し', certification: 'この写しは、住民票の原本と相違ないことを証明する。' },
  juminhyo_kisai: { title: '住民票記載事項証明書', certification: '上記の事項は、住民票の原本と相違ないことを証明する。' },
  inkan: { title: '印鑑登録証明書', certification: 'この写しは、登録された印影と相違ないことを証明します。' },
  kazei: { title: '課税証明書', certification: '上記のとおり証明します。' },
  koseki_zenbu: { title: '全部事項証明', certification: 'これは、戸籍に記録されている事項の全部を証明した書面である。' },
  koseki_kojin: { title: '個人事項証明', certification: 'これは、戸籍中の一部の者について記録されている事項の全部を証明した書面である。' },
  koseki_fuhyo: { title: '戸籍の附票の写し', certification: 'この写しは、戸籍の附票の原本と相違ないことを証明する。' },
};
/** The household 住民票 wording when the whole household is printed (SRN-J). */
const WHOLE_HOUSEHOLD_CERTIFICATION = 'この写しは、世帯全員の住民票の原本と相違ないことを証明する。';

const RESIDENCY_TYPES: readonly CertificateType[] = ['juminhyo', 'juminhyo_kisai', 'inkan', 'kazei'];
/** The 附票 stopped recording date of birth and sex for persons removed before this day. */
const FUHYO_BIRTH_FROM = '2022-01-11';

/** 身分事項 and 戸籍事項 as printed: their ISO dates (the records' convention) in 和暦 by the era table. */
function eventsForPrint(events: KosekiRecord['events'], catalog: CatalogConfig): KosekiRecord['events'] {
  const eras = catalog.eras ?? DEFAULT_ERAS;
  const first = eras.reduce((a, e) => (e.start < a ? e.start : a), '9999');
  // A date before the first era (or not a calendar date) prints as recorded.
  const print = (value: string) => (isoDateSchema.safeParse(value).success && value >= first ? toWareki(value, eras) : value);
  return events.map((e) => ({ type: e.type, fields: e.fields.map(([label, value]): [string, string] => [label, print(value)]) }));
}

/** The ids or seqs a comma-separated option lists. */
export function listOption(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function between(day: string, from: string | null, to: string | null): boolean {
  return !!from && from <= day && (!to || day <= to);
}

/** Refusals that follow from the person's own record, for any certificate about them. */
function personRefusal(r: Resident, type: CertificateType, today: string): Decision | null {
  if (r.status === 'deceased') return refuse('deceased', 'the person is recorded as deceased');
  if (r.status === 'moved_out' || (r.status === 'non_resident' && RESIDENCY_TYPES.includes(type))) {
    return refuse('moved_out', 'the person is not registered as living in this municipality');
  }
  if (r.moveOutNotifiedOn && r.moveOutNotifiedOn <= today) return refuse('move_out_pending', 'a move-out has been notified; certificates are issued at the counter until it is complete');
  if (r.moveInDate === today) return refuse('moved_in_today', 'nothing is issued at a kiosk on the day of moving in');
  if (between(today, r.suppressedFrom, r.suppressedTo)) return refuse('issuance_suppressed', 'issuance is suppressed for this record');
  // 支援措置 is a 住民基本台帳 measure: it covers 住民票, 印鑑, 課税 and the 附票, not the 戸籍 itself.
  if (r.supportMeasure && type !== 'koseki_zenbu' && type !== 'koseki_kojin') return refuse('support_measure', 'this certificate can only be issued at the municipal office counter');
  if (r.gaijiPending) return refuse('glyph_missing', 'a character of the record is still being registered (外字); ask at the counter');
  return null;
}

function juminhyoPerson(r: Resident) {
  return {
    name: r.name,
    nameKana: r.nameKana,
    oldSurname: r.oldSurname,
    alias: r.alias,
    birthDate: r.birthDate,
    foreign: !!r.nationality,
    sex: r.sex,
    relationship: r.relationshipToHead,
    domicile: r.domicile,
    domicileHead: r.domicileHead,
    residentSince: r.residentSince,
    addressSince: r.addressSince,
    nationality: r.nationality,
    residenceStatus: r.residenceStatus,
    residenceCardNumber: r.residenceCardNumber,
    residenceExpiry: r.residenceExpiry,
  };
}

/**
 * Decides whether `order` may be issued now and, if so, what its document shows. Reads only;
 * the caller's transaction makes the answer consistent with what it does next.
 */
export async function decide(tx: Tx, catalog: CatalogConfig, order: CertificateOrder, at: number, stage: RuleStage): Promise<Decision> {
  const type = order.certificateType;
  const config = catalog.types[type];
  const today = tokyoMoment(at).date;
  if (!config?.offered) return refuse('not_offered', 'the municipality does not offer this certificate at kiosks');
  if (stage !== 'application' && !withinServiceHours(catalog, type, at)) return refuse('outside_service_hours', 'this certificate is not issued at this hour or on this day');
  const applicant = await tx.residents.get(order.residentId);
  if (!applicant) return refuse('moved_out', 'the person is no longer on the register');
  const own = personRefusal(applicant, type, today);
  if (own) return own;
  const signer = signerOn(catalog, today);
  if (!signer) return refuse('not_offered', 'no signer is configured for today');
  const base = (body: DocumentContent['body'], subject: string, subtitle: string | null = null, certification = config.certification ?? TITLES[type].certification) => ({
    ok: true as const,
    content: { kind: type, title: TITLES[type].title, subtitle, subject, certification, signer, body },
    pinned: {},
  });

  switch (type) {
    case 'juminhyo':
    case 'juminhyo_kisai': {
      const household = await tx.residents.activeHousehold(applicant.householdId);
      if (household.some((m) => m.moveOutNotifiedOn && m.moveOutNotifiedOn <= today)) {
        return refuse('household_has_pending_moveout', 'someone in the household has notified a move-out; ask at the counter');
      }
      const scope = order.options['scope'] ?? 'self';
      const chosen = listOption(order.options['persons']);
      const people = scope === 'household' ? household : scope === 'members' ? household.filter((m) => chosen.includes(m.id)) : [applicant];
      if (scope === 'members' && (people.length !== chosen.length || people.length === 0)) {
        return refuse('not_in_same_household', 'only members of your own household can be on the certificate');
      }
      for (const p of people) {
        const r = personRefusal(p, type, today);
        if (r) return r;
      }
      const whole = scope === 'household' || (scope === 'members' && people.length === household.length);
      const includeRelationship = order.options['relationship'] !== 'omit';
      const head = household.find((m) => m.relationshipToHead === '世帯主');
      return base(
        {
          address: applicant.address,
          addressBuilding: applicant.addressBuilding,
          householdHead: includeRelationship ? (head?.name ?? null) : null,
          scope: whole ? 'household' : 'part',
          showDomicile: order.options['domicile'] === 'include',
          persons: people.map((p) => {
            const person = juminhyoPerson(p);
            // Items the applicant chose to leave out are never handed to the renderer.
            return {
              ...person,
              relationship: includeRelationship ? person.relationship : null,
              domicile: order.options['domicile'] === 'include' ? person.domicile : null,
              domicileHead: order.options['domicile'] === 'include' ? person.domicileHead : null,
              residentSince: order.options['residentSince'] === 'include' ? person.residentSince : null,
              addressSince: order.options['addressSince'] === 'include' ? person.addressSince : null,
              nationality: order.options['nationality'] === 'omit' ? null : person.nationality,
              residenceStatus: order.options['residenceStatus'] === 'include' ? person.residenceStatus : null,
              residenceExpiry: order.options['residenceStatus'] === 'include' ? person.residenceExpiry : null,
              residenceCardNumber: order.options['residenceCard'] === 'include' ? person.residenceCardNumber : null,
            };
          }),
        },
        applicant.name,
        whole ? '(世帯全員)' : '(世帯一部)',
        config.certification ?? (type === 'juminhyo' && whole ? WHOLE_HOUSEHOLD_CERTIFICATION : TITLES[type].certification),
      );
    }
    case 'inkan': {
      const seal = await tx.records.seal(applicant.id);
      if (!seal) return refuse('seal_not_registered', 'no seal is registered for you');
      if (seal.status !== 'active') return refuse('seal_registration_invalid', 'the seal registration is no longer valid (abolished or invalidated)');
      const printSex = seal.printSex ?? config.printSex;
      return base(
        {
          name: applicant.name,
          oldSurname: applicant.oldSurname,
          alias: applicant.alias,
          birthDate: applicant.birthDate,
          foreign: !!applicant.nationality,
          sex: printSex ? applicant.sex : null,
          address: applicant.address,
          addressBuilding: applicant.addressBuilding,
          remarks: [],
          seal: { png: new Uint8Array(seal.image), widthMm: seal.widthMm, heightMm: seal.heightMm },
        },
        applicant.name,
      );
    }
    case 'kazei': {
      const offered = fiscalYearsOn(catalog, today);
      const year = Number(order.options['fiscalYear'] ?? offered[0]);
      if (!offered.includes(year)) return refuse('tax_year_not_available', 'this fiscal year cannot be issued at kiosks now');
      const record = await tx.records.tax(applicant.id, year);
      if (!record) return refuse('not_taxed_here', 'you were not assessed by this municipality for this fiscal year (not resident here on 1 January)');
      if (record.status === 'undeclared') return refuse('tax_not_declared', 'no income declaration was filed for this year; please declare first');
      const yearLabel = fiscalYearLabel(year, catalog.eras, config.fiscalYear2019Label);
      const nontaxed = record.status === 'nontaxed';
      const dependentUndeclared = record.status === 'dependentUndeclared';
      const amounts = Object.fromEntries(
        TAX_AMOUNT_FIELDS.map((f) => {
          const v = record.amounts[f];
          // An undeclared dependant shows 「*」 in the income fields and no tax (KUDAMATSU).
          if (dependentUndeclared) return [f, /Income|Revenue|^total/.test(f) ? null : 0];
          return [f, v];
        }),
      );
      return {
        ok: true,
        pinned: {},
        content: {
          kind: type,
          title: nontaxed ? '非課税証明書' : TITLES.kazei.title,
          subtitle: `${yearLabel}（${fiscalYearLabel(record.incomeYear, catalog.eras, config.fiscalYear2019Label).replace('年度', '年分')}）`,
          subject: applicant.name,
          certification: config.certification ?? TITLES.kazei.certification,
          signer,
          body: {
            nontaxed,
            address: record.addressOnJan1,
            name: record.nameOnJan1,
            birthDate: applicant.birthDate,
            foreign: !!applicant.nationality,
            sex: applicant.sex,
            amounts,
            spouseDeduction: record.spouseDeduction,
            counts: Object.fromEntries(TAX_COUNT_FIELDS.map((f) => [f, record.counts[f]])),
            remarks: record.remarks,
          },
        },
      };
    }
    case 'koseki_zenbu':
    case 'koseki_kojin':
    case 'koseki_fuhyo': {
      const found = await kosekiFor(tx, applicant, today);
      if (!found.ok) return found;
      const { koseki } = found;
      // Persons are chosen by their place in one 戸籍: a certificate of another one (after an 入籍
      // or 転籍) would show other people.
      const pinned = order.pinned[PINNED_KOSEKI];
      if (pinned && pinned !== koseki.kosekiId) return refuse('koseki_not_here', 'your 戸籍 has changed since the application (入籍, 転籍 …); please apply again');
      const chosen = listOption(order.options['persons']).map(Number);
      const everyone = type === 'koseki_zenbu' || (type === 'koseki_fuhyo' && (order.options['scope'] ?? 'all') === 'all');
      const members = everyone ? koseki.members : koseki.members.filter((m) => chosen.includes(m.seq));
      if (!everyone && (members.length === 0 || members.length !== new Set(chosen).size)) {
        return refuse('not_in_same_koseki', 'only persons of your own 戸籍 can be on the certificate');
      }
      const headName = `${koseki.headSurname}\u3000${koseki.headGivenName}`;
      const pin = { [PINNED_KOSEKI]: koseki.kosekiId };
      if (type !== 'koseki_fuhyo') {
        const decided = base(
          {
            honseki: koseki.honseki,
            headName,
            kosekiEvents: eventsForPrint(koseki.events, catalog),
            persons: members.map((m) => ({
              removed: m.removed,
              surname: m.surname,
              givenName: m.givenName,
              surnameKana: m.surnameKana,
              givenNameKana: m.givenNameKana,
              birthDate: m.birthDate,
              foreign: m.foreign,
              spouseRole: m.spouseRole,
              father: m.father,
              mother: m.mother,
              relationship: m.relationship,
              adoptiveFather: m.adoptiveFather,
              adoptiveMother: m.adoptiveMother,
              adoptiveRelationship: m.adoptiveRelationship,
              events: eventsForPrint(m.events, catalog),
            })),
          },
          headName,
        );
        return { ...decided, pinned: pin };
      }
      // 支援措置 covers the 附票 (STD-160): a covered person's addresses are never printed here.
      for (const m of members) {
        const r = m.residentId ? await tx.residents.get(m.residentId) : null;
        if (r?.supportMeasure) return refuse('support_measure', 'a person of this 附票 is under a support measure; ask at the counter');
      }
      const withHonseki = order.options['honseki'] === 'include';
      const decided = base(
        {
          honseki: withHonseki ? koseki.honseki : null,
          headName: withHonseki ? headName : null,
          whole: everyone,
          persons: members.map((m) => {
            const recorded = !(m.removed && m.removedOn && m.removedOn < FUHYO_BIRTH_FROM);
            return {
              name: withHonseki ? m.givenName : `${m.surname}\u3000${m.givenName}`,
              birthDate: recorded ? m.birthDate : null,
              foreign: m.foreign,
              sex: recorded ? m.sex : null,
              removed: m.removed,
              addresses: m.fuhyo.map((a) => ({ address: a.address, since: a.addressSince })),
            };
          }),
        },
        headName,
        everyone ? null : '(一部)',
      );
      return { ...decided, pinned: pin };
    }
  }
}

/** The 戸籍 an applicant may obtain: the one they are 在籍 in, kept here, current, with a 利用登録 when they live elsewhere, nothing pending. */
async function kosekiFor(tx: Tx, applicant: Resident, today: string): Promise<{ ok: true; koseki: KosekiRecord } | Extract<Decision, { ok: false }>> {
  // The 戸籍 the person is 在籍 in: a 除籍 entry (the parents' 戸籍 left at marriage) is not theirs to obtain at a kiosk.
  const kosekiId = await tx.records.kosekiIdOf(applicant.id);
  const koseki = kosekiId ? await tx.records.koseki(kosekiId) : null;
  if (!koseki || koseki.status !== 'current') return { ok: false, code: 'koseki_not_here', message: 'your 本籍 is not in this municipality (or the 戸籍 is closed)' };
  if (applicant.status === 'non_resident') {
    const registration = await tx.records.registration(applicant.id, koseki.kosekiId);
    if (!registration || registration.effectiveFrom > today) {
      return { ok: false, code: 'koseki_registration_required', message: 'living elsewhere, you need the one-time 本籍地 利用登録 first (about 5 business days)' };
    }
  }
  if (koseki.pendingNotification) return { ok: false, code: 'koseki_pending_notification', message: 'a notification (届出) is being entered into the 戸籍; try again once it is done' };
  return { ok: true, koseki };
}
