// Web Push from the server to a paired phone whose page is closed, received by a local push
// service on 127.0.0.1 that does what a real one does: it checks the VAPID JWT (RFC 8292) against
// the key in the Authorization header and the endpoint's origin, and the phone's side decrypts the
// aes128gcm payload (RFC 8188/8291) with the subscription's keys. Real crypto on both sides.
import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TestServer, testPki, type TestSocket } from './harness.ts';
import { pairPhone, type TestPhone } from './phone-helpers.ts';

interface Delivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8291 decryption with the user agent's keys: ECDH, HKDF with the auth secret, AES-128-GCM, padding removed. */
function decryptAes128gcm(body: Buffer, uaPrivate: ReturnType<typeof createECDH>, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const asPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const ecdhSecret = uaPrivate.computeSecret(asPublic);
  const uaPublic = uaPrivate.getPublicKey();
  const prkKey = hmac(authSecret, ecdhSecret);
  const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.concat([Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])])).subarray(0, 16);
  const nonce = hmac(prk, Buffer.concat([Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])])).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(-16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  const end = plain.lastIndexOf(2);
  assert.ok(end >= 0 && plain.subarray(end + 1).every((b) => b === 0), 'record delimiter and padding');
  return plain.subarray(0, end);
}

/** Checks `Authorization: vapid t=<JWT>, k=<key>` as a push service does; returns the JWT claims. */
function verifyVapid(header: string | undefined, endpointOrigin: string): { aud: string; exp: number; sub: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  assert.ok(m, `a VAPID Authorization header: ${header}`);
  const [jwt, k] = [m[1]!, m[2]!];
  const [h, p, s] = jwt.split('.') as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { typ: 'JWT', alg: 'ES256' });
  const raw = Buffer.from(k, 'base64url');
  assert.equal(raw.length, 65);
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')), 'the JWT signature verifies with k');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; exp: number; sub: string };
  assert.equal(claims.aud, endpointOrigin);
  const now = Date.now() / 1000;
  assert.ok(claims.exp > now && claims.exp <= now + 24 * 3600, 'exp within 24 h');
  assert.match(claims.sub, /^(mailto:|https:)/);
  return claims;
}

describe('Web Push to a paired phone with its page closed (a local push service, real VAPID and RFC 8291)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  const waiters: (() => void)[] = [];
  let status = 201;

  const nextDelivery = (count: number) =>
    new Promise<Delivery>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no push #${count} within 10 s`)), 10_000);
      const check = () => {
        if (deliveries.length >= count) {
          clearTimeout(timer);
          resolve(deliveries[count - 1]!);
        } else waiters.push(check);
      };
      check();
    });

  before(async () => {
    const pki = await testPki();
    // A push service speaks TLS: the test PKI's server certificate, its CA given to the server as an extra anchor.
    receiver = createServer({ cert: readFileSync(pki.tls.cert), key: readFileSync(pki.tls.key) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(status).end();
        for (const w of waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `https://localhost:${(receiver.address() as AddressInfo).port}`;
    server = await TestServer.start({ pushCaPath: pki.tls.ca });
  });
  after(async () => {
    await server?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('pushes only to a phone without a live page, with no personal data, and forgets a subscription the push service calls gone', async () => {
    const taro = await server.login('R0001');
    const phone: TestPhone = await pairPhone(server, taro);
    const ua = createECDH('prime256v1');
    ua.generateKeys();
    const auth = randomBytes(16);
    const endpoint = `${receiverUrl}/push/${randomBytes(8).toString('hex')}`;
    let sock: TestSocket = await server.deviceSocket(phone.device);
    await sock.next('phone-state', (m) => m.status === 'active');
    sock.send({ type: 'push-subscription', subscription: { endpoint: 'http://push.example.com/x', keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } } });
    assert.equal((await sock.next('error')).code, 'invalid_message', 'a plain-http endpoint is refused');
    sock.send({ type: 'push-subscription', subscription: { endpoint, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } } });
    await sock.assertNone(phone.device, 'error');

    // Page open: the request arrives on the socket, and no push is sent for it.
    const first = await server.apply(taro);
    const open = await server.claim(0, first.receiptNumber);
    await sock.next('print-confirmation-request', (m) => m.applicationId === first.applicationId);
    await server.kioskAbandon(0, open.issuanceId);

    // Page closed: the next request is pushed.
    sock.terminate();
    await sock.closed;
    const second = await server.apply(taro);
    const closed = await server.claim(0, second.receiptNumber);
    const push = await nextDelivery(1);
    assert.equal(deliveries.length, 1, 'the request with the page open was not pushed');
    assert.equal(push.path, new URL(endpoint).pathname);
    assert.equal(push.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(push.headers.ttl) > 0 && Number(push.headers.ttl) <= 120, `TTL bounded by the confirmation timeout: ${push.headers.ttl}`);
    verifyVapid(push.headers.authorization as string, receiverUrl);
    const payload = decryptAes128gcm(push.body, ua, auth).toString('utf8');
    assert.deepEqual(JSON.parse(payload), { kind: 'print-confirmation' });
    for (const secret of [second.receiptNumber, closed.issuanceId, '山田', 'juminhyo']) assert.ok(!payload.includes(secret), `no ${secret} in the payload`);

    // The notification opens the page: the socket sends the waiting request at once.
    sock = await server.deviceSocket(phone.device);
    await sock.next('print-confirmation-request', (m) => m.applicationId === second.applicationId);
    sock.terminate();
    await server.kioskAbandon(0, closed.issuanceId);

    // The push service says the subscription is gone: the server forgets it.
    status = 410;
    const third = await server.claim(0, second.receiptNumber);
    await nextDelivery(2);
    const deadline = Date.now() + 5000;
    while ((await server.query<{ push_endpoint: string | null }>('SELECT push_endpoint FROM phones WHERE id = ?', [phone.phoneId]))[0]!.push_endpoint !== null) {
      assert.ok(Date.now() < deadline, 'the gone subscription is forgotten');
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.kioskAbandon(0, third.issuanceId);
  });

  it('keeps the VAPID key pair in the data directory, made at init and kept across restarts', async () => {
    const rows = await server.query<{ public_der: Buffer }>(`SELECT public_der FROM server_keys WHERE purpose = 'vapid'`);
    assert.equal(rows.length, 1);
    const vapid = (await server.server.context.phones.push.vapidKeys()).publicKey;
    assert.equal(createPublicKey({ key: rows[0]!.public_der, format: 'der', type: 'spki' }).export({ format: 'jwk' }).x, Buffer.from(vapid, 'base64url').subarray(1, 33).toString('base64url'));
  });
});
