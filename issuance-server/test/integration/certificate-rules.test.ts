import assert from 'node:assert/strict';
import { catalogResponseSchema, subjectsResponseSchema, type CertificateType, type KosekiRecord, type RefusalCode } from '@cert/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DIR } from '@cert/scripts/demo';
import { tokyoMoment } from '../../src/services/catalog-config.ts';
import type { Resident } from '../../src/store/resident-store.ts';
import { assertError, TestServer, type Applicant, type HttpResult, type TestSocket } from './harness.ts';

describe('integration: who may obtain what, and every refusal, through the wire contract', () => {
  let ts: TestServer;
  const who: Record<string, Applicant> = {};
  const today = () => tokyoMoment(ts.config.clock()).date;
  const demoCatalog = () => JSON.parse(readFileSync(join(DEMO_DIR, 'catalog.json'), 'utf8'));
  const loadCatalog = (catalog: unknown) => ts.server.context.admin.loadCatalog(JSON.stringify(catalog), (name) => readFileSync(join(DEMO_DIR, name)));

  before(async () => {
    ts = await TestServer.start();
    for (const id of ['R0001', 'R0002', 'R0003', 'R0004', 'R0006', 'R0008', 'R0009', 'R0010']) who[id] = await ts.login(id);
  });
  afterEach(() => ts.closeSockets());
  after(async () => {
    await ts?.close();
  });

  function applyRaw(id: string, certificateType: CertificateType, options: Record<string, string> = {}, copies = 1): Promise<HttpResult> {
    return ts.http('POST', '/api/v1/applications', { json: { certificateType, options, copies }, bearer: who[id]!.token });
  }
  async function applicationCount(id: string): Promise<number> {
    return (await ts.http('GET', '/api/v1/applications', { bearer: who[id]!.token })).json.applications.length;
  }
  /** Applies expecting the refusal `code`, and checks that nothing was stored. */
  async function refusedAtApplication(id: string, type: CertificateType, options: Record<string, string>, code: RefusalCode): Promise<void> {
    const before = await applicationCount(id);
    assertError(await applyRaw(id, type, options), 403, code, `${id} ${type} ${JSON.stringify(options)}`);
    assert.equal(await applicationCount(id), before, 'a refused application is not stored');
  }

  describe('the catalogue and the subjects', () => {
    it('GET /api/v1/catalog lists the seven types with fees, copies, options, service hours and the fiscal years on offer', async () => {
      const res = await ts.http('GET', '/api/v1/catalog');
      assert.equal(res.status, 200, res.text);
      const catalog = catalogResponseSchema.parse(res.json);
      assert.deepEqual(catalog.municipality, { code: '999991', name: 'テスト市' });
      assert.deepEqual(
        catalog.certificateTypes.map((t) => [t.type, t.fee, t.maxCopies, t.availableNow]),
        [
          ['juminhyo', 200, 10, true],
          ['juminhyo_kisai', 200, 10, true],
          ['inkan', 200, 10, true],
          ['kazei', 300, 5, true],
          ['koseki_zenbu', 350, 5, true],
          ['koseki_kojin', 350, 5, true],
          ['koseki_fuhyo', 200, 5, true],
        ],
      );
      const kazei = catalog.certificateTypes.find((t) => t.type === 'kazei')!;
      const fy = kazei.options.find((o) => o.name === 'fiscalYear')!;
      assert.deepEqual(fy.values, ['2026', '2025']);
      assert.deepEqual(fy.valueLabels?.['2026'], { ja: '令和8年度', en: 'FY2026' });
      assert.equal(catalog.certificateTypes.find((t) => t.type === 'koseki_kojin')!.persons, 'koseki');
      assert.equal(catalog.certificateTypes.find((t) => t.type === 'juminhyo')!.persons, 'household');
    });

    it('GET /api/v1/applicant/subjects: household, 戸籍 persons (除籍 marked), tax years, seal — and for a 本籍地 user only themself and their 戸籍', async () => {
      const taro = subjectsResponseSchema.parse((await ts.http('GET', '/api/v1/applicant/subjects', { bearer: who['R0001']!.token })).json);
      assert.deepEqual(taro.household.map((m) => [m.id, m.relationship, m.self]), [
        ['R0001', '世帯主', true],
        ['R0002', '妻', false],
        ['R0003', '子', false],
      ]);
      assert.deepEqual(taro.koseki?.persons.map((p) => [p.seq, p.name, p.removed, p.self]), [
        [1, '山田　太郎', false, true],
        [2, '山田　花子', false, false],
        [3, '山田　一郎', false, false],
      ]);
      assert.deepEqual(taro.taxYears, [2026, 2025]);
      assert.equal(taro.seal, true);
      assert.equal(taro.foreign, false);
      const kazuo = subjectsResponseSchema.parse((await ts.http('GET', '/api/v1/applicant/subjects', { bearer: who['R0009']!.token })).json);
      assert.deepEqual(kazuo.household.map((m) => m.id), ['R0009']);
      assert.deepEqual(kazuo.koseki?.persons.map((p) => [p.seq, p.removed]), [
        [1, false],
        [2, true],
        [3, true],
      ]);
      assert.equal((await ts.http('GET', '/api/v1/applicant/subjects')).status, 401);
    });
  });

  describe('at application: each refusal with its stable code, nothing stored', () => {
    it('the person: deceased, moved out, move-out notified, moved in today, issuance suppressed, 支援措置, 外字 being registered', async () => {
      const cases: [Partial<Resident>, RefusalCode][] = [
        [{ status: 'deceased' }, 'deceased'],
        [{ status: 'moved_out' }, 'moved_out'],
        [{ moveOutNotifiedOn: today(), moveOutPlannedDate: '2099-01-01' }, 'move_out_pending'],
        [{ moveInDate: today() }, 'moved_in_today'],
        [{ suppressedFrom: today() }, 'issuance_suppressed'],
        [{ supportMeasure: true }, 'support_measure'],
        [{ gaijiPending: true }, 'glyph_missing'],
      ];
      for (const [change, code] of cases) {
        const restore = await ts.server.context.store.read((tx) => tx.residents.get('R0003'));
        await ts.changeRecord('resident', 'R0003', change);
        try {
          await refusedAtApplication('R0003', 'juminhyo', {}, code);
        } finally {
          await ts.changeRecord('resident', 'R0003', restore!);
        }
      }
      assert.equal((await applyRaw('R0003', 'juminhyo')).status, 201, 'allowed again once the data allows it');
    });

    it('the household: someone with a move-out notified stops the household 住民票, not the seal certificate', async () => {
      await ts.changeRecord('resident', 'R0002', { moveOutNotifiedOn: today() });
      try {
        await refusedAtApplication('R0001', 'juminhyo', { scope: 'household' }, 'household_has_pending_moveout');
        await refusedAtApplication('R0001', 'juminhyo_kisai', { scope: 'self' }, 'household_has_pending_moveout');
        assert.equal((await applyRaw('R0001', 'inkan')).status, 201);
      } finally {
        await ts.changeRecord('resident', 'R0002', { moveOutNotifiedOn: null });
      }
    });

    it('印鑑: not registered; registration abolished', async () => {
      await refusedAtApplication('R0003', 'inkan', {}, 'seal_not_registered');
      await refusedAtApplication('R0004', 'inkan', {}, 'seal_registration_invalid');
    });

    it('課税: a year not on offer (before the June switchover), not taxed here (no record), not declared', async () => {
      await refusedAtApplication('R0001', 'kazei', { fiscalYear: '2027' }, 'tax_year_not_available');
      await refusedAtApplication('R0001', 'kazei', { fiscalYear: '2019' }, 'tax_year_not_available');
      await refusedAtApplication('R0003', 'kazei', {}, 'not_taxed_here');
      await refusedAtApplication('R0004', 'kazei', { fiscalYear: '2026' }, 'tax_not_declared');
      assert.equal((await applyRaw('R0002', 'kazei', { fiscalYear: '2025' })).status, 201, '非課税 is a certificate too');
      assertError(await applyRaw('R0001', 'kazei', { fiscalYear: 'last' }), 400, 'invalid_request');
    });

    it('戸籍: 本籍 elsewhere; 本籍地 user without an effective 利用登録; a 届出 pending; the 本籍地 user is refused resident certificates', async () => {
      await refusedAtApplication('R0004', 'koseki_zenbu', {}, 'koseki_not_here');
      await refusedAtApplication('R0008', 'koseki_fuhyo', {}, 'koseki_not_here');
      assert.equal((await applyRaw('R0009', 'koseki_zenbu')).status, 201, 'the 本籍地 user with a 利用登録');
      await refusedAtApplication('R0009', 'juminhyo', {}, 'moved_out');
      await refusedAtApplication('R0009', 'inkan', {}, 'moved_out');
      const registration = await ts.server.context.store.read((tx) => tx.records.registration('R0009', 'K002'));
      const update = (effectiveFrom: string, version: number) => ts.updateRecords([{ kind: 'koseki-registration', record: { ...registration!, effectiveFrom, version } }]);
      assert.equal((await update('2099-01-01', registration!.version + 1)).status, 200);
      try {
        await refusedAtApplication('R0009', 'koseki_kojin', { persons: '1' }, 'koseki_registration_required');
      } finally {
        assert.equal((await update(registration!.effectiveFrom, registration!.version + 2)).status, 200);
      }
      await ts.changeRecord('koseki', 'K001', { pendingNotification: true });
      try {
        await refusedAtApplication('R0002', 'koseki_zenbu', {}, 'koseki_pending_notification');
      } finally {
        await ts.changeRecord('koseki', 'K001', { pendingNotification: false });
      }
    });

    it('支援措置 stops the 附票 but not the 戸籍 itself', async () => {
      await refusedAtApplication('R0006', 'juminhyo', {}, 'support_measure');
      await refusedAtApplication('R0006', 'koseki_fuhyo', {}, 'support_measure');
      assert.equal((await applyRaw('R0006', 'koseki_zenbu')).status, 201);
    });
  });

  describe('who may be on the certificate is enforced on the server, not only in the UI', () => {
    it('住民票: chosen members must be of the applicant’s household', async () => {
      await refusedAtApplication('R0001', 'juminhyo', { scope: 'members', persons: 'R0001,R0004' }, 'not_in_same_household');
      await refusedAtApplication('R0001', 'juminhyo_kisai', { scope: 'members', persons: 'R0009' }, 'not_in_same_household');
      const ok = await applyRaw('R0001', 'juminhyo', { scope: 'members', persons: 'R0001,R0002' });
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual(ok.json.options, { scope: 'members', persons: 'R0001,R0002', domicile: 'omit', relationship: 'include', nationality: 'include', residenceStatus: 'omit', residenceCard: 'omit' });
      assertError(await applyRaw('R0001', 'juminhyo', { scope: 'members' }), 400, 'invalid_request', 'members without persons');
    });

    it('戸籍: 個人事項 and the 附票 in part name persons of the applicant’s own 戸籍', async () => {
      await refusedAtApplication('R0001', 'koseki_kojin', { persons: '1,9' }, 'not_in_same_koseki');
      await refusedAtApplication('R0009', 'koseki_fuhyo', { scope: 'some', persons: '4' }, 'not_in_same_koseki');
      assert.equal((await applyRaw('R0001', 'koseki_kojin', { persons: '1,3' })).status, 201);
      assert.equal((await applyRaw('R0009', 'koseki_fuhyo', { scope: 'some', persons: '3', honseki: 'include' })).status, 201, 'a 除籍 person of the 附票');
      assertError(await applyRaw('R0001', 'koseki_kojin', {}), 400, 'invalid_request', '個人事項 without persons');
      assertError(await applyRaw('R0001', 'koseki_kojin', { persons: '1;2' }), 400, 'invalid_request');
    });

    it('options and copies are checked against the catalogue', async () => {
      assertError(await applyRaw('R0001', 'inkan', { scope: 'household' }), 400, 'invalid_request', 'an option inkan does not have');
      assertError(await applyRaw('R0001', 'juminhyo', { domicile: 'maybe' }), 400, 'invalid_request');
      assertError(await applyRaw('R0001', 'koseki_zenbu', {}, 6), 400, 'invalid_request', 'over maxCopies 5');
      const ok = await applyRaw('R0001', 'koseki_zenbu', {}, 5);
      assert.equal(ok.status, 201);
      assert.equal(ok.json.fee, 5 * 350);
    });
  });

  describe('the catalogue changes: service hours and withdrawn types decide at the kiosk', () => {
    afterEach(async () => {
      await loadCatalog(demoCatalog());
    });

    it('outside its service hours a type is still applied for, listed as not available now, and refused at the kiosk', async () => {
      const app = (await applyRaw('R0001', 'koseki_zenbu')).json;
      const catalog = demoCatalog();
      catalog.types.koseki_zenbu.closedDays = [today().slice(5)];
      await loadCatalog(catalog);
      const listed = catalogResponseSchema.parse((await ts.http('GET', '/api/v1/catalog')).json);
      assert.equal(listed.certificateTypes.find((t) => t.type === 'koseki_zenbu')!.availableNow, false);
      assert.equal((await applyRaw('R0001', 'koseki_zenbu')).status, 201, 'applying is not a kiosk visit');
      assertError(await ts.claimRaw(0, app.receiptNumber), 403, 'outside_service_hours');
      assert.equal((await ts.application(who['R0001']!, app.applicationId)).status, 'submitted');
      await loadCatalog(demoCatalog());
      const issuance = await ts.claim(0, app.receiptNumber);
      assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200, 'printable once the hours allow it');
    });

    it('a type withdrawn after the application is refused at the kiosk (not_offered) and no longer listed', async () => {
      const app = (await applyRaw('R0001', 'juminhyo_kisai')).json;
      const catalog = demoCatalog();
      catalog.types.juminhyo_kisai.offered = false;
      await loadCatalog(catalog);
      const listed = catalogResponseSchema.parse((await ts.http('GET', '/api/v1/catalog')).json);
      assert.ok(!listed.certificateTypes.some((t) => t.type === 'juminhyo_kisai'));
      assertError(await ts.claimRaw(0, app.receiptNumber), 403, 'not_offered');
      assertError(await applyRaw('R0001', 'juminhyo_kisai'), 400, 'invalid_request', 'a new application for a withdrawn type');
    });
  });

  describe('data changed between application and printing (the incidents, and every other refusal) → refused at the kiosk, nothing printed', () => {
    interface Incident {
      name: string;
      applicant: string;
      type: CertificateType;
      options?: Record<string, string>;
      change: () => Promise<void>;
      restore: () => Promise<void>;
      code: RefusalCode;
    }
    // The change is made when the test runs (it may name today's date).
    const resident = (id: string, change: () => Partial<Resident>, back: Partial<Resident>) => ({ change: () => ts.changeRecord('resident', id, change()), restore: () => ts.changeRecord('resident', id, back) });
    const catalogWith = (edit: (catalog: ReturnType<typeof demoCatalog>) => void) => ({
      change: async () => {
        const catalog = demoCatalog();
        edit(catalog);
        await loadCatalog(catalog);
      },
      restore: async () => {
        await loadCatalog(demoCatalog());
      },
    });
    let k001Members: KosekiRecord['members'] = [];
    let k003Members: KosekiRecord['members'] = [];
    const incidents: Incident[] = [
      // The incidents of domain.md §3 …
      {
        name: 'incident: the seal registration is abolished',
        applicant: 'R0001',
        type: 'inkan',
        change: () => ts.changeRecord('seal', 'R0001', { status: 'abolished', statusChangedOn: today() }),
        restore: () => ts.changeRecord('seal', 'R0001', { status: 'active', statusChangedOn: null }),
        code: 'seal_registration_invalid',
      },
      { name: 'incident: a move-out is notified by someone of the household', applicant: 'R0001', type: 'juminhyo', options: { scope: 'household' }, ...resident('R0003', () => ({ moveOutNotifiedOn: today() }), { moveOutNotifiedOn: null }), code: 'household_has_pending_moveout' },
      { name: 'incident: a 支援措置 is set', applicant: 'R0001', type: 'juminhyo', ...resident('R0001', () => ({ supportMeasure: true }), { supportMeasure: false }), code: 'support_measure' },
      {
        name: 'incident: a 届出 is pending on the 戸籍',
        applicant: 'R0002',
        type: 'koseki_zenbu',
        change: () => ts.changeRecord('koseki', 'K001', { pendingNotification: true }),
        restore: () => ts.changeRecord('koseki', 'K001', { pendingNotification: false }),
        code: 'koseki_pending_notification',
      },
      // … and every other refusal the data or the catalogue can bring about after the application.
      { name: 'the resident moves out', applicant: 'R0001', type: 'juminhyo_kisai', ...resident('R0001', () => ({ status: 'moved_out' }), { status: 'active' }), code: 'moved_out' },
      { name: 'the resident is recorded as deceased', applicant: 'R0001', type: 'inkan', ...resident('R0001', () => ({ status: 'deceased' }), { status: 'active' }), code: 'deceased' },
      { name: 'the resident notifies a move-out', applicant: 'R0001', type: 'kazei', ...resident('R0001', () => ({ moveOutNotifiedOn: today() }), { moveOutNotifiedOn: null }), code: 'move_out_pending' },
      { name: 'a move-in is recorded today', applicant: 'R0001', type: 'juminhyo', ...resident('R0001', () => ({ moveInDate: today() }), { moveInDate: null }), code: 'moved_in_today' },
      { name: '発行抑止 is set', applicant: 'R0001', type: 'koseki_fuhyo', ...resident('R0001', () => ({ suppressedFrom: today() }), { suppressedFrom: null }), code: 'issuance_suppressed' },
      { name: 'a 外字 registration starts', applicant: 'R0001', type: 'koseki_kojin', options: { persons: '1' }, ...resident('R0001', () => ({ gaijiPending: true }), { gaijiPending: false }), code: 'glyph_missing' },
      { name: 'a chosen member leaves the household', applicant: 'R0001', type: 'juminhyo', options: { scope: 'members', persons: 'R0001,R0002' }, ...resident('R0002', () => ({ householdId: 'H099' }), { householdId: 'H001' }), code: 'not_in_same_household' },
      {
        name: 'the tax record is corrected to not declared',
        applicant: 'R0001',
        type: 'kazei',
        options: { fiscalYear: '2026' },
        change: () => ts.changeRecord('tax', 'R0001/2026', { status: 'undeclared' }),
        restore: () => ts.changeRecord('tax', 'R0001/2026', { status: 'taxed' }),
        code: 'tax_not_declared',
      },
      { name: 'the fiscal year is withdrawn from the kiosks', applicant: 'R0001', type: 'kazei', options: { fiscalYear: '2025' }, ...catalogWith((c) => (c.types.kazei.fiscalYears = c.types.kazei.fiscalYears.filter((f: { year: number }) => f.year !== 2025))), code: 'tax_year_not_available' },
      {
        name: 'the 戸籍 is closed (転籍 elsewhere)',
        applicant: 'R0001',
        type: 'koseki_zenbu',
        change: () => ts.changeRecord('koseki', 'K001', { status: 'removed' }),
        restore: () => ts.changeRecord('koseki', 'K001', { status: 'current' }),
        code: 'koseki_not_here',
      },
      {
        name: 'a chosen person is no longer in the 戸籍',
        applicant: 'R0001',
        type: 'koseki_kojin',
        options: { persons: '1,3' },
        change: async () => {
          k001Members = (await ts.server.context.store.read((tx) => tx.records.koseki('K001')))!.members;
          await ts.changeRecord('koseki', 'K001', { members: k001Members.filter((m) => m.seq !== 3) });
        },
        restore: () => ts.changeRecord('koseki', 'K001', { members: k001Members }),
        code: 'not_in_same_koseki',
      },
      {
        name: 'the resident is entered in another 戸籍 (入籍): persons chosen in the old one are never printed from the new one',
        applicant: 'R0001',
        type: 'koseki_kojin',
        options: { persons: '1' },
        change: async () => {
          k001Members = (await ts.server.context.store.read((tx) => tx.records.koseki('K001')))!.members;
          k003Members = (await ts.server.context.store.read((tx) => tx.records.koseki('K003')))!.members;
          await ts.changeRecord('koseki', 'K001', { members: k001Members.map((m) => (m.seq === 1 ? { ...m, removed: true, removedOn: today() } : m)) });
          await ts.changeRecord('koseki', 'K003', { members: [...k003Members, { ...k001Members[0]!, seq: 2, relationship: '夫' }] });
        },
        restore: async () => {
          await ts.changeRecord('koseki', 'K003', { members: k003Members });
          await ts.changeRecord('koseki', 'K001', { members: k001Members });
        },
        code: 'koseki_not_here',
      },
      {
        name: 'the 本籍地 利用登録 is not effective any more',
        applicant: 'R0009',
        type: 'koseki_zenbu',
        change: () => ts.changeRecord('koseki-registration', 'R0009/K002', { effectiveFrom: '2099-01-01' }),
        restore: () => ts.changeRecord('koseki-registration', 'R0009/K002', { effectiveFrom: '2024-04-08' }),
        code: 'koseki_registration_required',
      },
      { name: 'the type is closed today', applicant: 'R0001', type: 'inkan', ...catalogWith((c) => (c.types.inkan.closedDays = [today().slice(5)])), code: 'outside_service_hours' },
      { name: 'the type is withdrawn', applicant: 'R0001', type: 'juminhyo', ...catalogWith((c) => (c.types.juminhyo.offered = false)), code: 'not_offered' },
    ];

    for (const incident of incidents) {
      it(`${incident.name} before the kiosk claims: the claim is refused (${incident.code}); the receipt prints once the data allows it`, async () => {
        const app = (await applyRaw(incident.applicant, incident.type, incident.options ?? {})).json;
        await incident.change();
        try {
          assertError(await ts.claimRaw(0, app.receiptNumber), 403, incident.code);
          assert.equal((await ts.application(who[incident.applicant]!, app.applicationId)).status, 'submitted');
          assert.deepEqual(await ts.query('SELECT id FROM issuance_attempts WHERE application_id = ?', [app.applicationId]), []);
        } finally {
          await incident.restore();
        }
        const issuance = await ts.claim(0, app.receiptNumber);
        assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
      });

      it(`${incident.name} after the resident approved: the document is refused (${incident.code}), the kiosk and the applicant are told why, nothing is printed`, async () => {
        const person = who[incident.applicant]!;
        const sock: TestSocket = await ts.deviceSocket(person.device);
        const app = (await applyRaw(incident.applicant, incident.type, incident.options ?? {})).json;
        const issuance = await ts.claimAndApprove(0, app, person.device, sock);
        await incident.change();
        try {
          assertError(await ts.kioskDocument(0, issuance.issuanceId), 403, incident.code);
          const status = await ts.kioskStatus(0, issuance.issuanceId);
          assert.deepEqual(status.json, { issuanceId: issuance.issuanceId, status: 'refused', reason: incident.code });
          const closed = await sock.next('print-confirmation-closed', (m) => m.status === 'refused');
          assert.equal(closed.reason, incident.code);
          assert.deepEqual(
            await ts.query('SELECT a.id FROM issuance_attempts a LEFT JOIN issued_documents d ON d.attempt_id = a.id WHERE a.id = ? AND (a.document IS NOT NULL OR d.attempt_id IS NOT NULL)', [issuance.issuanceId]),
            [],
            'no document was kept or registered for the refused attempt',
          );
          assertError(await ts.kioskDocument(0, issuance.issuanceId), 403, incident.code, 'asking again');
          assertError(await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' }), 409, 'invalid_state', 'no printed result for a refused attempt');
          assert.equal((await ts.application(person, app.applicationId)).status, 'submitted', 'the receipt stays, to print once the data allows it');
          assertError(await ts.claimRaw(1, app.receiptNumber), 403, incident.code, 'another kiosk is refused too');
        } finally {
          await incident.restore();
        }
        // Data corrected: the same receipt prints, once.
        const again = await ts.claimAndApprove(1, app, person.device, sock);
        const doc = await ts.kioskDocument(1, again.issuanceId);
        assert.equal(doc.status, 200, doc.text.slice(0, 200));
        assert.equal(doc.bytes.subarray(0, 5).toString(), '%PDF-');
        assert.equal((await ts.kioskResult(1, again.issuanceId, { outcome: 'printed' })).status, 200);
        assertError(await ts.claimRaw(0, app.receiptNumber), 404, 'receipt_not_found', 'never twice');
      });
    }
  });

  describe('live updates (随時連携) through the admin API', () => {
    it('a late or repeated message never overwrites newer data: older version → stale, same version → unchanged', async () => {
      const stored = (await ts.server.context.store.read((tx) => tx.residents.get('R0007')))!;
      const send = (patch: object, version: number) => ts.updateRecords([{ kind: 'resident', record: { ...stored, ...patch, version } }]);
      const newer = await send({ address: 'テスト市港町3番1号' }, stored.version + 10);
      assert.deepEqual(newer.json, { results: [{ kind: 'resident', key: 'R0007', result: 'applied' }] });
      const late = await send({ address: 'テスト市港町2番1号' }, stored.version + 5);
      assert.deepEqual(late.json, { results: [{ kind: 'resident', key: 'R0007', result: 'stale' }] });
      const repeated = await send({ address: 'テスト市港町3番1号' }, stored.version + 10);
      assert.deepEqual(repeated.json, { results: [{ kind: 'resident', key: 'R0007', result: 'unchanged' }] });
      assert.equal((await ts.server.context.store.read((tx) => tx.residents.get('R0007')))!.address, 'テスト市港町3番1号');
      const [audit] = await ts.query<{ actor: string; details: string }>("SELECT actor, details FROM audit_log WHERE event = 'records.update' ORDER BY seq DESC LIMIT 1");
      assert.match(audit!.actor, /^records:records-/);
      assert.doesNotMatch(audit!.details, /港町/, 'ids only in the audit log, never personal data');
    });

    it('all or nothing: one bad change (unknown resident, unprintable name, seal of the wrong size) applies none of the batch', async () => {
      const r7 = (await ts.server.context.store.read((tx) => tx.residents.get('R0007')))!;
      const good = { kind: 'resident', record: { ...r7, nameKana: 'タカハシ マコト', version: r7.version + 100 } };
      const seal = (await ts.server.context.store.read((tx) => tx.records.seal('R0001')))!;
      const { image, ...sealRest } = seal;
      const bad = [
        { kind: 'tax', record: { residentId: 'R9999', fiscalYear: 2026, incomeYear: 2025, status: 'taxed', addressOnJan1: 'テスト市', nameOnJan1: '某', amounts: {}, counts: {} } },
        { kind: 'resident', record: { ...r7, id: 'R0011', name: '高\uE000 誠' } },
        { kind: 'seal', record: { ...sealRest, imagePngBase64: image.toString('base64'), widthMm: 20, heightMm: 20, version: seal.version + 1 } },
      ];
      const expected = [/tax record of unknown resident R9999/, /changes\[1\] \(resident R0011\) name: 「\uE000」 \(U\+E000\) cannot be printed/, /changes\[1\] \(seal R0001\) impression: the image is 15\.0 × 15\.0 mm/];
      for (const [i, b] of bad.entries()) {
        const res = await ts.updateRecords([good, b]);
        assertError(res, 400, 'invalid_request', JSON.stringify(b).slice(0, 80));
        assert.match(res.json.error.message, expected[i]!);
      }
      assert.equal((await ts.server.context.store.read((tx) => tx.residents.get('R0007')))!.version, r7.version, 'the good change was not applied either');
    });

    it('the credential: missing, wrong, revoked → 401 api_client_unauthorized (before the body is read); a body over the limit → 413', async () => {
      const body = { changes: [{ kind: 'koseki-registration', record: { residentId: 'R0009', kosekiId: 'K002', registeredOn: '2024-04-01', effectiveFrom: '2024-04-08' } }] };
      assertError(await ts.http('POST', '/api/v1/admin/records', { json: body }), 401, 'api_client_unauthorized');
      assertError(await ts.http('POST', '/api/v1/admin/records', { json: body, bearer: 'records-x.y' }), 401, 'api_client_unauthorized');
      assertError(await ts.http('POST', '/api/v1/admin/records', { json: body, bearer: ts.kiosk(0).credential }), 401, 'api_client_unauthorized', 'a kiosk credential');
      const client = await ts.server.context.admin.registerApiClient('短命なクライアント');
      assert.equal((await ts.http('POST', '/api/v1/admin/records', { json: body, bearer: client.credential })).status, 200);
      await ts.server.context.admin.revokeApiClient(client.id);
      assertError(await ts.http('POST', '/api/v1/admin/records', { json: body, bearer: client.credential }), 401, 'api_client_unauthorized', 'revoked');
      assertError(await ts.http('POST', '/api/v1/admin/records', { body: 'x'.repeat(9 * 1024 * 1024), bearer: client.credential }), 401, 'api_client_unauthorized', 'a large body without a valid credential is not read');
      const big = await ts.updateRecords([{ kind: 'resident', record: { pad: 'x'.repeat(9 * 1024 * 1024) } }]);
      assertError(big, 413, 'payload_too_large');
      assertError(await ts.updateRecords([]), 400, 'invalid_request', 'no changes');
      assertError(await ts.http('POST', '/api/v1/admin/records', { body: '{"changes": [', headers: { 'content-type': 'application/json' }, bearer: (await ts.server.context.admin.registerApiClient('json')).credential }), 400, 'invalid_request');
    });

    it('a live update racing issuances: every document handed out was made from data that allowed it at that moment', async () => {
      const taro = who['R0001']!;
      const sock = await ts.deviceSocket(taro.device);
      const seal = (await ts.server.context.store.read((tx) => tx.records.seal('R0001')))!;
      const { image, ...rest } = seal;
      let version = seal.version;
      const setStatus = (status: 'active' | 'abolished') => ts.updateRecords([{ kind: 'seal', record: { ...rest, imagePngBase64: image.toString('base64'), status, version: ++version } }]);
      const outcomes: number[] = [];
      try {
        for (let round = 0; round < 8; round++) {
          const app = (await applyRaw('R0001', 'inkan')).json;
          const issuance = await ts.claimAndApprove(0, app, taro.device, sock);
          // The abolition and the document request leave together; whichever commits first decides.
          const [update, doc] = await Promise.all([setStatus('abolished'), ts.kioskDocument(0, issuance.issuanceId)]);
          assert.equal(update.status, 200);
          outcomes.push(doc.status);
          const [updated] = await ts.query<{ seq: number }>("SELECT seq FROM audit_log WHERE event = 'records.update' ORDER BY seq DESC LIMIT 1");
          const [delivered] = await ts.query<{ seq: number }>("SELECT seq FROM audit_log WHERE event = 'issuance.status' AND subject = ? AND details LIKE '%\"to\":\"delivered\"%'", [issuance.issuanceId]);
          if (doc.status === 200) {
            assert.ok(delivered && delivered.seq < updated!.seq, `round ${round}: a document was handed out after the abolition committed`);
            assert.equal((await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' })).status, 200);
          } else {
            assertError(doc, 403, 'seal_registration_invalid', `round ${round}`);
            assert.ok(!delivered, `round ${round}: refused yet delivered`);
          }
          assert.equal((await setStatus('active')).status, 200);
        }
      } finally {
        await setStatus('active');
      }
      assert.equal(outcomes.length, 8);
    });
  });
});
