// Every certificate type of the demo municipality end to end through the real middleware: the
// virtual card in pcscd/vpcd, the applicant core, the server, the kiosk core and ippeveprinter.
// What the printer received is read back with pdftotext; a refusal decided at the kiosk prints
// nothing.
import type { CertificateType } from '@cert/common';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_SEALS_DIR } from '@cert/scripts/demo';
import { startDeviceRig, type DeviceRig } from '../../../src/rig/device-rig.ts';
import { DEFAULT_AUTH_PIN } from '../../../src/virtual-card/persona.ts';
import { Cleanups, newKiosk, pdfText, startApplicant, waitForReady, type TestApplicant } from './helpers.ts';

/** What each type is asked with, and what its printed text must (and must not) show. */
const ORDERS: { type: CertificateType; options: Record<string, string>; shows: RegExp[]; omits: RegExp[] }[] = [
  { type: 'juminhyo', options: { scope: 'household', domicile: 'include' }, shows: [/住民票の写し/, /山田\s*花子/, /山田\s*一郎/, /テスト市本町一丁目2番地/, /世帯全員/], omits: [] },
  { type: 'juminhyo_kisai', options: { scope: 'self', addressSince: 'include' }, shows: [/住民票記載事項証明書/, /山田\s*太郎/, /平成28年4月1日/], omits: [/山田\s*花子/, /テスト市本町一丁目2番地/] },
  { type: 'inkan', options: {}, shows: [/印鑑登録証明書/, /山田\s*太郎/, /昭和60年4月12日/], omits: [/T-000101/] },
  { type: 'kazei', options: { fiscalYear: '2026' }, shows: [/課税証明書/, /令和8年度/, /令和7年分/, /5,400,000/, /222,000/], omits: [] },
  { type: 'koseki_zenbu', options: {}, shows: [/全部事項証明/, /テスト市本町一丁目2番地/, /花子/, /一郎/, /平成24年5月20日/], omits: [] },
  { type: 'koseki_kojin', options: { persons: '3' }, shows: [/個人事項証明/, /一郎/, /平成27年1月5日/], omits: [/【名】花子/] },
  { type: 'koseki_fuhyo', options: { honseki: 'include' }, shows: [/戸籍の附票の写し/, /東京都世田谷区桜一丁目2番3号/, /テスト市本町一丁目2番3号/], omits: [] },
];

describe('e2e: all seven certificate types through the card, the server, the kiosk and the printer', function () {
  this.timeout(120_000);
  const cleanups = new Cleanups();
  let rig: DeviceRig;
  let applicant: TestApplicant;

  before(async () => {
    rig = await startDeviceRig();
    applicant = await startApplicant(rig, cleanups);
    cleanups.add(await rig.insertCard({ residentId: 'R0001' }), (c) => c.remove());
    await waitForReady(applicant.core);
    await applicant.core.login(DEFAULT_AUTH_PIN);
    await applicant.core.whenConnected();
  });
  after(async () => {
    await cleanups.run();
    await rig?.close();
  });

  for (const order of ORDERS) {
    it(`${order.type}: applied for with the card, approved on the device, printed, and the printed text is right`, async () => {
      const app = await applicant.core.apply({ certificateType: order.type, options: order.options, copies: 1 });
      const { session: kiosk } = newKiosk(rig, cleanups, 0);
      const outcome = await kiosk.issue(app.receiptNumber);
      assert.equal(outcome.status, 'printed', outcome.error);
      const doc = rig.printer.documents().find((d) => d.jobId === outcome.jobId);
      assert.ok(doc, `job ${outcome.jobId} is in the spool`);
      const text = pdfText(doc.path);
      for (const re of order.shows) assert.match(text, re, `${order.type} shows ${re}`);
      for (const re of order.omits) assert.doesNotMatch(text, re, `${order.type} omits ${re}`);
      assert.match(text, /以下余白/);
      assert.match(text, /テスト県テスト市長/);
    });
  }

  it('a seal registration abolished between the application and the kiosk (the records system tells the server): refused with its reason, nothing printed', async () => {
    const app = await applicant.core.apply({ certificateType: 'inkan', options: {}, copies: 1 });
    const seal = (status: 'abolished' | 'active') => ({
      kind: 'seal',
      record: {
        residentId: 'R0001',
        registrationNumber: 'T-000101',
        registeredOn: '2016-04-08',
        status,
        imagePngBase64: readFileSync(join(DEMO_SEALS_DIR, 'seal-R0001.png')).toString('base64'),
        widthMm: 15,
        heightMm: 15,
        version: Date.now(),
      },
    });
    const send = async (status: 'abolished' | 'active') => {
      const res = await fetch(new URL('/api/v1/admin/records', rig.serverUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${rig.recordsCredential}` },
        body: JSON.stringify({ changes: [seal(status)] }),
      });
      assert.equal(res.status, 200, await res.text());
    };
    await send('abolished');
    try {
      const before = rig.printer.documents().length;
      const { session: kiosk } = newKiosk(rig, cleanups, 0);
      const outcome = await kiosk.issue(app.receiptNumber);
      assert.equal(outcome.status, 'refused');
      assert.equal(outcome.reason, 'seal_registration_invalid');
      assert.equal(rig.printer.documents().length, before, 'nothing reached the printer');
    } finally {
      await send('active');
    }
  });
});
