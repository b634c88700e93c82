// The apply screen's rules without a browser: which orders name people (and from where), what is
// sent, how service hours read, and how the rules' refusals and other failures are explained.
import { REFUSAL_CODES, type CertificateTypeInfo, type SubjectsResponse } from '@cert/common';
import { applicantStrings } from '@cert/common/i18n';
import { ContractError } from '@cert/common/node';
import assert from 'node:assert/strict';
import { toApplicantIpcError } from '../../../src/host/applicant-handlers.ts';
import { errorText, refusalText, serviceHoursText } from '../../../src/renderer/texts.ts';
import { choosablePersons, choose, chosenIds, defaultOrder, personsNeeded, requestOf } from '../../../src/renderer/order.ts';

const { ja, en } = applicantStrings;
const scope = (values: string[]) => ({ name: 'scope', values, default: values[0]!, label: { ja: '記載する人', en: 'People' } });
const type = (t: Partial<CertificateTypeInfo> & Pick<CertificateTypeInfo, 'type'>): CertificateTypeInfo => ({ name: { ja: t.type, en: t.type }, fee: 300, maxCopies: 5, options: [], ...t });
const JUMINHYO = type({ type: 'juminhyo', persons: 'household', options: [scope(['self', 'household', 'members']), { name: 'domicile', values: ['omit', 'include'], default: 'omit' }] });
const KOJIN = type({ type: 'koseki_kojin', persons: 'koseki' });
const FUHYO = type({ type: 'koseki_fuhyo', persons: 'koseki', options: [scope(['all', 'some'])] });
const INKAN = type({ type: 'inkan' });
const SUBJECTS: SubjectsResponse = {
  household: [
    { id: 'R0001', name: '山田 太郎', relationship: '世帯主', self: true },
    { id: 'R0002', name: '山田 花子', relationship: '妻', self: false },
  ],
  koseki: {
    persons: [
      { seq: 1, name: '山田　太郎', removed: false, self: true },
      { seq: 4, name: '山田　次郎', removed: true, self: false },
    ],
  },
  taxYears: [2025],
  seal: false,
  foreign: false,
};

describe('apply screen rules (no browser)', () => {
  it('people are named only where the type and its scope ask for them, from the household or the 戸籍', () => {
    assert.equal(personsNeeded(JUMINHYO, { scope: 'self' }), null);
    assert.equal(personsNeeded(JUMINHYO, { scope: 'household' }), null);
    assert.equal(personsNeeded(JUMINHYO, { scope: 'members' }), 'household');
    assert.equal(personsNeeded(KOJIN, {}), 'koseki', 'a 個人事項証明 always names its persons');
    assert.equal(personsNeeded(FUHYO, {}), null, 'the 附票 defaults to everyone');
    assert.equal(personsNeeded(FUHYO, { scope: 'some' }), 'koseki');
    assert.equal(personsNeeded(INKAN, {}), null);
  });

  it('the people to choose from: household members by id, 戸籍 persons by seq with 除籍 marked; none without a 戸籍 here', () => {
    assert.deepEqual(choosablePersons(SUBJECTS, 'household')?.map((p) => [p.id, p.self, p.relationship]), [['R0001', true, '世帯主'], ['R0002', false, '妻']]);
    assert.deepEqual(choosablePersons(SUBJECTS, 'koseki')?.map((p) => [p.id, p.removed]), [['1', false], ['4', true]]);
    assert.equal(choosablePersons({ ...SUBJECTS, koseki: null }, 'koseki'), null);
  });

  it('the request carries option persons only while the scope asks for people; an empty choice stays empty', () => {
    const order = defaultOrder(JUMINHYO);
    assert.deepEqual(order, { certificateType: 'juminhyo', options: { scope: 'self', domicile: 'omit' }, copies: 1 });
    assert.equal(chosenIds(order), undefined, 'nobody chosen before the screen preselects');
    choose(order, ['R0001', 'R0002']);
    assert.deepEqual(requestOf(order, JUMINHYO).options, { scope: 'self', domicile: 'omit' }, 'scope self: no persons sent');
    order.options['scope'] = 'members';
    assert.deepEqual(requestOf(order, JUMINHYO).options, { scope: 'members', domicile: 'omit', persons: 'R0001,R0002' });
    choose(order, []);
    assert.deepEqual(chosenIds(order), [], 'the resident unticked everyone: not replaced by the preselection');
    assert.deepEqual(requestOf(order, JUMINHYO).options, { scope: 'members', domicile: 'omit' });
  });

  it('service hours read as every day, weekdays, weekends or the days named', () => {
    const every = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
    const windows = [{ days: [...every], from: '06:30', to: '23:00' }];
    assert.equal(serviceHoursText(ja, windows), '毎日 06:30〜23:00');
    assert.equal(serviceHoursText(en, windows), 'Every day 06:30–23:00');
    const split = [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, from: '08:30', to: '17:00' },
      { days: ['sat', 'sun'] as const, from: '09:00', to: '12:00' },
    ].map((w) => ({ ...w, days: [...w.days] }));
    assert.equal(serviceHoursText(ja, split), '平日 08:30〜17:00、土日 09:00〜12:00');
    assert.equal(serviceHoursText(en, [{ days: ['wed', 'mon'], from: '10:00', to: '15:00' }]), 'Mon, Wed 10:00–15:00');
    assert.equal(serviceHoursText(ja, [{ days: [...every], from: '00:00', to: '24:00' }]), '毎日 24時間');
  });

  it('a refusal when applying says that the application cannot be made, why, and what to do; other codes keep their own texts', () => {
    for (const t of [ja, en]) {
      for (const code of REFUSAL_CODES) assert.equal(errorText(t, { code, message: 'server words' }), t.format.sentences(t.refusals.atApplication, t.refusals.reasons[code]), code);
      assert.equal(refusalText(t, 'seal_abolished'), t.refusals.generic, 'a code newer than this build');
      assert.equal(refusalText(t, undefined), t.refusals.generic);
      assert.equal(errorText(t, { code: 'session_invalid', message: '' }), t.errors.session_invalid);
      assert.equal(errorText(t, { code: 'seal_abolished', message: '', refusal: true }), t.format.sentences(t.refusals.atApplication, t.refusals.generic), 'a newer refusal code');
      assert.equal(errorText(t, { code: 'resident_not_found', message: '', refusal: true }), t.errors.resident_not_found, 'a 403 with its own text');
      assert.equal(errorText(t, { code: 'teapot', message: '' }), t.errors.unexpected('teapot'));
    }
    assert.deepEqual(toApplicantIpcError(new ContractError(403, 'seal_abolished', 'no')), { code: 'seal_abolished', message: 'no', refusal: true }, 'the host marks a 403 as a refusal');
    assert.deepEqual(toApplicantIpcError(new ContractError(400, 'invalid_request', 'no')), { code: 'invalid_request', message: 'no' });
    assert.match(errorText(ja, { code: 'seal_not_registered', message: '' }), /印鑑登録.*窓口/);
    assert.match(errorText(en, { code: 'move_out_pending', message: '' }), /move-out.*counter/);
  });
});
