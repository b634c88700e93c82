// Paired phones against the real server: pairing from a card session, passkey registration and
// approvals (a software authenticator with real keys and CBOR), the phone on the applicant
// socket, the binding rule, and every refusal the issue lists.
import { pairedPhonesResponseSchema, pairingStateSchema, passkeyApprovalChallenge, phoneKeyCode, phonePairingSignedText, registrationOptionsResponseSchema, type Application } from '@cert/common';
import assert from 'node:assert/strict';
import { TestServer, assertError, type Applicant, type TestSocket } from './harness.ts';
import { pairPhone, startPairing, TestPhone } from './phone-helpers.ts';
import { SoftPasskey } from './soft-authenticator.ts';

const encoder = new TextEncoder();

describe('paired phones: pairing, approval with a passkey, and every refusal', function () {
  this.timeout(60_000);
  let server: TestServer;
  let taro: Applicant;
  let phone: TestPhone;
  let pc: TestSocket;
  let phoneSocket: TestSocket;

  /** A kiosk claims the application; returns the request as `sock` received it. */
  async function claimAndWait(app: Application, ...socks: TestSocket[]) {
    const issuance = await server.claim(0, app.receiptNumber);
    const requests = await Promise.all(socks.map((s) => s.next('print-confirmation-request', (m) => m.applicationId === app.applicationId)));
    return { issuance, requestId: requests[0]!.requestId as string };
  }

  before(async () => {
    server = await TestServer.start({ pairingRateLimit: { burst: 100, perMinute: 100 }, phoneRegistrationRateLimit: { burst: 100, perMinute: 100 } });
    taro = await server.login('R0001');
  });
  after(async () => {
    await server?.close();
  });

  it('pairs: the PC sees the label and the code the phone derives from its key, confirms, and lists the phone with its last contact', async () => {
    phone = new TestPhone(server);
    const { pairingId, secret, url } = await startPairing(server, taro);
    assert.equal(url.pathname, '/phone/');
    assert.equal(url.hostname, 'localhost');
    const waiting = pairingStateSchema.parse((await server.http('GET', `/api/v1/phones/pairings/${pairingId}`, { bearer: taro.token })).json);
    assert.equal(waiting.status, 'waiting');
    const reg = await phone.register(secret);
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.json.status, 'awaiting_confirmation');

    // Registered but not confirmed: the phone's socket is admitted, shows the code, and gets nothing else.
    phoneSocket = await server.deviceSocket(phone.device);
    const awaiting = await phoneSocket.next('phone-state');
    assert.equal(awaiting.status, 'awaiting_confirmation');
    assert.deepEqual(awaiting.receipts, []);

    const state = pairingStateSchema.parse((await server.http('GET', `/api/v1/phones/pairings/${pairingId}`, { bearer: taro.token })).json);
    assert.equal(state.status, 'registered');
    assert.equal(state.phone?.label, 'テスト電話');
    assert.equal(state.phone?.code, await phoneKeyCode(Buffer.from(phone.device.publicKeyBase64, 'base64')));

    const app = await server.apply(taro);
    const confirmed = await server.http('POST', `/api/v1/phones/pairings/${pairingId}/confirm`, { bearer: taro.token });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.json.status, 'confirmed');
    const active = await phoneSocket.next('phone-state', (m) => m.status === 'active');
    assert.ok(
      active.receipts.some((r: { receiptNumber: string }) => r.receiptNumber === app.receiptNumber),
      'the phone carries the open receipt',
    );
    assert.match(active.vapidPublicKey, /^[A-Za-z0-9_-]{87}$/);

    const list = pairedPhonesResponseSchema.parse((await server.http('GET', '/api/v1/phones', { bearer: taro.token })).json);
    assert.equal(list.phones.length, 1);
    assert.ok(list.phones[0]!.lastSeenAt, 'last seen is recorded');
    assert.ok(Date.parse(list.phones[0]!.expiresAt) - Date.now() > 364 * 24 * 3600_000, 'trusted for a year by default');

    const renamed = await server.http('PATCH', `/api/v1/phones/${phone.phoneId}`, { bearer: taro.token, json: { label: '太郎のスマホ' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((await phoneSocket.next('phone-state', (m) => m.label === '太郎のスマホ')).status, 'active');

    const audit = await server.query<{ event: string }>(`SELECT event FROM audit_log WHERE event LIKE 'phone.%' ORDER BY seq`);
    assert.deepEqual(
      audit.map((a) => a.event),
      ['phone.pairing.start', 'phone.pairing.claimed', 'phone.registered', 'phone.paired', 'phone.rename'],
    );
  });

  it('a request goes to the PC and the phone; the phone approves with its passkey (user verified) and the PC is told it is closed', async () => {
    pc = await server.deviceSocket(taro.device);
    const app = await server.apply(taro);
    const { issuance, requestId } = await claimAndWait(app, pc, phoneSocket);
    phoneSocket.send(phone.approval(requestId));
    const status = await server.kioskStatus(0, issuance.issuanceId, 5000);
    assert.equal(status.json.status, 'approved', status.text);
    assert.equal((await pc.next('print-confirmation-closed', (m) => m.requestId === requestId)).status, 'approved');
    assert.equal((await phoneSocket.next('print-confirmation-closed', (m) => m.requestId === requestId)).status, 'approved');
    // The PC's answer after the phone's: the request is no longer open.
    pc.send(taro.device.response(requestId, false));
    assert.equal((await pc.next('error', (m) => m.requestId === requestId)).code, 'invalid_state');
    const audit = await server.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE event = 'phone.approve' AND subject = ?`, [issuance.issuanceId]);
    assert.deepEqual(
      audit.map((a) => a.actor),
      [`phone:${phone.phoneId}`],
    );
    await server.kioskAbandon(0, issuance.issuanceId);
  });

  it('the PC answers first: the phone gets print-confirmation-closed, and its approval afterwards is refused', async () => {
    const app = await server.apply(taro);
    const { issuance, requestId } = await claimAndWait(app, pc, phoneSocket);
    pc.send(taro.device.response(requestId, true));
    assert.equal((await phoneSocket.next('print-confirmation-closed', (m) => m.requestId === requestId)).status, 'approved');
    phoneSocket.send(phone.approval(requestId));
    assert.equal((await phoneSocket.next('error', (m) => m.requestId === requestId)).code, 'invalid_state');
    await server.kioskAbandon(0, issuance.issuanceId);
  });

  it('Decline needs no passkey; Approve without one, without user verification, replayed, for another decision, origin or RP ID is refused', async () => {
    const app = await server.apply(taro);
    const { issuance, requestId } = await claimAndWait(app, pc, phoneSocket);
    const refusedWith = async (msg: Record<string, unknown>, code: string) => {
      phoneSocket.send(msg);
      assert.equal((await phoneSocket.next('error', (m) => m.requestId === requestId)).code, code, JSON.stringify(msg).slice(0, 80));
    };
    await refusedWith(phone.device.response(requestId, true), 'passkey_required');
    await refusedWith(phone.approval(requestId, { userVerified: false }), 'user_verification_required');
    await refusedWith(phone.approval(requestId, {}, passkeyApprovalChallenge('another-request')), 'passkey_invalid');
    await refusedWith(phone.approval(requestId, {}, encoder.encode(['jp-cert-issuance/passkey-approve/v1', requestId, 'decline'].join('\n'))), 'passkey_invalid');
    await refusedWith(phone.approval(requestId, { origin: 'https://evil.example' }), 'passkey_invalid');
    await refusedWith(phone.approval(requestId, { rpId: 'evil.example' }), 'passkey_invalid');
    await refusedWith(phone.approval(requestId, { counter: 1 }), 'passkey_invalid');
    // An assertion of an earlier request, replayed for this one.
    assert.equal((await server.kioskStatus(0, issuance.issuanceId)).json.status, 'confirmation_pending', 'nothing above approved it');
    phoneSocket.send(phone.device.response(requestId, false));
    assert.equal((await server.kioskStatus(0, issuance.issuanceId, 5000, '&since=confirmation_pending')).json.status, 'declined');
    assert.equal((await pc.next('print-confirmation-closed', (m) => m.requestId === requestId)).status, 'declined');
  });

  it('an assertion made for one request cannot approve another', async () => {
    const app = await server.apply(taro);
    const first = await claimAndWait(app, pc, phoneSocket);
    const stolen = phone.passkey.assert(passkeyApprovalChallenge(first.requestId));
    phoneSocket.send(phone.device.response(first.requestId, false));
    await phoneSocket.next('print-confirmation-closed', (m) => m.requestId === first.requestId);
    await server.kioskAbandon(0, first.issuance.issuanceId).catch(() => undefined);
    const second = await claimAndWait(app, pc, phoneSocket);
    phoneSocket.send({ ...phone.device.response(second.requestId, true), assertion: stolen });
    assert.equal((await phoneSocket.next('error', (m) => m.requestId === second.requestId)).code, 'passkey_invalid');
    await server.kioskAbandon(0, second.issuance.issuanceId);
  });

  it('pairing secrets: reused, expired, unknown, or raced by a second phone — only one phone ever registers', async () => {
    const { secret } = await startPairing(server, taro);
    const [a, b] = [new TestPhone(server), new TestPhone(server)];
    const raced = await Promise.all([a.options(secret), b.options(secret)]);
    assert.deepEqual(raced.map((r) => r.status).sort(), [200, 401], 'exactly one phone claims the secret');
    const winner = raced[0]!.status === 200 ? a : b;
    const loser = winner === a ? b : a;
    assertError(await loser.options(secret), 401, 'pairing_invalid', 'the secret is single use');
    // The loser cannot register with the pairing either (its key did not claim it).
    const options = registrationOptionsResponseSchema.parse(raced.find((r) => r.status === 200)!.json);
    loser.passkey = new SoftPasskey(loser.origin, 'localhost');
    const hijack = await server.http('POST', '/api/v1/phone/registration', {
      json: { pairingId: options.pairingId, secret, credential: loser.passkey.register(options.options.challenge), signature: loser.device.sign(phonePairingSignedText(options.pairingId, options.options.challenge)) },
    });
    assertError(hijack, 401, 'signature_invalid', 'another key than the claiming one');

    assertError(await new TestPhone(server).options('A'.repeat(43)), 401, 'pairing_invalid', 'unknown secret');
    const late = await startPairing(server, taro);
    server.advance(5 * 60_000 + 1);
    try {
      assertError(await new TestPhone(server).options(late.secret), 401, 'pairing_invalid', 'expired secret');
    } finally {
      server.advance(-(5 * 60_000 + 1));
    }
  });

  it('a passkey made without user verification is refused at registration; pairing needs a card session', async () => {
    const { secret } = await startPairing(server, taro);
    assertError(await new TestPhone(server).register(secret, { userVerified: false }), 401, 'user_verification_required');
    assertError(await server.http('POST', '/api/v1/phones/pairings'), 401, 'session_invalid');
    const other = await startPairing(server, taro);
    assertError(await new TestPhone(server).register(other.secret, { origin: 'https://evil.example' }), 401, 'passkey_invalid');
  });

  it('an unconfirmed phone gets no request and cannot approve', async () => {
    const p = new TestPhone(server);
    const { secret } = await startPairing(server, taro);
    assert.equal((await p.register(secret)).status, 201);
    const sock = await server.deviceSocket(p.device);
    assert.equal((await sock.next('phone-state')).status, 'awaiting_confirmation');
    const app = await server.apply(taro);
    const { issuance, requestId } = await claimAndWait(app, pc);
    sock.send(p.approval(requestId));
    assert.equal((await sock.next('error', (m) => m.requestId === requestId)).code, 'not_found');
    await sock.assertNone(p.device, 'print-confirmation-request');
    await server.kioskAbandon(0, issuance.issuanceId);
  });

  it("another resident's phone, even paired on the same PC, sees and answers nothing of this resident's", async () => {
    const hanako = await server.login('R0002', taro.device);
    const hanakoPhone = await pairPhone(server, hanako);
    const sock = await server.deviceSocket(hanakoPhone.device);
    const state = await sock.next('phone-state', (m) => m.status === 'active');
    const app = await server.apply(taro);
    assert.ok(!state.receipts.some((r: { applicationId: string }) => r.applicationId === app.applicationId));
    const { issuance, requestId } = await claimAndWait(app, pc, phoneSocket);
    sock.send(hanakoPhone.approval(requestId));
    assert.equal((await sock.next('error', (m) => m.requestId === requestId)).code, 'not_found');
    await sock.assertNone(hanakoPhone.device, 'print-confirmation-request');
    await server.kioskAbandon(0, issuance.issuanceId);
  });

  it('a removed phone is disconnected, refused when it comes back, and its answers count for nothing', async () => {
    const p = await pairPhone(server, taro);
    const sock = await server.deviceSocket(p.device);
    await sock.next('phone-state', (m) => m.status === 'active');
    const app = await server.apply(taro);
    const { issuance, requestId } = await claimAndWait(app, pc, sock);
    const removed = await server.http('DELETE', `/api/v1/phones/${p.phoneId}`, { bearer: taro.token });
    assert.equal(removed.status, 200, removed.text);
    assert.equal((await sock.next('error')).code, 'device_removed');
    await sock.waitClosed();
    const again = await server.socket();
    again.send(p.device.authenticateMessage((await again.next('hello')).nonce));
    assert.equal((await again.next('error')).code, 'device_removed');
    assert.equal((await server.kioskStatus(0, issuance.issuanceId)).json.status, 'confirmation_pending');
    assert.ok(requestId);
    const audit = await server.query<{ subject: string }>(`SELECT subject FROM audit_log WHERE event = 'phone.removed'`);
    assert.ok(audit.some((a) => a.subject === p.phoneId));
    await server.kioskAbandon(0, issuance.issuanceId);
  });

  it('a phone stops working when the card certificate is revoked, and when it expires', async () => {
    const jiro = await server.login('R0003');
    const p = await pairPhone(server, jiro);
    const phoneRow = (await server.query<{ card_anchor_sha256: string; card_serial: string }>('SELECT card_anchor_sha256, card_serial FROM phones WHERE id = ?', [p.phoneId]))[0]!;
    await server.execute('INSERT INTO revoked_serials (anchor_sha256, serial) VALUES (?, ?)', [phoneRow.card_anchor_sha256, phoneRow.card_serial]);
    try {
      const s = await server.socket();
      s.send(p.device.authenticateMessage((await s.next('hello')).nonce));
      assert.equal((await s.next('error')).code, 'device_removed');
    } finally {
      await server.execute('DELETE FROM revoked_serials WHERE anchor_sha256 = ? AND serial = ?', [phoneRow.card_anchor_sha256, phoneRow.card_serial]);
    }
    server.advance(366 * 24 * 3600_000);
    try {
      const s = await server.socket();
      s.send(p.device.authenticateMessage((await s.next('hello')).nonce));
      assert.equal((await s.next('error')).code, 'device_removed');
    } finally {
      server.advance(-366 * 24 * 3600_000);
    }
  });

  it('serves the web app under /phone/ with a strict CSP, and nothing but its files', async () => {
    const page = await server.http('GET', '/phone/');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const part of ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) assert.ok(csp.includes(part), `${part} in ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!localhost)/);
    for (const file of ['app.js', 'sw.js', 'manifest.webmanifest', 'styles.css', 'icon.svg']) assert.equal((await server.http('GET', `/phone/${file}`)).status, 200, file);
    const script = await fetch(new URL('/phone/app.js', server.url), { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(script.headers.get('content-encoding'), 'gzip');
    assert.ok(Number(script.headers.get('content-length')) < 200_000, `the script travels compressed: ${script.headers.get('content-length')} bytes`);
    assert.match(await script.text(), /passkey-approve/);
    const manifest = JSON.parse((await server.http('GET', '/phone/manifest.webmanifest')).text);
    assert.equal(manifest.scope, '/phone/');
    assertError(await server.http('GET', '/phone/secrets.json'), 404, 'not_found');
    assert.equal((await server.http('GET', '/phone')).status, 200, 'the bare path redirects to the app');
  });
});

describe('paired phones: rate limits on pairing and registration', function () {
  this.timeout(60_000);
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ pairingRateLimit: { burst: 2, perMinute: 1 }, phoneRegistrationRateLimit: { burst: 3, perMinute: 1 } });
  });
  after(async () => {
    await server?.close();
  });

  it('refuses a third pairing in a row and a fourth registration call from one address with 429 and Retry-After', async () => {
    const who = await server.login('R0001');
    await startPairing(server, who);
    await startPairing(server, who);
    const third = await server.http('POST', '/api/v1/phones/pairings', { bearer: who.token });
    assertError(third, 429, 'rate_limited');
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    const p = new TestPhone(server);
    for (let i = 0; i < 3; i++) assertError(await p.options('B'.repeat(43)), 401, 'pairing_invalid');
    assertError(await p.options('B'.repeat(43)), 429, 'rate_limited');
  });
});
