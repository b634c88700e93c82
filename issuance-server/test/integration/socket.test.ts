import assert from 'node:assert/strict';
import {
  applicationStatusMessageSchema,
  deviceSignedText,
  helloMessageSchema,
  printConfirmationRequestSchema,
  SOCKET_CLOSE_UNAUTHORIZED,
} from '@cert/common';
import { WebSocket } from 'ws';
import { DEMO_KIOSKS } from '@cert/scripts/demo';
import { assertError, TestDevice, TestServer, type Applicant, type SocketMessage, type TestSocket } from './harness.ts';

/** The fields PROTOCOL.md lists for a print confirmation request, no more, no fewer. */
const REQUEST_FIELDS = ['applicationId', 'certificateType', 'copies', 'expiresAt', 'fee', 'kiosk', 'receiptNumber', 'requestId', 'type'];

describe('integration: applicant socket', () => {
  let ts: TestServer;
  let taro: Applicant;
  before(async () => {
    ts = await TestServer.start();
    taro = await ts.login('R0001');
  });
  afterEach(() => ts.closeSockets());
  after(async () => {
    await ts?.close();
  });

  it('greets with {type: hello, nonce}, a fresh nonce per connection', async () => {
    const a = await ts.socket();
    const b = await ts.socket();
    const ha = await a.next('hello');
    const hb = await b.next('hello');
    helloMessageSchema.parse(ha);
    assert.deepEqual(Object.keys(ha).sort(), ['nonce', 'type']);
    assert.ok(Buffer.from(ha.nonce, 'base64').length >= 16, 'nonce carries at least 128 bits');
    assert.notEqual(ha.nonce, hb.nonce);
    assert.equal(a.messages[0]?.type, 'hello', 'hello is the first message');
  });

  it('a known device key with a good signature is authenticated', async () => {
    const s = await ts.socket();
    const hello = await s.next('hello');
    s.send(taro.device.authenticateMessage(hello.nonce));
    const msg = await s.next('authenticated');
    assert.deepEqual(msg, { type: 'authenticated' });
  });

  async function expectRefused(s: TestSocket, code: string): Promise<void> {
    const err = await s.next('error');
    assert.equal(err.code, code, JSON.stringify(err));
    const closed = await s.waitClosed();
    assert.equal(closed.code, SOCKET_CLOSE_UNAUTHORIZED);
    assert.equal(s.messages.filter((m) => m.type === 'authenticated').length, 0);
  }

  it('a bad signature gets an error and close 4401', async () => {
    const s = await ts.socket();
    const hello = await s.next('hello');
    const other = new TestDevice();
    // Signed by another key than the one presented.
    s.send({ type: 'authenticate', devicePublicKey: taro.device.publicKeyBase64, signature: other.sign(deviceSignedText(hello.nonce)) });
    await expectRefused(s, 'authentication_failed');
  });

  it('a signature over another nonce or without the purpose line is refused with 4401', async () => {
    const s1 = await ts.socket();
    await s1.next('hello');
    s1.send(taro.device.authenticateMessage(Buffer.alloc(32, 1).toString('base64')));
    await expectRefused(s1, 'authentication_failed');

    const s2 = await ts.socket();
    const hello = await s2.next('hello');
    s2.send({ type: 'authenticate', devicePublicKey: taro.device.publicKeyBase64, signature: taro.device.sign(new TextEncoder().encode(hello.nonce)) });
    await expectRefused(s2, 'authentication_failed');
  });

  it('a device key no login registered gets error device_unknown and close 4401', async () => {
    const s = await ts.socket();
    const hello = await s.next('hello');
    s.send(new TestDevice().authenticateMessage(hello.nonce));
    await expectRefused(s, 'device_unknown');
    assert.equal((await s.closed).reason, 'device_unknown');
  });

  it('anything but authenticate before authentication is refused with 4401', async () => {
    for (const first of ['not json', JSON.stringify({ type: 'print-confirmation-response', requestId: 'x', approved: true, signature: 'AAAA' }), JSON.stringify({ type: 'authenticate' })]) {
      const s = await ts.socket();
      await s.next('hello');
      s.send(first);
      const closed = await s.waitClosed();
      assert.equal(closed.code, SOCKET_CLOSE_UNAUTHORIZED, first);
      assert.ok(s.messages.some((m) => m.type === 'error'), `an error message before the close (${first})`);
    }
  });

  it('a socket on any other path is refused at the handshake', async () => {
    const url = new URL('/api/v1/other/socket', ts.url);
    url.protocol = 'ws:';
    const ws = new WebSocket(url);
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => undefined);
    });
    ws.terminate();
    assert.equal(status, 404);
  });

  it('after authentication a malformed message gets error invalid_message and the socket stays open', async () => {
    const s = await ts.deviceSocket(taro.device);
    s.send('{"type":"print-confirmation-response"}');
    const err = await s.next('error');
    assert.equal(err.code, 'invalid_message');
    await s.sync(taro.device);
    assert.equal(s.isClosed, false);
  });

  it('print-confirmation-request carries exactly the PROTOCOL.md fields, kiosk {id, name, location} included', async () => {
    const s = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro, { certificateType: 'juminhyo', options: {}, copies: 2 });
    const issuance = await ts.claim(1, app.receiptNumber);
    const req = await s.next('print-confirmation-request');
    printConfirmationRequestSchema.parse(req);
    assert.deepEqual(Object.keys(req).sort(), REQUEST_FIELDS);
    assert.deepEqual(Object.keys(req.kiosk).sort(), ['id', 'location', 'name']);
    assert.equal(req.applicationId, app.applicationId);
    assert.equal(req.receiptNumber, app.receiptNumber);
    assert.equal(req.certificateType, 'juminhyo');
    assert.equal(req.copies, 2);
    assert.equal(req.fee, 400);
    assert.deepEqual(req.kiosk, { id: ts.kiosk(1).id, name: DEMO_KIOSKS[1].name, location: DEMO_KIOSKS[1].location });
    assert.equal(typeof req.requestId, 'string');
    assert.notEqual(req.requestId, issuance.issuanceId, 'the request id is not the kiosk’s issuance id');
    assert.equal(req.expiresAt, issuance.expiresAt);
    assert.equal((await ts.kioskAbandon(1, issuance.issuanceId)).status, 200);
  });

  it('decline: the kiosk sees declined and the application is back to submitted', async () => {
    const s = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const req = await s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    s.send(taro.device.response(req.requestId, false));
    const st = await ts.kioskStatus(0, issuance.issuanceId, 5000);
    assert.deepEqual(st.json, { issuanceId: issuance.issuanceId, status: 'declined' });
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
    assertError(await ts.kioskDocument(0, issuance.issuanceId), 409, 'invalid_state');
    // Answering again changes nothing.
    s.send(taro.device.response(req.requestId, true));
    const err = await s.next('error', (m) => m.requestId === req.requestId);
    assert.equal(err.code, 'invalid_state');
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'declined');
  });

  it('application-status is pushed on every change of the application', async () => {
    const s = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const statusesSoFar = () => s.messages.filter((m) => m.type === 'application-status' && m.applicationId === app.applicationId).map((m) => m.status as string);
    const waitStatus = async (status: string) => {
      const m = await s.next('application-status', (x) => x.applicationId === app.applicationId && x.status === status);
      applicationStatusMessageSchema.parse(m);
      assert.deepEqual(Object.keys(m).sort(), ['applicationId', 'status', 'type']);
    };
    await waitStatus('submitted');
    // Attempt 1: declined.
    const first = await ts.claim(0, app.receiptNumber);
    await waitStatus('in_issuance');
    const r1 = await s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    s.send(taro.device.response(r1.requestId, false));
    await waitStatus('submitted');
    assert.equal((await ts.kioskStatus(0, first.issuanceId)).json.status, 'declined');
    // Attempt 2: printed.
    const second = await ts.claim(1, app.receiptNumber);
    await waitStatus('in_issuance');
    const r2 = await s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    s.send(taro.device.response(r2.requestId, true));
    assert.equal((await ts.kioskStatus(1, second.issuanceId, 5000)).json.status, 'approved');
    assert.equal((await ts.kioskDocument(1, second.issuanceId)).status, 200);
    assert.equal((await ts.kioskResult(1, second.issuanceId, { outcome: 'printed' })).status, 200);
    await waitStatus('printed');
    await s.sync(taro.device);
    assert.deepEqual(statusesSoFar(), ['submitted', 'in_issuance', 'submitted', 'in_issuance', 'printed']);

    // Cancelling another application pushes cancelled.
    const other = await ts.apply(taro);
    await s.next('application-status', (m) => m.applicationId === other.applicationId && m.status === 'submitted');
    assert.equal((await ts.http('DELETE', `/api/v1/applications/${other.applicationId}`, { bearer: taro.token })).status, 200);
    await s.next('application-status', (m) => m.applicationId === other.applicationId && m.status === 'cancelled');
  });

  it('pushes go only to the device the application is bound to', async () => {
    const mine = await ts.deviceSocket(taro.device);
    const hanako = await ts.login('R0002');
    const hers = await ts.deviceSocket(hanako.device);
    const app = await ts.apply(hanako);
    const issuance = await ts.claim(0, app.receiptNumber);
    await hers.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    await mine.assertNone(taro.device, 'print-confirmation-request', (m) => m.applicationId === app.applicationId);
    assert.ok(!mine.messages.some((m) => m.applicationId === app.applicationId), 'nothing about her application reaches his device');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('a request still pending is sent again right after the device re-authenticates', async () => {
    const s1 = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    s1.terminate();
    await s1.waitClosed();
    // The kiosk claims while the device is offline.
    const issuance = await ts.claim(0, app.receiptNumber);
    const s2 = await ts.socket();
    const hello = await s2.next('hello');
    s2.send(taro.device.authenticateMessage(hello.nonce));
    await s2.next('authenticated');
    const req = await s2.next('print-confirmation-request', (m) => m.applicationId === app.applicationId, 1000);
    const types = s2.messages.map((m: SocketMessage) => m.type);
    assert.equal(types[types.indexOf('authenticated') + 1], 'print-confirmation-request', `request right after authenticated: ${JSON.stringify(types)}`);

    // Disconnect without answering; the same request comes again on the next connection.
    s2.terminate();
    await s2.waitClosed();
    const s3 = await ts.deviceSocket(taro.device);
    const again = await s3.next('print-confirmation-request', (m) => m.applicationId === app.applicationId, 1000);
    assert.deepEqual(again, req);
    s3.send(taro.device.response(again.requestId, true));
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId, 5000)).json.status, 'approved');
    // Once answered, it is no longer re-sent.
    s3.terminate();
    const s4 = await ts.deviceSocket(taro.device);
    await s4.assertNone(taro.device, 'print-confirmation-request', (m) => m.applicationId === app.applicationId);
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('an approval from a second device of the same resident is refused (not_found); the issuance stays pending', async () => {
    const own = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const taro2 = await ts.login('R0001'); // same resident, another device key
    const second = await ts.deviceSocket(taro2.device);
    const issuance = await ts.claim(0, app.receiptNumber);
    const req = await own.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    await second.assertNone(taro2.device, 'print-confirmation-request', (m) => m.applicationId === app.applicationId);

    second.send(taro2.device.response(req.requestId, true));
    const err = await second.next('error', (m) => m.requestId === req.requestId);
    assert.ok(['not_found', 'signature_invalid'].includes(err.code), err.code);
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'confirmation_pending');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'in_issuance');
    assertError(await ts.kioskDocument(0, issuance.issuanceId), 409, 'invalid_state');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });

  it('on the right socket, a signature by another key or for the other answer is signature_invalid; the issuance stays pending', async () => {
    const s = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const req = await s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);

    s.send({ ...new TestDevice().response(req.requestId, true) });
    assert.equal((await s.next('error', (m) => m.requestId === req.requestId)).code, 'signature_invalid');
    // A signature over "decline" does not approve.
    const declineSig = taro.device.response(req.requestId, false).signature;
    s.send({ type: 'print-confirmation-response', requestId: req.requestId, approved: true, signature: declineSig });
    assert.equal((await s.next('error', (m) => m.requestId === req.requestId)).code, 'signature_invalid');
    // A signature for another request does not approve this one.
    s.send({ type: 'print-confirmation-response', requestId: req.requestId, approved: true, signature: taro.device.response('another-request', true).signature });
    assert.equal((await s.next('error', (m) => m.requestId === req.requestId)).code, 'signature_invalid');
    // An unknown request id.
    s.send(taro.device.response('00000000-0000-0000-0000-000000000000', true));
    assert.equal((await s.next('error', (m) => m.requestId === '00000000-0000-0000-0000-000000000000')).code, 'not_found');

    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'confirmation_pending');
    // The genuine approval still works afterwards.
    s.send(taro.device.response(req.requestId, true));
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId, 5000)).json.status, 'approved');
    assert.equal((await ts.kioskAbandon(0, issuance.issuanceId)).status, 200);
  });
});

describe('integration: applicant socket and issuance timeouts', () => {
  let ts: TestServer;
  let taro: Applicant;
  before(async () => {
    ts = await TestServer.start({
      confirmationTimeoutMs: 500,
      printTimeoutMs: 400,
      sweepIntervalMs: 50,
      heartbeatMs: 100,
      socketAuthTimeoutMs: 300,
    });
    taro = await ts.login('R0001');
  });
  afterEach(() => ts.closeSockets());
  after(async () => {
    await ts?.close();
  });

  it('no authenticate within socketAuthTimeoutMs: error authentication_timeout and close 4401', async () => {
    const t0 = Date.now();
    const s = await ts.socket();
    await s.next('hello');
    const closed = await s.waitClosed(3000);
    const elapsed = Date.now() - t0;
    assert.equal(closed.code, SOCKET_CLOSE_UNAUTHORIZED);
    assert.equal(s.messages.find((m) => m.type === 'error')?.code, 'authentication_timeout');
    assert.ok(elapsed >= 250 && elapsed < 2000, `closed after about socketAuthTimeoutMs (${elapsed} ms)`);
  });

  it('an authenticated socket that answers pings stays open past the timeouts', async () => {
    const s = await ts.deviceSocket(taro.device);
    // Each ping is answered automatically; the server drops a peer after two unanswered ones.
    let pings = 0;
    await new Promise<void>((resolve) => s.ws.on('ping', () => ++pings === 4 && resolve()));
    await s.sync(taro.device);
    assert.equal(s.isClosed, false);
  });

  it('a peer that never answers pings is dropped', async () => {
    const s = await ts.socket({ autoPong: false });
    const hello = await s.next('hello');
    s.send(taro.device.authenticateMessage(hello.nonce));
    await s.next('authenticated');
    const t0 = Date.now();
    const closed = await s.waitClosed(3000);
    const elapsed = Date.now() - t0;
    assert.notEqual(closed.code, 1000, 'terminated, not closed politely');
    assert.ok(elapsed < 1500, `dropped after missing two pings (${elapsed} ms)`);
  });

  it('confirmation timeout: the kiosk sees expired, the application is submitted again and a late approval is refused', async () => {
    const s = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    assert.ok(Date.parse(issuance.expiresAt) - Date.now() <= 500);
    const req = await s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    const t0 = Date.now();
    const st = await ts.kioskStatus(0, issuance.issuanceId, 5000);
    assert.deepEqual(st.json, { issuanceId: issuance.issuanceId, status: 'expired' });
    assert.ok(Date.now() - t0 < 1500, 'the long-poll saw the expiry promptly');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
    await s.next('application-status', (m) => m.applicationId === app.applicationId && m.status === 'submitted');

    s.send(taro.device.response(req.requestId, true));
    const err = await s.next('error', (m) => m.requestId === req.requestId);
    assert.ok(['invalid_state', 'not_found'].includes(err.code), err.code);
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId)).json.status, 'expired');
    assertError(await ts.kioskDocument(0, issuance.issuanceId), 409, 'invalid_state');
    // The expired request is not re-sent on reconnect.
    const s2 = await ts.deviceSocket(taro.device);
    await s2.assertNone(taro.device, 'print-confirmation-request', (m) => m.applicationId === app.applicationId);
    // And the receipt can be printed later.
    const again = await ts.claim(1, app.receiptNumber);
    assert.equal(again.status, 'confirmation_pending');
  });

  it('print timeout: approved but never fetched expires and hands out no document', async () => {
    const s = await ts.deviceSocket(taro.device);
    const app = await ts.apply(taro);
    const issuance = await ts.claim(0, app.receiptNumber);
    const req = await s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    s.send(taro.device.response(req.requestId, true));
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId, 2000)).json.status, 'approved');
    assert.equal((await ts.kioskStatus(0, issuance.issuanceId, 3000)).json.status, 'expired');
    assertError(await ts.kioskDocument(0, issuance.issuanceId), 409, 'invalid_state');
    assert.equal((await ts.application(taro, app.applicationId)).status, 'submitted');
  });
});
