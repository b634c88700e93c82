import assert from 'node:assert/strict';
import { verifyResponseSchema, type PrintConfirmationRequest } from '@cert/common';
import { ContractError } from '@cert/common/node';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicantApi } from 'desktop-applicant';
import { ApplicantSocketClient } from 'desktop-applicant';
import { DeviceKey } from 'desktop-applicant';
import { KioskApi } from 'kiosk-shell';
import { DEMO_MUNICIPALITY } from '@cert/scripts/demo';
import { softwareToken } from '@cert/scripts/rig';
import { assertError, TestServer } from './harness.ts';

/** Text of a PDF through poppler's pdftotext. */
function pdfText(pdf: Buffer): string {
  const r = spawnSync('pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`pdftotext failed: ${r.stderr}`);
  return r.stdout;
}

const VERIFICATION_CODE = /\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b/g;

describe('integration: end-to-end flow with the real clients, verification and audit', () => {
  let ts: TestServer;
  let keyDir: string;
  let socket: ApplicantSocketClient | null = null;
  // Shared by the tests below, which build on each other in order.
  let pdf: Buffer;
  let code: string;
  let flowStartedAt: number;
  let applicationId: string;
  let issuanceId: string;

  before(async () => {
    ts = await TestServer.start();
    keyDir = mkdtempSync(join(tmpdir(), 'issuance-it-device-'));
  });
  after(async () => {
    socket?.stop();
    await ts?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('applicant app → kiosk → approval on the device → PDF → printed', async () => {
    flowStartedAt = Date.now();
    const endpoint = { baseUrl: ts.url };
    const device = DeviceKey.loadOrCreate(join(keyDir, 'device.key'));
    const api = new ApplicantApi(endpoint);
    const session = await api.login(softwareToken(ts.card('R0004')), device);
    assert.equal(session.resident.displayName, '佐藤 健');
    const catalog = await api.catalog();
    assert.ok(catalog.certificateTypes.some((t) => t.type === 'juminhyo'));

    socket = new ApplicantSocketClient(endpoint, device, { baseDelayMs: 50, maxDelayMs: 200 });
    const requests: PrintConfirmationRequest[] = [];
    socket.on('confirmation-request', (r) => {
      requests.push(r);
      socket!.respond(r.requestId, true);
    });
    socket.start();
    await socket.whenAuthenticated(5000);

    const app = await api.apply({ certificateType: 'juminhyo', options: { scope: 'household', domicile: 'include' }, copies: 1 });
    applicationId = app.applicationId;
    const kiosk = new KioskApi(endpoint, ts.kiosk(0).credential);
    const started = await kiosk.start(app.receiptNumber.replace(/(\d{4})(?=\d)/g, '$1-'));
    issuanceId = started.issuanceId;
    let status = started.status as string;
    for (let i = 0; i < 10 && status === 'confirmation_pending'; i++) status = await kiosk.status(issuanceId, 5000);
    assert.equal(status, 'approved');
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.receiptNumber, app.receiptNumber);

    pdf = await kiosk.document(issuanceId);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.equal(await kiosk.result(issuanceId, 'printed'), 'printed');
    const list = await api.list();
    assert.equal(list.find((a) => a.applicationId === app.applicationId)?.status, 'printed');

    // The client surfaces contract errors with their code.
    await assert.rejects(kiosk.start(app.receiptNumber), (e: unknown) => e instanceof ContractError && e.code === 'receipt_not_found' && e.status === 404);
  });

  it('the PDF carries a verification code, and GET /api/v1/verify/{code} confirms type, date, municipality and hash', async () => {
    assert.ok(pdf, 'the flow test ran');
    const text = pdfText(pdf);
    const codes = [...new Set(text.match(VERIFICATION_CODE) ?? [])];
    assert.equal(codes.length, 1, `exactly one verification code on the paper: ${JSON.stringify(codes)}\n${text.slice(0, 2000)}`);
    code = codes[0]!;
    assert.ok(text.includes('佐藤'), 'the resident is on the certificate');

    const res = await ts.http('GET', `/api/v1/verify/${code}`);
    assert.equal(res.status, 200, res.text);
    const v = verifyResponseSchema.parse(res.json);
    assert.deepEqual(Object.keys(res.json).sort(), ['certificateType', 'documentSha256', 'issuedAt', 'municipality', 'valid']);
    assert.equal(v.valid, true);
    assert.equal(v.certificateType, 'juminhyo');
    assert.deepEqual(v.municipality, DEMO_MUNICIPALITY);
    assert.equal(v.documentSha256, createHash('sha256').update(pdf).digest('hex'));
    const issuedAt = Date.parse(v.issuedAt);
    assert.ok(issuedAt >= flowStartedAt - 1000 && issuedAt <= Date.now(), `issuedAt ${v.issuedAt} within the flow`);
    // Nothing personal in the public answer.
    assert.ok(!res.text.includes('佐藤') && !res.text.includes('R0004'));
    // Lower case, as someone might type it, is accepted.
    assert.equal((await ts.http('GET', `/api/v1/verify/${code.toLowerCase()}`)).status, 200);
  });

  it('GET /verify/{code} is an HTML page for a valid code and a 404 page for an unknown one', async () => {
    const ok = await ts.http('GET', `/verify/${code}`);
    assert.equal(ok.status, 200);
    assert.match(ok.contentType, /^text\/html/);
    assert.ok(ok.text.includes(code));
    assert.ok(ok.text.includes(createHash('sha256').update(pdf).digest('hex')));
    assert.ok(ok.text.includes(DEMO_MUNICIPALITY.name));
    assert.ok(!ok.text.includes('佐藤'), 'no personal data on the public page');

    const unknown = code.replace(/^./, (c) => (c === '2' ? '3' : '2'));
    const bad = await ts.http('GET', `/verify/${unknown}`);
    assert.equal(bad.status, 404);
    assert.match(bad.contentType, /^text\/html/);
    assertError(await ts.http('GET', `/api/v1/verify/${unknown}`), 404, 'not_found');
  });

  it('a document whose print failed does not verify', async () => {
    const taro = await ts.login('R0001');
    const sock = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const issuance = await ts.claimAndApprove(1, app, taro.device, sock);
    const doc = await ts.kioskDocument(1, issuance.issuanceId);
    const failedCode = [...new Set(pdfText(doc.bytes).match(VERIFICATION_CODE) ?? [])][0];
    assert.ok(failedCode);
    assert.equal((await ts.http('GET', `/api/v1/verify/${failedCode}`)).status, 200, 'valid while delivered');
    assert.equal((await ts.kioskResult(1, issuance.issuanceId, { outcome: 'failed', detail: 'paper jam' })).status, 200);
    assertError(await ts.http('GET', `/api/v1/verify/${failedCode}`), 404, 'not_found');
  });

  it('the audit log is intact and records the login, the application and every transition', async () => {
    const { context } = ts.server;
    const check = await context.admin.verifyAudit();
    assert.equal(check.firstBad, null, JSON.stringify(check.firstBad));
    assert.ok(check.rows > 0);
    const rows = await ts.query<{
      seq: number;
      actor: string;
      event: string;
      subject: string | null;
      details: string;
    }>('SELECT seq, actor, event, subject, details FROM audit_log ORDER BY seq');
    assert.equal(rows.length, check.rows);
    const events = new Set(rows.map((r) => r.event));
    for (const e of ['login', 'application.created', 'application.status', 'issuance.started', 'issuance.status']) assert.ok(events.has(e), `has ${e}`);
    assert.ok(rows.some((r) => r.event === 'login' && r.subject === 'R0004'));
    assert.ok(rows.some((r) => r.event === 'application.created' && r.subject === applicationId));
    const attemptMoves = rows
      .filter((r) => r.event === 'issuance.status' && r.subject === issuanceId)
      .map((r) => JSON.parse(r.details) as { from: string; to: string })
      .map((d) => `${d.from}>${d.to}`);
    assert.deepEqual(attemptMoves, ['confirmation_pending>approved', 'approved>delivered', 'delivered>printed']);
    const appMoves = rows
      .filter((r) => r.event === 'application.status' && r.subject === applicationId)
      .map((r) => JSON.parse(r.details) as { from: string; to: string })
      .map((d) => `${d.from}>${d.to}`);
    assert.deepEqual(appMoves, ['submitted>in_issuance', 'in_issuance>printed']);
    // Ids only: no names or addresses in the log.
    assert.ok(!rows.some((r) => JSON.stringify(r).includes('佐藤')), 'no personal data in the audit log');

    // Append-only: the database itself refuses to rewrite or drop rows.
    await assert.rejects(ts.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = ?", [rows[1]!.seq]), /append-only/);
    await assert.rejects(ts.execute('DELETE FROM audit_log WHERE seq = ?', [rows.at(-1)!.seq]), /append-only/);
    assert.equal((await context.admin.verifyAudit()).firstBad, null);
  });
});
