import assert from 'node:assert/strict';
import { applicationListSchema, applicationSchema, cancelApplicationResponseSchema, dammValid } from '@cert/common';
import { randomUUID } from 'node:crypto';
import { assertError, TestServer, type Applicant } from './harness.ts';

describe('integration: applications', () => {
  let ts: TestServer;
  let taro: Applicant; // R0001
  let hanako: Applicant; // R0002
  before(async () => {
    ts = await TestServer.start();
    taro = await ts.login('R0001');
    hanako = await ts.login('R0002');
  });
  afterEach(() => ts.closeSockets());
  after(async () => {
    await ts?.close();
  });

  const apply = (who: Applicant, body: unknown) => ts.http('POST', '/api/v1/applications', { json: body, bearer: who.token });

  it('POST /applications answers 201 with a fresh Damm-valid receipt, status submitted, fee and 72 h validity', async () => {
    const before = Date.now();
    const res = await apply(taro, { certificateType: 'juminhyo', options: { scope: 'household' }, copies: 3 });
    assert.equal(res.status, 201, res.text);
    const app = applicationSchema.parse(res.json);
    for (const k of ['applicationId', 'receiptNumber', 'status', 'expiresAt', 'fee']) assert.ok(k in res.json, `has ${k}`);
    assert.match(app.receiptNumber, /^\d{12}$/);
    assert.ok(dammValid(app.receiptNumber), 'check digit is valid');
    assert.equal(app.status, 'submitted');
    assert.equal(app.fee, 600);
    assert.equal(app.copies, 3);
    assert.equal(app.certificateType, 'juminhyo');
    assert.deepEqual(app.options, { scope: 'household', domicile: 'omit', relationship: 'include', nationality: 'include', residenceStatus: 'omit', residenceCard: 'omit' });
    const validity = Date.parse(app.expiresAt) - before;
    assert.ok(Math.abs(validity - 72 * 3600_000) < 60_000, `valid for 72 h (${validity} ms)`);
    // Receipts are random, not sequential.
    const other = applicationSchema.parse((await apply(taro, { certificateType: 'juminhyo', options: {}, copies: 1 })).json);
    assert.notEqual(other.receiptNumber, app.receiptNumber);
    assert.notEqual(Math.abs(Number(other.receiptNumber.slice(0, 11)) - Number(app.receiptNumber.slice(0, 11))), 1);
    assert.equal(other.fee, 200);
  });

  it('copies up to maxCopies are accepted and the fee is 200 per copy', async () => {
    for (const copies of [1, 10]) {
      const app = await ts.apply(taro, { certificateType: 'juminhyo', options: {}, copies });
      assert.equal(app.fee, 200 * copies);
    }
  });

  it('an unknown type, option, option value or a copies count out of range is 400 invalid_request', async () => {
    const bad: unknown[] = [
      { certificateType: 'passport', options: {}, copies: 1 },
      { certificateType: 'inkan', options: { scope: 'self' }, copies: 1 }, // an option this type does not have
      { certificateType: 'juminhyo', options: { color: 'red' }, copies: 1 },
      { certificateType: 'juminhyo', options: { scope: 'everyone' }, copies: 1 },
      { certificateType: 'juminhyo', options: { scope: 1 }, copies: 1 },
      { certificateType: 'juminhyo', options: {}, copies: 0 },
      { certificateType: 'juminhyo', options: {}, copies: 11 },
      { certificateType: 'juminhyo', options: {}, copies: -1 },
      { certificateType: 'juminhyo', options: {}, copies: 1.5 },
      { certificateType: 'juminhyo', options: {}, copies: '1' },
      { certificateType: 'juminhyo', options: {} },
      { options: {}, copies: 1 },
      { certificateType: 'juminhyo', options: {}, copies: 1, urgent: true },
    ];
    for (const body of bad) assertError(await apply(taro, body), 400, 'invalid_request', JSON.stringify(body));
  });

  it('without a valid session every applicant endpoint is 401 session_invalid', async () => {
    const app = await ts.apply(taro);
    const calls: [string, string, unknown?][] = [
      ['POST', '/api/v1/applications', { certificateType: 'juminhyo', options: {}, copies: 1 }],
      ['GET', '/api/v1/applications'],
      ['GET', `/api/v1/applications/${app.applicationId}`],
      ['DELETE', `/api/v1/applications/${app.applicationId}`],
    ];
    const auths: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: 'Bearer not-a-session' },
      { authorization: `Bearer ${taro.token}x` },
      { authorization: `Basic ${Buffer.from(`u:${taro.token}`).toString('base64')}` },
      { authorization: taro.token },
      { authorization: `Bearer ${ts.kiosk(0).credential}` },
    ];
    for (const [method, path, json] of calls) {
      for (const headers of auths) {
        const res = await ts.http(method, path, { ...(json ? { json } : {}), ...(headers ? { headers } : {}) });
        assertError(res, 401, 'session_invalid', `${method} ${path} ${JSON.stringify(headers)}`);
      }
    }
    // None of that cancelled anything.
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
  });

  it('GET /applications lists only the resident’s own applications', async () => {
    const mine = await ts.apply(taro, { certificateType: 'juminhyo', options: {}, copies: 2 });
    const hers = await ts.apply(hanako);
    const listOf = async (who: Applicant) => {
      const res = await ts.http('GET', '/api/v1/applications', { bearer: who.token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.json), ['applications']);
      return applicationListSchema.parse(res.json).applications;
    };
    const taroList = await listOf(taro);
    const hanakoList = await listOf(hanako);
    assert.ok(taroList.some((a) => a.applicationId === mine.applicationId));
    assert.ok(!taroList.some((a) => a.applicationId === hers.applicationId), 'no other resident’s application');
    assert.deepEqual(hanakoList.map((a) => a.applicationId), [hers.applicationId]);
    const entry = taroList.find((a) => a.applicationId === mine.applicationId)!;
    assert.deepEqual(
      { certificateType: entry.certificateType, copies: entry.copies, fee: entry.fee, status: entry.status, receiptNumber: entry.receiptNumber },
      { certificateType: 'juminhyo', copies: 2, fee: 400, status: 'submitted', receiptNumber: mine.receiptNumber },
    );
    assert.ok(Math.abs(Date.parse(entry.createdAt) - Date.now()) < 60_000);
    // A second session of the same resident (another device) sees the same applications.
    const taro2 = await ts.login('R0001');
    assert.ok((await listOf(taro2)).some((a) => a.applicationId === mine.applicationId));
  });

  it('GET /applications/{id} answers the resident’s own and 404 not_found for another’s or an unknown id', async () => {
    const mine = await ts.apply(taro);
    const got = await ts.application(taro, mine.applicationId);
    assert.deepEqual(got, mine);
    assertError(await ts.http('GET', `/api/v1/applications/${mine.applicationId}`, { bearer: hanako.token }), 404, 'not_found');
    assertError(await ts.http('GET', `/api/v1/applications/${randomUUID()}`, { bearer: taro.token }), 404, 'not_found');
  });

  it('DELETE /applications/{id} cancels; another resident gets 404 and cannot cancel it', async () => {
    const app = await ts.apply(taro);
    assertError(await ts.http('DELETE', `/api/v1/applications/${app.applicationId}`, { bearer: hanako.token }), 404, 'not_found');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
    const res = await ts.http('DELETE', `/api/v1/applications/${app.applicationId}`, { bearer: taro.token });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(cancelApplicationResponseSchema.parse(res.json), { status: 'cancelled' });
    assert.deepEqual(res.json, { status: 'cancelled' });
    assert.equal((await ts.application(taro, app.applicationId)).status, 'cancelled');
    assertError(await ts.claimRaw(0, app.receiptNumber), 404, 'receipt_not_found');
  });

  it('DELETE while a kiosk waits for confirmation cancels and the kiosk sees declined', async () => {
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const res = await ts.http('DELETE', `/api/v1/applications/${app.applicationId}`, { bearer: taro.token });
    assert.equal(res.status, 200, res.text);
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'declined');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'cancelled');
  });

  it('DELETE once approved or printed is 409 invalid_state', async () => {
    const sock = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const issuance = await ts.claimAndApprove(0, app, taro.device, sock);
    assertError(await ts.http('DELETE', `/api/v1/applications/${app.applicationId}`, { bearer: taro.token }), 409, 'invalid_state', 'approved');
    const doc = await ts.kioskDocument(0, issuance.issuanceId);
    assert.equal(doc.status, 200);
    assert.equal((await ts.kioskResult(0, issuance.issuanceId, { outcome: 'printed' })).status, 200);
    assert.equal((await ts.application(taro, app.applicationId)).status, 'printed');
    assertError(await ts.http('DELETE', `/api/v1/applications/${app.applicationId}`, { bearer: taro.token }), 409, 'invalid_state', 'printed');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'printed');
  });

  it('a resident under a support measure (R0006) can log in but applying is 403 support_measure', async () => {
    assert.ok(ts.pki.residents['R0006'], 'the test PKI has a card for R0006');
    const misaki = await ts.login('R0006');
    assert.equal(misaki.login.resident.displayName, '鈴木 美咲');
    assertError(await apply(misaki, { certificateType: 'juminhyo', options: {}, copies: 1 }), 403, 'support_measure');
    const list = await ts.http('GET', '/api/v1/applications', { bearer: misaki.token });
    assert.deepEqual(list.json, { applications: [] });
  });
});
